// Accepts Kafka clients on one listener (with its security: TLS, SASL) and runs their connections on the event
// loop.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <list>
#include <memory>
#include <string>

#include "server/connection.h"
#include "server/event_loop.h"

namespace fjord::server {

class Server {
 public:
  Server(EventLoop& loop, ServerContext& context, const HandlerRegistry& registry, ConnectionLimits limits,
         security::ListenerSecurity listener = {});
  // Binds and listens; throws std::system_error when the address is taken. Port 0 picks a free port.
  void listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  const security::ListenerSecurity& listener() const { return *listener_; }
  void stop();

 private:
  void accept();
  // Closes the connections idle longer than the listener's connections.max.idle.ms, then waits for the next sweep.
  void sweep_idle();
  ServerContext& context_;
  const HandlerRegistry& registry_;
  ConnectionLimits limits_;
  std::shared_ptr<const security::ListenerSecurity> listener_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::list<std::weak_ptr<Connection>> connections_;
  uint64_t accepted_ = 0;
  asio::steady_timer idle_sweep_;
};

}  // namespace fjord::server
