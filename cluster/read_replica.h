// Fetching from the closest replica (KIP-392): a consumer that names its rack (client.rack, sent as the Fetch
// rack id from v11) may be sent by the leader to an in-sync follower in that rack, and then reads from it — up to
// the follower's high watermark, so it sees nothing a consumer of the leader would not. The leader chooses as
// Kafka's RackAwareReplicaSelector does, when `replica.selector.class` names it (by default nobody is redirected).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "cluster/controller.h"

namespace fjord::cluster {

inline constexpr std::string_view kRackAwareReplicaSelector =
    "org.apache.kafka.common.replica.RackAwareReplicaSelector";

struct ReadCandidate {
  int32_t node = -1;
  int64_t log_end_offset = 0;
};

// The replica a consumer in `client_rack` should read from: the leader when the consumer names no rack, when the
// leader is in its rack, or when no candidate is; else the candidate in its rack with the most of the log (the
// lowest id among equals). `candidates` are the in-sync followers that hold the offset the consumer asks for.
int32_t select_read_replica(std::string_view client_rack, int32_t leader, const BrokerRacks& racks,
                            const std::vector<ReadCandidate>& candidates);

}  // namespace fjord::cluster
