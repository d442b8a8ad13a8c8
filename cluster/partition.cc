#include "cluster/partition.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fjord::cluster {

using protocol::Compression;

Partition::Partition(std::string topic, int32_t index, protocol::Uuid topic_id, std::shared_ptr<storage::Log> log,
                     const Clock& clock)
    : topic_(std::move(topic)), index_(index), topic_id_(topic_id), log_(std::move(log)), clock_(clock) {
  high_watermark_ = log_->durable_offset();
  last_sync_ms_ = clock_.monotonic_ms();
  std::weak_ptr<bool> alive = alive_;
  log_->set_listeners(
      [this, alive](int64_t offset) {
        if (alive.lock()) on_durable(offset);
      },
      [this, alive] {
        if (!alive.lock()) return;
        // Nothing waiting will become durable now: produce requests fail, long polls answer with the error.
        fail_pending(ErrorCode::kKafkaStorageError);
        wake_waiters();
      });
}

Partition::~Partition() {
  // Waiters learn that nothing more will come: produce requests fail, long polls re-check and find no partition.
  fail_pending(ErrorCode::kNotLeaderOrFollower);
  wake_waiters();
}

void Partition::fail_pending(ErrorCode error) {
  ProduceResult failed;
  failed.error = error;
  auto replicated = std::move(pending_replicated_);
  auto durable = std::move(pending_durable_);
  pending_replicated_.clear();
  pending_durable_.clear();
  for (auto& p : replicated) p.promise.set_value(failed);
  for (auto& p : durable) p.promise.set_value(failed);
}

void Partition::wake_waiters() { high_watermark_waiters_.notify_all(); }

void Partition::lead_alone() {
  leader_ = replication_.local_node;
  replicas_ = isr_ = {replication_.local_node};
  followers_.clear();
}

void Partition::become_leader(int32_t epoch, std::vector<int32_t> replicas, std::vector<int32_t> isr) {
  const bool new_term = !is_leader() || epoch != leader_epoch_;
  leader_ = replication_.local_node;
  leader_epoch_ = epoch;
  replicas_ = std::move(replicas);
  if (new_term) {
    log_->assign_leader_epoch(epoch);
    leader_epoch_start_offset_ = log_->log_end_offset();
    followers_.clear();
    const int64_t now = clock_.monotonic_ms();
    for (int32_t node : replicas_) {
      if (node != replication_.local_node) followers_[node] = FollowerProgress{-1, now, -1, 0, -1};
    }
  }
  set_isr(std::move(isr));
}

void Partition::become_follower(int32_t leader, int32_t epoch, std::vector<int32_t> replicas,
                                std::vector<int32_t> isr) {
  if (is_leader()) fail_pending(ErrorCode::kNotLeaderOrFollower);
  leader_ = leader;
  leader_epoch_ = epoch;
  replicas_ = std::move(replicas);
  isr_ = std::move(isr);
  followers_.clear();
  wake_waiters();
}

void Partition::set_isr(std::vector<int32_t> isr) {
  const int64_t now = clock_.monotonic_ms();
  for (auto& [node, progress] : followers_) {
    const bool was_in = std::find(isr_.begin(), isr_.end(), node) != isr_.end();
    const bool is_in = std::find(isr.begin(), isr.end(), node) != isr.end();
    if (was_in && !is_in) progress.left_isr_ms = now;
  }
  isr_ = std::move(isr);
  if (is_leader()) update_high_watermark();
}

void Partition::set_replicas(std::vector<int32_t> replicas) {
  replicas_ = std::move(replicas);
  if (!is_leader()) return;
  const int64_t now = clock_.monotonic_ms();
  for (int32_t node : replicas_) {
    if (node != replication_.local_node && !followers_.count(node))
      followers_[node] = FollowerProgress{-1, now, -1, 0, -1};
  }
  std::erase_if(followers_, [this](const auto& entry) {
    return std::find(replicas_.begin(), replicas_.end(), entry.first) == replicas_.end();
  });
}

std::vector<std::pair<int32_t, int64_t>> Partition::in_sync_followers_holding(int64_t offset) const {
  std::vector<std::pair<int32_t, int64_t>> holding;
  if (!is_leader()) return holding;
  for (const auto& [node, progress] : followers_) {
    const bool in_isr = std::find(isr_.begin(), isr_.end(), node) != isr_.end();
    if (in_isr && progress.log_end_offset >= offset) holding.emplace_back(node, progress.log_end_offset);
  }
  return holding;
}

int64_t Partition::acknowledgeable_end() const {
  return log_->config().sync_before_acknowledge() ? log_->durable_offset() : log_->log_end_offset();
}

