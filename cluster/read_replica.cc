#include "cluster/read_replica.h"

namespace fjord::cluster {

int32_t select_read_replica(std::string_view client_rack, int32_t leader, const BrokerRacks& racks,
                            const std::vector<ReadCandidate>& candidates) {
  if (client_rack.empty()) return leader;
  auto in_client_rack = [&](int32_t node) {
    auto it = racks.find(node);
    return it != racks.end() && it->second == client_rack;
  };
  if (in_client_rack(leader)) return leader;
  const ReadCandidate* best = nullptr;
  for (const auto& c : candidates) {
    if (!in_client_rack(c.node)) continue;
    if (!best || c.log_end_offset > best->log_end_offset ||
        (c.log_end_offset == best->log_end_offset && c.node < best->node)) {
      best = &c;
    }
  }
  return best ? best->node : leader;
}

}  // namespace fjord::cluster
