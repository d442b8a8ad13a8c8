// Kafka's replication throttles (KIP-73), which keep a replica that is catching up — one a reassignment added, or
// one back from a long absence — from taking all of a broker's bandwidth:
// - a topic's leader.replication.throttled.replicas and follower.replication.throttled.replicas list the replicas
//   ("PARTITION:BROKER,...", or "*" for all) whose traffic counts, on the leader's side and the follower's side;
// - a broker's leader.replication.throttled.rate and follower.replication.throttled.rate (bytes per second) cap
//   that traffic: the leader returns nothing more for throttled partitions once its budget is spent, and the
//   follower stops asking for them.
// Only replicas outside the ISR are throttled, as in Kafka: a replica in sync keeps up whatever the settings.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "model/clock.h"

namespace fjord::cluster {

// Whether `list` (a throttled-replicas setting) names `partition` on `broker`.
bool names_replica(std::string_view list, int32_t partition, int32_t broker);
// nullopt when `list` is a valid throttled-replicas setting, else what is wrong with it.
std::optional<std::string> invalid_throttled_replicas(std::string_view list);

// Bytes per second with a burst of one second's worth, refilled continuously. A transfer may overdraw it; the
// next ones wait until it is paid back, so the rate holds on average.
class RateBudget {
 public:
  static constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();
  explicit RateBudget(const Clock& clock) : clock_(clock) {}
  // Whether nothing may be sent now at `rate` bytes per second.
  bool spent(int64_t rate);
  void record(int64_t bytes, int64_t rate);

 private:
  void refill(int64_t rate);
  const Clock& clock_;
  double available_ = 0;
  int64_t refilled_at_ms_ = -1;
};

}  // namespace fjord::cluster
