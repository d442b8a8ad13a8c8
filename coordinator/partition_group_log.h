// GroupLog over the broker's own partitions: the internal __consumer_offsets topic, created the first time a
// group writes (offsets.topic.num.partitions partitions, compacted as in Kafka), written like any produce and
// read back at start.
#pragma once

#include "cluster/partition_manager.h"
#include "coordinator/group_log.h"
#include "model/clock.h"

namespace fjord::coordinator {

class PartitionGroupLog final : public GroupLog {
 public:
  PartitionGroupLog(cluster::PartitionManager& partitions, const Clock& clock);

  int32_t partition_count() const override;
  void append(int32_t partition, std::vector<Entry> entries, Done done) override;
  void replay(const std::function<void(const Entry&)>& visit) override;

 private:
  ErrorCode ensure_topic();

  cluster::PartitionManager& partitions_;
  const Clock& clock_;
};

}  // namespace fjord::coordinator
