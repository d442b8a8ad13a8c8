// `fjord dev --brokers N --rolling-restart`: the rolling restart operators do for an upgrade, shown on the local
// cluster under load. Each broker in turn is stopped with SIGTERM (its controlled shutdown hands its leaderships
// to in-sync replicas first), started again, and the next one is stopped only once every partition is back in
// sync under its preferred leader. Meanwhile an idempotent acks=all producer writes and a consumer group reads
// and commits after processing, both with librdkafka as an application would.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace fjord::cli {

struct RestartableBroker {
  int node_id = 0;
  std::function<void()> stop;   // SIGTERM, and waits for the process to end
  std::function<bool()> start;  // starts it again with the same data; false when it does not come up
  std::string log_path;         // where its log goes (the controlled shutdown reports there)
};

// True when the producer surfaced no error, the group read every acknowledged record exactly once, and the
// cluster was fully in sync under its preferred leaders after each restart. Prints its progress to stdout.
bool run_rolling_restart(const std::string& bootstrap_servers, std::vector<RestartableBroker>& brokers);

}  // namespace fjord::cli
