// A connection from this broker to another broker's inter-broker listener, for the requests brokers send each
// other (a follower's fetches, transaction markers): connected once, then one request at a time, each answered by
// one response frame. The plaintext kind is here; the kind that speaks TLS and SASL first is the server layer's
// (server/security/secured_broker_link.h), chosen by the inter-broker listener's security protocol and handed in
// as a factory, so that this layer needs no knowledge of either.
//
// Completions run on the io_context. A link outlives its pending operations (they hold it); close() makes every
// pending one complete with an error.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fjord::cluster {

class BrokerLink {
 public:
  // nullopt on success, else why not.
  using Connected = std::function<void(std::optional<std::string> error)>;
  // The response frame without its size prefix (correlation id first), or why none came.
  using Answered = std::function<void(std::optional<std::string> error, std::vector<uint8_t> response)>;

  virtual ~BrokerLink() = default;
  virtual void connect(const std::string& host, int32_t port, Connected done) = 0;
  // Sends `request` (size-prefixed) and reads one response of at most `max_response_bytes`.
  virtual void exchange(std::vector<uint8_t> request, size_t max_response_bytes, Answered done) = 0;
  virtual void close() = 0;
};

using BrokerLinkFactory = std::function<std::shared_ptr<BrokerLink>(asio::io_context&)>;

// TCP with nothing in front: for a PLAINTEXT inter-broker listener.
std::shared_ptr<BrokerLink> plaintext_broker_link(asio::io_context& io);

// Resolves `host` and connects `socket` to it, with TCP_NODELAY; `done` gets why not, or nullopt. What `done`
// holds must keep the socket alive until it runs.
void connect_socket(asio::ip::tcp::socket& socket, const std::string& host, int32_t port, BrokerLink::Connected done);

}  // namespace fjord::cluster
