// The topics a consumer-protocol group's subscriptions resolve against: the cluster's metadata as this broker
// has it. Internal topics (__consumer_offsets, __transaction_state) are never subscribed to by a regex.
#pragma once

#include "cluster/partition_manager.h"
#include "coordinator/consumer_group/consumer_group.h"

namespace fjord::coordinator {

class ClusterTopicCatalog final : public consumer::TopicCatalog {
 public:
  explicit ClusterTopicCatalog(const cluster::PartitionManager& partitions) : partitions_(partitions) {}
  std::optional<consumer::TopicMetadata> by_name(const std::string& name) const override;
  std::vector<consumer::TopicMetadata> all() const override;
  // A fingerprint of every topic's name, id and partition count: it changes when any of them does.
  uint64_t version() const override;

 private:
  const cluster::PartitionManager& partitions_;
};

}  // namespace fjord::coordinator
