#include "coordinator/partition_group_log.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "coordinator/offsets_records.h"
#include "protocol/record_batch.h"
#include "storage/file_system.h"

namespace fjord::coordinator {

namespace {

// Bytes of one read of a log, whether it came back as file ranges or copies.
protocol::Bytes materialize(const storage::ReadResult& read) {
  protocol::Bytes out;
  for (const auto& slice : read.slices) {
    auto file = std::static_pointer_cast<const storage::File>(slice.keep_alive);
    size_t start = out.size();
    out.resize(start + static_cast<size_t>(slice.length));
    size_t got = file->read(slice.position, std::span(out).subspan(start));
    out.resize(start + got);
  }
  for (const auto& bytes : read.owned) out.insert(out.end(), bytes.begin(), bytes.end());
  return out;
}

}  // namespace

PartitionGroupLog::PartitionGroupLog(cluster::PartitionManager& partitions, const Clock& clock)
    : partitions_(partitions), clock_(clock) {}

int32_t PartitionGroupLog::partition_count() const {
  if (const auto* topic = partitions_.topic(kOffsetsTopic)) return topic->partitions;
  return static_cast<int32_t>(partitions_.settings().get_long("offsets.topic.num.partitions"));
}

ErrorCode PartitionGroupLog::ensure_topic() {
  if (partitions_.topic(kOffsetsTopic)) return ErrorCode::kNone;
  // Compacted, as Kafka makes it, so that retention never removes the offsets a group still needs; 100 MiB
  // segments (offsets.topic.segment.bytes) keep a reload short.
  cluster::ConfigMap configs = {{"cleanup.policy", "compact"}, {"segment.bytes", "104857600"}};
  // A cluster keeps offsets on offsets.topic.replication.factor brokers and refuses (as Kafka does) until that
  // many are registered; a single node has only itself.
  const int16_t replication =
      partitions_.cluster_mode()
          ? static_cast<int16_t>(partitions_.settings().get_long("offsets.topic.replication.factor"))
          : int16_t{1};
  // On one node the metadata store answers before create_topic returns, so `result` is set on return. In a
  // cluster the answer comes later (etcd), after the controller has still to place the partitions: this request
  // gets COORDINATOR_NOT_AVAILABLE and the client's retry finds the topic.
  auto result = std::make_shared<ErrorCode>(ErrorCode::kCoordinatorNotAvailable);
  partitions_.create_topic(kOffsetsTopic, partition_count(), replication, configs, false,
                           [result](cluster::AdminResult r) {
                             *result = r.error == ErrorCode::kTopicAlreadyExists ? ErrorCode::kNone : r.error;
                             if (r.error != ErrorCode::kNone && r.error != ErrorCode::kTopicAlreadyExists) {
                               spdlog::warn("cannot create {} yet: {}", kOffsetsTopic, r.message);
                             }
                           });
  return *result == ErrorCode::kNone ? ErrorCode::kNone : ErrorCode::kCoordinatorNotAvailable;
}

void PartitionGroupLog::append(int32_t partition, std::vector<Entry> entries, Done done) {
  if (auto error = ensure_topic(); error != ErrorCode::kNone) return done(error);
  cluster::Partition* target = partitions_.partition(kOffsetsTopic, partition);
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
  auto batch = std::make_shared<protocol::Bytes>(protocol::build_batch(records, protocol::BatchBuildOptions{}));
  target->append(std::span(*batch)).then([batch, done = std::move(done)](cluster::ProduceResult result) {
    if (result.error != ErrorCode::kNone) spdlog::error("cannot write to {}: {}", kOffsetsTopic, result.error_message);
    // Kafka's mapping of a failed write to what group clients understand: they look for the coordinator again.
    ErrorCode mapped = ErrorCode::kCoordinatorNotAvailable;
    if (result.error == ErrorCode::kNone) mapped = ErrorCode::kNone;
    if (result.error == ErrorCode::kNotLeaderOrFollower) mapped = ErrorCode::kNotCoordinator;
    done(mapped);
  });
}

void PartitionGroupLog::replay_partition(int32_t index, const std::function<void(const Entry&)>& visit) {
  constexpr int64_t kReadBytes = 8 << 20;
  if (auto* partition = partitions_.partition(kOffsetsTopic, index)) {
    const storage::Log& log = partition->log();
    int64_t offset = log.log_start_offset();
    const int64_t end = log.log_end_offset();
    while (offset < end) {
      protocol::Bytes bytes = materialize(log.read(offset, end, kReadBytes, true));
      if (bytes.empty()) break;
      size_t position = 0;
      while (position + protocol::kBatchHeaderSize <= bytes.size()) {
        auto header = protocol::parse_batch_header(std::span(bytes).subspan(position));
        if (position + header.total_size() > bytes.size()) break;
        auto batch = std::span<const uint8_t>(bytes).subspan(position, header.total_size());
        try {
          for (auto& record : protocol::decode_records(batch, 256 << 20)) {
            if (!record.key) continue;
            visit(Entry{std::move(*record.key), std::move(record.value)});
          }
        } catch (const std::exception& e) {
          spdlog::warn("{}-{}: skipping an unreadable batch at offset {}: {}", kOffsetsTopic, partition->index(),
                       header.base_offset, e.what());
        }
        offset = header.next_offset();
        position += header.total_size();
      }
      if (position == 0) break;  // nothing whole came back: do not spin
    }
  }
}

}  // namespace fjord::coordinator
