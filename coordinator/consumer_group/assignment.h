// What the next-generation consumer group protocol (KIP-848) moves around: partitions by topic id, as the
// ConsumerGroupHeartbeat exchange names them, and the members an assignor divides them among.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/codec_runtime.h"

namespace fjord::coordinator::consumer {

using TopicId = protocol::Uuid;
struct TopicIdLess {
  bool operator()(const TopicId& a, const TopicId& b) const { return a.bytes < b.bytes; }
};

// Partitions by topic: what a member owns, or is meant to own.
using Assignment = std::map<TopicId, std::set<int32_t>, TopicIdLess>;
// Partition by topic -> the member epoch at which the partition became the member's (its assignment epoch).
using PartitionEpochs = std::map<TopicId, std::map<int32_t, int32_t>, TopicIdLess>;

size_t partition_count(const Assignment& assignment);
bool contains(const Assignment& assignment, const TopicId& topic, int32_t partition);
// The partitions of `a` that are not in `b`.
Assignment minus(const Assignment& a, const Assignment& b);
// "topic-0, topic-1, other-3", with names from `names` (ids it lacks are shown as ids).
std::string describe(const Assignment& assignment, const std::map<TopicId, std::string, TopicIdLess>& names);

// A topic a group subscribes to, as the cluster knows it now.
struct TopicMetadata {
  TopicId id;
  std::string name;
  int32_t partitions = 0;
  bool operator==(const TopicMetadata&) const = default;
};

}  // namespace fjord::coordinator::consumer
