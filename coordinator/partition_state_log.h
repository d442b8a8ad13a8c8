// StateLog over the broker's own partitions: an internal topic (__consumer_offsets, __transaction_state), created
// the first time its coordinator needs it (its NAME.num.partitions partitions, compacted as in Kafka, its
// NAME.replication.factor replicas in a cluster), written like any acks=all produce and read back when its
// partitions are loaded: the loop only locates the batches, an I/O thread reads and decodes them, a few MB at a
// time.
#pragma once

#include "cluster/partition_manager.h"
#include "coordinator/state_log.h"
#include "model/clock.h"
#include "model/executor.h"
#include "storage/io_pool.h"

namespace fjord::coordinator {

// An internal topic and the broker settings that shape it.
struct StateTopic {
  std::string name;
  std::string partitions_setting;
  std::string replication_setting;
  std::string segment_bytes_setting;
  std::string min_isr_setting;  // empty: the broker's min.insync.replicas
};
StateTopic offsets_state_topic();
StateTopic transaction_state_topic();

class PartitionStateLog final : public StateLog {
 public:
  PartitionStateLog(StateTopic topic, cluster::PartitionManager& partitions, const Clock& clock, storage::IoPool& io,
                    Executor& loop);

  int32_t partition_count() const override;
  bool ensure_partitions() override { return ensure_topic() == ErrorCode::kNone; }
  void append(int32_t partition, std::vector<Entry> entries, Done done) override;
  void append_transactional(int32_t partition, int64_t producer_id, int16_t producer_epoch, std::vector<Entry> entries,
                            Done done) override;
  void read_partition(int32_t partition, std::function<void(std::vector<Entry>)> chunk,
                      std::function<void(bool ok)> done) override;

 private:
  // kNone once the topic exists; else asks for it and answers COORDINATOR_NOT_AVAILABLE (clients retry).
  ErrorCode ensure_topic();

  void write(int32_t partition, std::vector<Entry> entries, const protocol::BatchBuildOptions& options, Done done);
  struct Reading;
  void read_next(std::shared_ptr<Reading> reading);

  StateTopic topic_;
  cluster::PartitionManager& partitions_;
  const Clock& clock_;
  storage::IoPool& io_;
  Executor& loop_;
};

}  // namespace fjord::coordinator
