#include "coordinator/partition_marker_writer.h"

#include <memory>

namespace fjord::coordinator {

void PartitionMarkerWriter::write(const Marker& marker, const std::vector<TopicPartition>& partitions,
                                  std::function<void(std::map<TopicPartition, ErrorCode>)> done) {
  struct Writing {
    std::map<TopicPartition, ErrorCode> results;
    size_t outstanding = 1;
    std::function<void(std::map<TopicPartition, ErrorCode>)> done;
    void finish_one() {
      if (--outstanding == 0) done(std::move(results));
    }
  };
  auto writing = std::make_shared<Writing>();
  writing->done = std::move(done);
  const protocol::ControlMarker control{marker.commit ? protocol::ControlType::kCommit : protocol::ControlType::kAbort,
                                        marker.coordinator_epoch};
  for (const auto& tp : partitions) {
    cluster::Partition* partition = partitions_.partition(tp.topic, tp.partition);
    if (!partition) {
      const auto* topic = partitions_.topic(tp.topic);
      const bool exists = topic && tp.partition >= 0 && tp.partition < topic->partitions;
      writing->results[tp] = exists ? ErrorCode::kNotLeaderOrFollower : ErrorCode::kUnknownTopicOrPartition;
      continue;
    }
    ++writing->outstanding;
    partition->append_marker(marker.producer_id, marker.producer_epoch, control)
        .then([writing, tp, marker, on_written = on_written_](cluster::ProduceResult result) {
          writing->results[tp] = result.error;
          if (result.error == ErrorCode::kNone && on_written) on_written(tp, marker);
          writing->finish_one();
        });
  }
  writing->finish_one();
}

}  // namespace fjord::coordinator
