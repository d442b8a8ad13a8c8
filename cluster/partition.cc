#include "cluster/partition.h"

#include <spdlog/spdlog.h>

namespace fjord::cluster {

using protocol::Compression;

Partition::Partition(std::string topic, int32_t index, protocol::Uuid topic_id, std::shared_ptr<storage::Log> log,
                     const Clock& clock)
    : topic_(std::move(topic)), index_(index), topic_id_(topic_id), log_(std::move(log)), clock_(clock) {
  high_watermark_ = log_->durable_offset();
  last_sync_ms_ = clock_.monotonic_ms();
  std::weak_ptr<bool> alive = alive_;
  log_->set_durable_listener([this, alive](int64_t offset) {
    if (alive.lock()) on_durable(offset);
  });
}

Partition::~Partition() {
  // Waiters learn that nothing more will come: produce requests fail, long polls re-check and find no partition.
  ProduceResult gone;
  gone.error = ErrorCode::kNotLeaderOrFollower;
  for (auto& p : pending_) p.promise.set_value(gone);
  auto waiters = std::move(high_watermark_waiters_);
  for (auto& w : waiters) w();
}

std::optional<ProduceResult> Partition::check_timestamps(const protocol::ValidationResult& validated) const {
  if (log_->config().timestamp_type != storage::TimestampType::kCreateTime) return std::nullopt;
  const int64_t now = clock_.now_ms();
  for (const auto& batch : validated.batches) {
    const auto& h = batch.header;
    bool too_new = h.max_timestamp > now && h.max_timestamp - now > policy_.timestamp_after_max_ms;
    bool too_old = h.base_timestamp < now && now - h.base_timestamp > policy_.timestamp_before_max_ms;
    if (too_new || too_old) {
      ProduceResult r;
      r.error = ErrorCode::kInvalidTimestamp;
      r.error_message = "Timestamp " + std::to_string(too_new ? h.max_timestamp : h.base_timestamp) +
                        " of a record is out of the range message.timestamp.before.max.ms / after.max.ms allows";
      return r;
    }
  }
  return std::nullopt;
}

Future<ProduceResult> Partition::append(std::span<uint8_t> records) {
  auto validated = protocol::validate_batches(records, policy_.limits);
  if (validated.error != ErrorCode::kNone) {
    ProduceResult r;
    r.error = validated.error;
    r.error_message = validated.message;
    return Future<ProduceResult>::ready(r);
  }
  if (auto refused = check_timestamps(validated)) return Future<ProduceResult>::ready(*refused);

  // compression.type other than "producer": rewrite each batch in the topic's codec.
  std::vector<uint8_t> recompressed;
  if (policy_.compression_type != "producer") {
    Compression target = Compression::kNone;
    if (policy_.compression_type != "uncompressed") protocol::parse_compression(policy_.compression_type, target);
    bool needed = false;
    for (const auto& b : validated.batches) needed |= b.header.compression() != target;
    if (needed) {
      for (const auto& b : validated.batches) {
        auto batch = records.subspan(b.position, b.header.total_size());
        protocol::BatchBuildOptions options;
        options.compression = target;
        options.producer_id = b.header.producer_id;
        options.producer_epoch = b.header.producer_epoch;
        options.base_sequence = b.header.base_sequence;
        options.transactional = b.header.is_transactional();
        options.control = b.header.is_control();
        auto rebuilt =
            protocol::build_batch(protocol::decode_records(batch, policy_.limits.max_decompressed_bytes), options);
        recompressed.insert(recompressed.end(), rebuilt.begin(), rebuilt.end());
      }
      records = recompressed;
      validated = protocol::validate_batches(records, policy_.limits);
      if (validated.error != ErrorCode::kNone) {
        ProduceResult r;
        r.error = validated.error;
        r.error_message = validated.message;
        return Future<ProduceResult>::ready(r);
      }
    }
  }

  storage::AppendResult appended;
  try {
    appended = log_->append(records, validated.batches, leader_epoch_);
  } catch (const std::system_error& e) {
    spdlog::error("{}-{}: append failed: {}", topic_, index_, e.what());
    ProduceResult r;
    r.error = ErrorCode::kKafkaStorageError;
    r.error_message = e.what();
    return Future<ProduceResult>::ready(r);
  }
  if (appended.error != ErrorCode::kNone) {
    if (probe_) probe_->sequence_error(appended.error).Increment();
    ProduceResult refused;
    refused.error = appended.error;
    refused.error_message = appended.message;
    return Future<ProduceResult>::ready(refused);
  }
  ProduceResult result;
  result.base_offset = appended.base_offset;
  result.log_append_time = appended.log_append_time;
  result.log_start_offset = log_->log_start_offset();

  if (appended.duplicate) {
    // A retry of a batch already written: answered with its original offsets, once those are acknowledgeable.
    if (probe_) probe_->duplicates_suppressed.Increment();
    if (appended.last_offset < high_watermark_) return Future<ProduceResult>::ready(result);
    PendingProduce pending{appended.last_offset, result, {}};
    auto future = pending.promise.future();
    pending_.push_back(std::move(pending));
    return future;
  }

  if (log_->config().sync_before_acknowledge()) {
    PendingProduce pending{appended.last_offset, result, {}};
    auto future = pending.promise.future();
    pending_.push_back(std::move(pending));
    log_->sync();
    return future;
  }
  advance_high_watermark(log_->log_end_offset());
  if (log_->unsynced_messages() >= log_->config().flush_messages) {
    last_sync_ms_ = clock_.monotonic_ms();
    log_->sync();
  }
  return Future<ProduceResult>::ready(result);
}

void Partition::on_durable(int64_t durable_offset) {
  if (log_->config().sync_before_acknowledge()) advance_high_watermark(durable_offset);
}

void Partition::advance_high_watermark(int64_t offset) {
  if (offset <= high_watermark_) return;
  high_watermark_ = offset;
  while (!pending_.empty() && pending_.front().last_offset < high_watermark_) {
    auto done = std::move(pending_.front());
    pending_.pop_front();
    done.result.log_start_offset = log_->log_start_offset();
    done.promise.set_value(done.result);
  }
  if (!high_watermark_waiters_.empty()) {
    auto waiters = std::move(high_watermark_waiters_);
    high_watermark_waiters_.clear();
    for (auto& w : waiters) w();
  }
}

void Partition::on_next_high_watermark_change(std::function<void()> waiter) {
  high_watermark_waiters_.push_back(std::move(waiter));
}

void Partition::flush_if_due(int64_t now_ms) {
  const auto& config = log_->config();
  if (config.sync_before_acknowledge() || log_->unsynced_messages() == 0) return;
  if (now_ms - last_sync_ms_ >= config.flush_ms) {
    last_sync_ms_ = now_ms;
    log_->sync();
  }
}

}  // namespace fjord::cluster
