// The brokers of a cluster as this broker sees them: who is registered now, where each takes clients, and which
// one is the controller. A single node is a cluster of itself.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fjord::cluster {

struct ListenerEndpoint {
  std::string host;
  int32_t port = 0;
  bool operator==(const ListenerEndpoint&) const = default;
};

struct BrokerEndpoint {
  int32_t node_id = -1;
  std::string host;  // host and port: the inter-broker listener's, as advertised
  int32_t port = 0;
  std::optional<std::string> rack;
  // Every listener's advertised address, by listener name: a client is told the addresses of the listener it
  // connected to (empty from a broker that registered before listeners were named).
  std::map<std::string, ListenerEndpoint> listeners;
  bool operator==(const BrokerEndpoint&) const = default;

  // This broker as a client of `listener` must reach it.
  BrokerEndpoint on_listener(const std::string& listener) const {
    BrokerEndpoint out = *this;
    if (auto it = listeners.find(listener); it != listeners.end()) {
      out.host = it->second.host;
      out.port = it->second.port;
    }
    return out;
  }
};

class Membership {
 public:
  virtual ~Membership() = default;
  // Registered (alive) brokers, ascending by node id.
  virtual std::vector<BrokerEndpoint> live_brokers() const = 0;
  virtual std::optional<BrokerEndpoint> endpoint_of(int32_t node_id) const {
    for (const auto& b : live_brokers()) {
      if (b.node_id == node_id) return b;
    }
    return std::nullopt;
  }
  // -1 while none is elected.
  virtual int32_t controller_id() const = 0;
};

}  // namespace fjord::cluster