void Partition::update_high_watermark() {
  int64_t candidate = acknowledgeable_end();
  for (int32_t node : isr_) {
    if (node == replication_.local_node) continue;
    auto it = followers_.find(node);
    candidate = std::min(candidate, it == followers_.end() ? -1 : it->second.log_end_offset);
  }
  advance_high_watermark(candidate);
}

void Partition::on_follower_fetch(int32_t node, int64_t fetch_offset) {
  // Only this partition's replicas count; a fetch naming any other replica id is just a read.
  if (!is_leader() || std::find(replicas_.begin(), replicas_.end(), node) == replicas_.end()) return;
  auto& progress = followers_[node];
  const int64_t now = clock_.monotonic_ms();
  const int64_t leader_end = log_->log_end_offset();
  // Kafka's rule: caught up when it reached the log end as of now, or as of its previous fetch (under a steady
  // stream a follower is always a little behind the very end).
  if (fetch_offset >= leader_end) {
    progress.last_caught_up_ms = now;
  } else if (fetch_offset >= progress.leader_end_at_last_fetch) {
    progress.last_caught_up_ms = std::max(progress.last_caught_up_ms, progress.last_fetch_ms);
  }
  progress.log_end_offset = fetch_offset;
  progress.last_fetch_ms = now;
  progress.leader_end_at_last_fetch = leader_end;
  update_high_watermark();
}

std::optional<std::vector<int32_t>> Partition::wanted_isr() const {
  if (!is_leader()) return std::nullopt;
  const int64_t now = clock_.monotonic_ms();
  std::vector<int32_t> wanted;
  for (int32_t node : replicas_) {
    if (node == replication_.local_node) {
      wanted.push_back(node);
      continue;
    }
    auto it = followers_.find(node);
    if (it == followers_.end()) continue;
    const auto& progress = it->second;
    bool in_isr = std::find(isr_.begin(), isr_.end(), node) != isr_.end();
    if (in_isr) {
      if (now - progress.last_caught_up_ms <= replication_.replica_lag_time_max_ms) wanted.push_back(node);
    } else if (progress.last_fetch_ms > progress.left_isr_ms && progress.log_end_offset >= high_watermark_ &&
               progress.log_end_offset >= leader_epoch_start_offset_) {
      wanted.push_back(node);
    }
  }
  // The leader stays in its ISR whatever the placement order says.
  if (std::find(wanted.begin(), wanted.end(), replication_.local_node) == wanted.end()) {
    wanted.insert(wanted.begin(), replication_.local_node);
  }
  auto sorted_current = isr_;
  auto sorted_wanted = wanted;
  std::sort(sorted_current.begin(), sorted_current.end());
  std::sort(sorted_wanted.begin(), sorted_wanted.end());
  if (sorted_current == sorted_wanted) return std::nullopt;
  return wanted;
}

void Partition::when_appended_acknowledgeable(std::function<void(bool)> done) {
  if (!log_->config().sync_before_acknowledge()) return done(!log_->failed());
  log_->sync(std::move(done));
}

storage::AppendResult Partition::append_from_leader(std::span<uint8_t> records, int64_t leader_high_watermark) {
  storage::AppendResult appended;
  if (!records.empty()) {
    auto validated = protocol::validate_batches(records, policy_.limits, protocol::BatchOrigin::kLeader);
    if (validated.error != ErrorCode::kNone) {
      appended.error = validated.error;
      appended.message = validated.message;
      return appended;
    }
    appended = log_->append_replicated(records, validated.batches);
    if (appended.error != ErrorCode::kNone) return appended;
    if (log_->config().sync_before_acknowledge() || log_->unsynced_messages() >= log_->config().flush_messages) {
      log_->sync();
    }
  }
  const int64_t capped = std::min(leader_high_watermark, log_->log_end_offset());
  if (capped > high_watermark_) {
    high_watermark_ = capped;
    wake_waiters();
  }
  return appended;
}

void Partition::restart_at(int64_t offset) {
  spdlog::info("{}-{}: starting again, empty, at {} (the leader's log start; it no longer has offsets {} to {})",
               topic_, index_, offset, log_->log_end_offset(), offset - 1);
  log_->reset_to(offset);
  high_watermark_ = log_->log_end_offset();
}

