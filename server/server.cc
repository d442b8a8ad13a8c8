#include "server/server.h"

#include <spdlog/spdlog.h>

namespace fjord::server {

Server::Server(EventLoop& loop, ServerContext& context, const HandlerRegistry& registry, ConnectionLimits limits,
               security::ListenerSecurity listener)
    : context_(context),
      registry_(registry),
      limits_(limits),
      listener_(std::make_shared<const security::ListenerSecurity>(std::move(listener))),
      acceptor_(loop.context()),
      idle_sweep_(loop.context()) {}

void Server::listen(const std::string& host, uint16_t port) {
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(host), port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  accept();
  if (listener_->max_idle_ms > 0) sweep_idle();
}

void Server::sweep_idle() {
  const auto limit = std::chrono::milliseconds(listener_->max_idle_ms);
  const auto now = std::chrono::steady_clock::now();
  connections_.remove_if([&](const std::weak_ptr<Connection>& weak) {
    auto connection = weak.lock();
    if (!connection || connection->closed()) return true;
    if (!connection->idle_for(limit, now)) return false;
    spdlog::debug("closing {}: idle for {} ms (connections.max.idle.ms)", connection->peer(), limit.count());
    connection->close("idle");
    return true;
  });
  // A tenth of the limit, so that a connection is closed at most 10% late; not more often than every 100 ms.
  idle_sweep_.expires_after(std::max(std::chrono::milliseconds(100), limit / 10));
  idle_sweep_.async_wait([this](const std::error_code& error) {
    if (!error) sweep_idle();
  });
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
  idle_sweep_.cancel();
  for (auto& weak : connections_) {
    if (auto connection = weak.lock()) connection->close("broker stopping");
  }
  connections_.clear();
}

}  // namespace fjord::server
