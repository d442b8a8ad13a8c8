// The error for a partition this broker does not host, as Kafka answers it: NOT_LEADER_OR_FOLLOWER when the
// cluster has the partition (the client's metadata is stale, say after a reassignment moved the partition away:
// the error makes it refresh and find the leader), UNKNOWN_TOPIC_OR_PARTITION when it does not exist (a client
// asking again for it would only be told the same).
#pragma once

#include <string>

#include "cluster/partition_manager.h"
#include "model/error_codes.h"

namespace fjord::server {

inline ErrorCode absent_partition_error(const cluster::PartitionManager& partitions, const std::string& topic,
                                        int32_t index) {
  // A broker closing its partitions hosts none: the client should look for the leader elsewhere.
  if (partitions.closing()) return ErrorCode::kNotLeaderOrFollower;
  const auto& topics = partitions.metadata().topics;
  auto found = topics.find(topic);
  if (found != topics.end() && index >= 0 && index < found->second.partitions) return ErrorCode::kNotLeaderOrFollower;
  return ErrorCode::kUnknownTopicOrPartition;
}

}  // namespace fjord::server