void Partition::truncate_to(int64_t offset) {
  if (offset >= log_->log_end_offset()) return;
  spdlog::info("{}-{}: truncating from {} to {} (a tail the leader does not have)", topic_, index_,
               log_->log_end_offset(), offset);
  log_->truncate_to(offset);
  high_watermark_ = std::min(high_watermark_, log_->log_end_offset());
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

Future<ProduceResult> Partition::append(std::span<uint8_t> records, int16_t acks, AppendOrigin origin) {
  if (!is_leader()) {
    ProduceResult r;
    r.error = ErrorCode::kNotLeaderOrFollower;
    return Future<ProduceResult>::ready(r);
  }
  if (acks == -1 && static_cast<int32_t>(isr_.size()) < replication_.min_insync_replicas) {
    ProduceResult r;
    r.error = ErrorCode::kNotEnoughReplicas;
    r.error_message = "The size of the current ISR " + std::to_string(isr_.size()) +
                      " is insufficient to satisfy the min.isr requirement of " +
                      std::to_string(replication_.min_insync_replicas);
    return Future<ProduceResult>::ready(r);
  }
  auto validated = protocol::validate_batches(records, policy_.limits);
  if (validated.error != ErrorCode::kNone) {
    ProduceResult r;
    r.error = validated.error;
    r.error_message = validated.message;
    return Future<ProduceResult>::ready(r);
  }
  for (const auto& batch : validated.batches) {
    if (!batch.header.is_control()) continue;
    ProduceResult r;
    r.error = ErrorCode::kInvalidRecord;
    r.error_message = "control batches (transaction markers) are written by the broker, not produced";
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

  return acknowledge_append(log_->append(records, validated.batches, leader_epoch_, origin == AppendOrigin::kClient),
                            acks);
}

Future<ProduceResult> Partition::append_marker(int64_t producer_id, int16_t producer_epoch,
                                               protocol::ControlMarker marker) {
  if (!is_leader()) {
    ProduceResult r;
    r.error = ErrorCode::kNotLeaderOrFollower;
    return Future<ProduceResult>::ready(r);
  }
  // Markers wait for every in-sync replica, as acks=all does, but are not refused below min.insync.replicas:
  // a transaction that was decided must be able to end (Kafka writes them the same way).
  return acknowledge_append(log_->append_marker(producer_id, producer_epoch, marker, leader_epoch_), -1);
}

Future<ProduceResult> Partition::acknowledge_append(storage::AppendResult appended, int16_t acks) {
  if (appended.error != ErrorCode::kNone) {
    if (probe_ && appended.error != ErrorCode::kKafkaStorageError) probe_->sequence_error(appended.error).Increment();
    ProduceResult refused;
    refused.error = appended.error;
    refused.error_message = appended.message;
    // The Java client decides from it how to recover from UNKNOWN_PRODUCER_ID (it retries while it is -1).
    refused.log_start_offset = log_->log_start_offset();
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
  }
  auto& queue = acks == -1 ? pending_replicated_ : pending_durable_;
  const bool durable_now = acks != -1 && appended.last_offset < acknowledgeable_end();
  Future<ProduceResult> future = Future<ProduceResult>::ready(result);
  if (!durable_now) {
    PendingProduce pending{appended.last_offset, result, {}};
    future = pending.promise.future();
    queue.push_back(std::move(pending));
  }
  if (appended.duplicate) return future;
  if (log_->config().sync_before_acknowledge()) {
    log_->sync();
  } else if (log_->unsynced_messages() >= log_->config().flush_messages) {
    last_sync_ms_ = clock_.monotonic_ms();
    log_->sync();
  }
  // Followers waiting in a long poll learn of the new data; a single node moves its high watermark now.
  if (!followers_.empty()) wake_waiters();
  update_high_watermark();
  resolve_durable(acknowledgeable_end());
  return future;
}

void Partition::on_durable(int64_t durable_offset) {
  resolve_durable(durable_offset);
  if (is_leader()) update_high_watermark();
}

void Partition::resolve_durable(int64_t durable_end) {
  while (!pending_durable_.empty() && pending_durable_.front().last_offset < durable_end) {
    auto done = std::move(pending_durable_.front());
    pending_durable_.pop_front();
    done.result.log_start_offset = log_->log_start_offset();
    done.promise.set_value(done.result);
  }
}

void Partition::advance_high_watermark(int64_t offset) {
  if (offset <= high_watermark_) return;
  high_watermark_ = offset;
  // Kafka's rule: the write reached every member of the ISR, but if that ISR is now smaller than
  // min.insync.replicas the producer is told so, though the records stay.
  const bool enough = static_cast<int32_t>(isr_.size()) >= replication_.min_insync_replicas;
  while (!pending_replicated_.empty() && pending_replicated_.front().last_offset < high_watermark_) {
    auto done = std::move(pending_replicated_.front());
    pending_replicated_.pop_front();
    done.result.log_start_offset = log_->log_start_offset();
    if (!enough) {
      done.result.error = ErrorCode::kNotEnoughReplicasAfterAppend;
      done.result.error_message = "The ISR shrank below min.insync.replicas while the write waited";
    }
    done.promise.set_value(done.result);
  }
  wake_waiters();
}

WaiterList::Registration Partition::on_next_high_watermark_change(std::function<void()> waiter) {
  return high_watermark_waiters_.add(std::move(waiter));
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
