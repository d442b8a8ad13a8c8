#include "server/server.h"

#include <spdlog/spdlog.h>

namespace fjord::server {

Server::Server(EventLoop& loop, ServerContext& context, const HandlerRegistry& registry, ConnectionLimits limits,
               security::ListenerSecurity listener)
    : context_(context),
      registry_(registry),
      limits_(limits),
      listener_(std::make_shared<const security::ListenerSecurity>(std::move(listener))),
      acceptor_(loop.context()) {}

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
    std::shared_ptr<Connection> connection;
    try {
      connection = std::make_shared<Connection>(std::move(socket), context_, registry_, limits_, listener_);
    } catch (const std::exception& e) {
      spdlog::error("cannot serve a connection on listener {}: {}", listener_->name, e.what());
      accept();
      return;
    }
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
