// GroupLog over the broker's own partitions: the internal __consumer_offsets topic, created the first time a
// group needs it (offsets.topic.num.partitions partitions, compacted as in Kafka, offsets.topic.replication.factor
// replicas in a cluster), written like any acks=all produce and read back when its partitions are loaded.
#pragma once

#include "cluster/partition_manager.h"
#include "coordinator/group_log.h"
#include "model/clock.h"

namespace fjord::coordinator {

class PartitionGroupLog final : public GroupLog {
 public:
  PartitionGroupLog(cluster::PartitionManager& partitions, const Clock& clock);

  int32_t partition_count() const override;
  bool ensure_partitions() override { return ensure_topic() == ErrorCode::kNone; }
  void append(int32_t partition, std::vector<Entry> entries, Done done) override;
  void replay_partition(int32_t partition, const std::function<void(const Entry&)>& visit) override;

 private:
  // kNone once the topic exists; else asks for it and answers COORDINATOR_NOT_AVAILABLE (clients retry).
  ErrorCode ensure_topic();

  cluster::PartitionManager& partitions_;
  const Clock& clock_;
};

}  // namespace fjord::coordinator
