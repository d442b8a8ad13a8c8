#include "server/server.h"

#include <spdlog/spdlog.h>

namespace fjord::server {

Server::Server(EventLoop& loop, ServerContext& context, const HandlerRegistry& registry, ConnectionLimits limits)
    : context_(context), registry_(registry), limits_(limits), acceptor_(loop.context()) {}

void Server::listen(const std::string& host, uint16_t port) {
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(host), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  accept();
}

void Server::accept() {
  acceptor_.async_accept([this](std::error_code error, asio::ip::tcp::socket socket) {
    if (error) {
      if (error != asio::error::operation_aborted) {
        spdlog::warn("accept failed: {}", error.message());
        accept();
      }
      return;
    }
    auto connection = std::make_shared<Connection>(std::move(socket), context_, registry_, limits_);
    connection->start();
    // Forget closed connections now and then, not on every accept: with many clients that would be quadratic.
    if (++accepted_ % 1024 == 0) connections_.remove_if([](const auto& weak) { return weak.expired(); });
    connections_.push_back(connection);
    accept();
  });
}

void Server::stop() {
  std::error_code ignored;
  acceptor_.close(ignored);
  for (auto& weak : connections_) {
    if (auto connection = weak.lock()) connection->close("broker stopping");
  }
  connections_.clear();
}

}  // namespace fjord::server
