// `fjord topic reassign` and `fjord cluster drain`: moving replicas between brokers with Kafka's
// AlterPartitionReassignments (any cluster that serves it), optionally throttled with Kafka's replication
// throttles, which are removed again once the move is done.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fjord::cli {

struct ReassignOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic;                       // reassign
  std::vector<int32_t> brokers;            // reassign: every partition of the topic onto these
  int32_t partition = -1;                  // reassign: just this partition ...
  std::vector<int32_t> replicas;           // ... onto exactly these replicas
  bool cancel = false;                     // reassign: cancel the topic's moves in progress, remove the throttle
  int32_t drain_broker = -1;               // drain: the broker to move everything off
  int64_t throttle_bytes_per_second = -1;  // -1: not throttled
  bool wait = false;                       // wait until every move is done (and then remove the throttle)
  int wait_timeout_s = 3600;
};

int run_topic_reassign(const ReassignOptions& options);
int run_cluster_drain(const ReassignOptions& options);

}  // namespace fjord::cli
