// The brokers of a cluster as this broker sees them: who is registered now, where each takes clients, and which
// one is the controller. A single node is a cluster of itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fjord::cluster {

struct BrokerEndpoint {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
  bool operator==(const BrokerEndpoint&) const = default;
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
