#include "coordinator/partition_state_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "coordinator/offsets_records.h"
#include "coordinator/transaction_records.h"
#include "protocol/record_batch.h"
#include "storage/file_system.h"

namespace fjord::coordinator {

StateTopic offsets_state_topic() {
  return {kOffsetsTopic, "offsets.topic.num.partitions", "offsets.topic.replication.factor",
          "offsets.topic.segment.bytes"};
}

StateTopic transaction_state_topic() {
  return {kTransactionStateTopic, "transaction.state.log.num.partitions", "transaction.state.log.replication.factor",
          "transaction.state.log.segment.bytes", "transaction.state.log.min.isr"};
}

PartitionStateLog::PartitionStateLog(StateTopic topic, cluster::PartitionManager& partitions, const Clock& clock,
                                     storage::IoPool& io, Executor& loop)
    : topic_(std::move(topic)), partitions_(partitions), clock_(clock), io_(io), loop_(loop) {}

int32_t PartitionStateLog::partition_count() const {
  if (const auto* topic = partitions_.topic(topic_.name)) return topic->partitions;
  return static_cast<int32_t>(partitions_.settings().get_long(topic_.partitions_setting));
}

ErrorCode PartitionStateLog::ensure_topic() {
  if (partitions_.topic(topic_.name)) return ErrorCode::kNone;
  // Compacted, as Kafka makes it: retention never removes the state a coordinator still needs, and the cleaner
  // keeps only the latest record of each key (a group's commit of a partition, a transactional id's state), so a
  // reload reads a bounded amount whatever the history. The active segment is never cleaned: the segment size
  // bounds what a reload reads beyond that.
  cluster::ConfigMap configs = {{"cleanup.policy", "compact"},
                                {"segment.bytes", partitions_.settings().get(topic_.segment_bytes_setting)}};
  // A cluster keeps the topic on its replication-factor brokers and refuses (as Kafka does) until that many are
  // registered; a single node has only itself.
  const int16_t replication = partitions_.cluster_mode()
                                  ? static_cast<int16_t>(partitions_.settings().get_long(topic_.replication_setting))
                                  : int16_t{1};
  if (!topic_.min_isr_setting.empty()) {
    const int64_t min_isr = std::min<int64_t>(partitions_.settings().get_long(topic_.min_isr_setting), replication);
    configs["min.insync.replicas"] = std::to_string(std::max<int64_t>(min_isr, 1));
  }
  // On one node the metadata store answers before create_topic returns, so `result` is set on return. In a
  // cluster the answer comes later (etcd), after the controller has still to place the partitions: this request
  // gets COORDINATOR_NOT_AVAILABLE and the client's retry finds the topic.
  auto result = std::make_shared<ErrorCode>(ErrorCode::kCoordinatorNotAvailable);
  partitions_.create_topic(topic_.name, partition_count(), replication, configs, false,
                           [result, name = topic_.name](cluster::AdminResult r) {
                             *result = r.error == ErrorCode::kTopicAlreadyExists ? ErrorCode::kNone : r.error;
                             if (r.error != ErrorCode::kNone && r.error != ErrorCode::kTopicAlreadyExists) {
                               spdlog::warn("cannot create {} yet: {}", name, r.message);
                             }
                           });
  return *result == ErrorCode::kNone ? ErrorCode::kNone : ErrorCode::kCoordinatorNotAvailable;
}

void PartitionStateLog::append(int32_t partition, std::vector<Entry> entries, Done done) {
  write(partition, std::move(entries), protocol::BatchBuildOptions{}, std::move(done));
}

void PartitionStateLog::append_transactional(int32_t partition, int64_t producer_id, int16_t producer_epoch,
                                             std::vector<Entry> entries, Done done) {
  protocol::BatchBuildOptions options;
  options.producer_id = producer_id;
  options.producer_epoch = producer_epoch;
  options.transactional = true;  // no sequence: the coordinator writes it, not the producer
  write(partition, std::move(entries), options, std::move(done));
}

void PartitionStateLog::write(int32_t partition, std::vector<Entry> entries, const protocol::BatchBuildOptions& options,
                              Done done) {
  if (auto error = ensure_topic(); error != ErrorCode::kNone) return done(error);
  cluster::Partition* target = partitions_.partition(topic_.name, partition);
  if (!target) return done(ErrorCode::kCoordinatorNotAvailable);
  if (!target->is_leader()) return done(ErrorCode::kNotCoordinator);
  std::vector<protocol::Record> records(entries.size());
  const int64_t now = clock_.now_ms();
  for (size_t i = 0; i < entries.size(); ++i) {
    records[i].offset = static_cast<int64_t>(i);
    records[i].timestamp = now;
    records[i].key = std::move(entries[i].key);
    records[i].value = std::move(entries[i].value);
  }
  auto batch = std::make_shared<protocol::Bytes>(protocol::build_batch(records, options));
  target->append(std::span(*batch), -1, cluster::AppendOrigin::kCoordinator)
      .then([batch, name = topic_.name, done = std::move(done)](cluster::ProduceResult result) {
        if (result.error != ErrorCode::kNone) spdlog::error("cannot write to {}: {}", name, result.error_message);
        // Kafka's mapping of a failed write to what group clients understand: they look for the coordinator again.
        ErrorCode mapped = ErrorCode::kCoordinatorNotAvailable;
        if (result.error == ErrorCode::kNone) mapped = ErrorCode::kNone;
        if (result.error == ErrorCode::kNotLeaderOrFollower) mapped = ErrorCode::kNotCoordinator;
        done(mapped);
      });
}

struct PartitionStateLog::Reading {
  int32_t partition;
  int64_t next_offset;
  int64_t end_offset;  // the log end when the read began: what is appended later is this coordinator's own
  std::function<void(std::vector<Entry>)> chunk;
  std::function<void(bool)> done;
};

void PartitionStateLog::read_partition(int32_t index, std::function<void(std::vector<Entry>)> chunk,
                                       std::function<void(bool ok)> done) {
  cluster::Partition* partition = partitions_.partition(topic_.name, index);
  if (!partition) return done(true);  // not created yet: nothing to read
  auto reading =
      std::make_shared<Reading>(Reading{index, partition->log().log_start_offset(), partition->log().log_end_offset(),
                                        std::move(chunk), std::move(done)});
  read_next(std::move(reading));
}

void PartitionStateLog::read_next(std::shared_ptr<Reading> reading) {
  constexpr int64_t kChunkBytes = 8 << 20;
  cluster::Partition* partition = partitions_.partition(topic_.name, reading->partition);
  if (!partition) return reading->done(false);
  if (reading->next_offset >= reading->end_offset) return reading->done(true);
  auto range = partition->log().range_from(reading->next_offset, kChunkBytes);
  if (!range) return reading->done(true);
  struct Decoded {
    std::vector<Entry> entries;
    int64_t next_offset = -1;
  };
  auto decoded = std::make_shared<Decoded>();
  io_.run(
      [range = *range, decoded, index = reading->partition, end = reading->end_offset, name = topic_.name] {
        protocol::Bytes bytes(static_cast<size_t>(range.length));
        bytes.resize(range.file->read(range.position, bytes));
        // Whole batches below `end`; a batch the range cuts is read again, whole, by the next chunk.
        size_t position = 0;
        while (position + protocol::kBatchHeaderSize <= bytes.size()) {
          auto header = protocol::parse_batch_header(std::span(bytes).subspan(position));
          // The log holds only validated batches; a length below a header's would still not loop forever here.
          if (header.total_size() < protocol::kBatchHeaderSize || position + header.total_size() > bytes.size() ||
              header.base_offset >= end) {
            break;
          }
          auto batch = std::span<const uint8_t>(bytes).subspan(position, header.total_size());
          if (header.is_control()) {
            // A transaction marker: it commits or discards what the producer's transaction wrote here.
            if (auto marker = protocol::parse_control_marker(batch)) {
              Entry entry;
              entry.producer_id = header.producer_id;
              entry.producer_epoch = header.producer_epoch;
              entry.marker_commit = marker->type == protocol::ControlType::kCommit;
              decoded->entries.push_back(std::move(entry));
            }
            decoded->next_offset = header.next_offset();
            position += header.total_size();
            continue;
          }
          try {
            for (auto& record : protocol::decode_records(batch, 256 << 20)) {
              if (!record.key) continue;
              Entry entry{std::move(*record.key), std::move(record.value)};
              if (header.is_transactional()) {
                entry.producer_id = header.producer_id;
                entry.producer_epoch = header.producer_epoch;
              }
              decoded->entries.push_back(std::move(entry));
            }
          } catch (const std::exception& e) {
            spdlog::warn("{}-{}: skipping an unreadable batch at offset {}: {}", name, index, header.base_offset,
                         e.what());
          }
          decoded->next_offset = header.next_offset();
          position += header.total_size();
        }
      },
      loop_,
      [this, reading, decoded](std::exception_ptr error) {
        if (error || decoded->next_offset <= reading->next_offset) {
          // A read that failed or found nothing whole would only fail again.
          return reading->done(false);
        }
        reading->next_offset = decoded->next_offset;
        reading->chunk(std::move(decoded->entries));
        read_next(reading);
      });
}

}  // namespace fjord::coordinator
