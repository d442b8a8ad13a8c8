// MarkerWriter over this broker's own partitions: each marker is appended to the partition's log as a control
// batch, answered once every in-sync replica has it. A partition this broker does not lead answers
// NOT_LEADER_OR_FOLLOWER, which the coordinator retries. The WriteTxnMarkers handler writes through it too.
#pragma once

#include <functional>

#include "cluster/partition_manager.h"
#include "coordinator/transaction_coordinator.h"

namespace fjord::coordinator {

class PartitionMarkerWriter final : public MarkerWriter {
 public:
  // `on_written` hears of each marker written (the group coordinator applies or drops the offsets a transaction
  // committed in a __consumer_offsets partition).
  using Written = std::function<void(const TopicPartition&, const Marker&)>;
  PartitionMarkerWriter(cluster::PartitionManager& partitions, Written on_written)
      : partitions_(partitions), on_written_(std::move(on_written)) {}

  void write(const Marker& marker, const std::vector<TopicPartition>& partitions,
             std::function<void(std::map<TopicPartition, ErrorCode>)> done) override;

 private:
  cluster::PartitionManager& partitions_;
  Written on_written_;
};

}  // namespace fjord::coordinator
