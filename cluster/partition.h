// A partition as this broker hosts it: its log, its role (leader or follower), its high watermark and leader
// epoch, and the produce requests waiting for their writes to become acknowledgeable.
//
// As leader, the high watermark is the lowest of what every in-sync replica has: the leader's own acknowledgeable
// end (the durable end under the default flush policy, the log end under relaxed ones) and each in-sync
// follower's log end as its fetches report it. A single node is a leader whose ISR is itself. acks=1 waits for
// the leader's own write; acks=all for the high watermark. As follower, the log grows only from the leader's
// batches and the high watermark is the leader's, capped at the local log end.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cluster/probe.h"
#include "model/clock.h"
#include "model/error_codes.h"
#include "model/future.h"
#include "model/waiter_list.h"
#include "protocol/codec_runtime.h"
#include "protocol/record_batch.h"
#include "storage/log.h"

namespace fjord::cluster {

struct ProduceResult {
  ErrorCode error = ErrorCode::kNone;
  std::string error_message;
  int64_t base_offset = -1;
  int64_t log_append_time = -1;
  int64_t log_start_offset = -1;
};

// Topic settings the partition applies on the produce path, beyond what the log itself needs.
struct ProducePolicy {
  std::string compression_type = "producer";
  int64_t timestamp_before_max_ms = INT64_MAX;
  int64_t timestamp_after_max_ms = 3600000;
  protocol::BatchLimits limits;
  // The checklist enforced on this topic (fjord.require.acks.all, fjord.require.idempotence).
  bool require_acks_all = false;
  bool require_idempotence = false;
};

// Who writes a batch: a client's produce (idempotent producers' sequences checked), or a coordinator writing
// its internal topic in a producer's transaction (TxnOffsetCommit: no sequence, only the epoch is checked).
enum class AppendOrigin { kClient, kCoordinator };

// How this broker's copy of a partition takes part in replication.
struct ReplicationSettings {
  int32_t local_node = 1;
  int32_t min_insync_replicas = 1;
  int64_t replica_lag_time_max_ms = 30000;
};

class Partition {
 public:
  Partition(std::string topic, int32_t index, protocol::Uuid topic_id, std::shared_ptr<storage::Log> log,
            const Clock& clock);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  const protocol::Uuid& topic_id() const { return topic_id_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  int64_t high_watermark() const { return high_watermark_; }
  int64_t log_start_offset() const { return log_->log_start_offset(); }
  int64_t log_end_offset() const { return log_->log_end_offset(); }
  storage::Log& log() { return *log_; }
  const storage::Log& log() const { return *log_; }

  void set_produce_policy(ProducePolicy policy) { policy_ = std::move(policy); }
  void set_min_insync_replicas(int32_t value) { replication_.min_insync_replicas = value; }
  void set_replication_settings(ReplicationSettings settings) { replication_ = settings; }

  // In a cluster a replica cannot know on opening how much of its log the others have: its high watermark starts
  // at the log start and moves once it leads (with its followers) or follows (with the leader's).
  void forget_high_watermark() { high_watermark_ = log_->log_start_offset(); }

  // Roles: a partition starts with none (leader -1) until it is told.
  // A single node's partition: leader, with itself as its only replica and ISR.
  void lead_alone();
  bool is_leader() const { return leader_ == replication_.local_node; }
  int32_t leader_id() const { return leader_; }
  const std::vector<int32_t>& isr() const { return isr_; }
  const std::vector<int32_t>& replicas() const { return replicas_; }
  int32_t min_insync_replicas() const { return replication_.min_insync_replicas; }
  // Why a request naming `current_leader_epoch` (-1: none) must go elsewhere: NOT_LEADER_OR_FOLLOWER on a
  // follower, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when the client's epoch is older / newer; else NONE.
  ErrorCode leader_error(int32_t current_leader_epoch) const {
    if (log_->failed()) return ErrorCode::kKafkaStorageError;
    if (!is_leader()) return ErrorCode::kNotLeaderOrFollower;
    if (current_leader_epoch < 0 || current_leader_epoch == leader_epoch_) return ErrorCode::kNone;
    return current_leader_epoch < leader_epoch_ ? ErrorCode::kFencedLeaderEpoch : ErrorCode::kUnknownLeaderEpoch;
  }
  // Why a consumer's read naming `current_leader_epoch` cannot be served here, where followers serve reads too
  // (KIP-392, Fetch v11+): as leader_error, except that a follower serves (up to its high watermark).
  ErrorCode replica_read_error(int32_t current_leader_epoch) const {
    if (log_->failed()) return ErrorCode::kKafkaStorageError;
    if (leader_ < 0) return ErrorCode::kNotLeaderOrFollower;
    if (current_leader_epoch < 0 || current_leader_epoch == leader_epoch_) return ErrorCode::kNone;
    return current_leader_epoch < leader_epoch_ ? ErrorCode::kFencedLeaderEpoch : ErrorCode::kUnknownLeaderEpoch;
  }
  // Leader: the followers in the ISR whose log reaches `offset`, with their log ends (where a consumer reading
  // from `offset` may be sent instead, KIP-392).
  std::vector<std::pair<int32_t, int64_t>> in_sync_followers_holding(int64_t offset) const;
  // Takes (or keeps) the lead at `epoch`; followers not yet heard from hold the high watermark where it is.
  void become_leader(int32_t epoch, std::vector<int32_t> replicas, std::vector<int32_t> isr);
  // Follows `leader` at `epoch`: waiting produce requests fail with NOT_LEADER_OR_FOLLOWER.
  void become_follower(int32_t leader, int32_t epoch, std::vector<int32_t> replicas, std::vector<int32_t> isr);
  // The ISR the metadata now records (a change the leader proposed was stored, or the controller removed a dead
  // broker). May advance the high watermark, and answers acks=all requests waiting on removed members.
  void set_isr(std::vector<int32_t> isr);
  // Leader: the replicas the metadata now records (a reassignment added or removed some). A new replica is
  // tracked from its first fetch; a removed one no longer counts.
  void set_replicas(std::vector<int32_t> replicas);

  // Leader: a follower fetched from `fetch_offset`, so it has every offset below it.
  void on_follower_fetch(int32_t node, int64_t fetch_offset);
  // Leader: the ISR that should be recorded now, when it differs from the current one: followers that have not
  // caught up within replica.lag.time.max.ms leave it, followers that reached the high watermark join it.
  std::optional<std::vector<int32_t>> wanted_isr() const;

  // Follower: appends the leader's batches (offsets kept) and takes the leader's high watermark.
  storage::AppendResult append_from_leader(std::span<uint8_t> records, int64_t leader_high_watermark);
  // Follower: drops a tail the leader does not have.
  void truncate_to(int64_t offset);
  // Follower: drops everything and starts again, empty, at `offset` (its position fell below the leader's log
  // start, so what it needs next is gone there).
  void restart_at(int64_t offset);
  // Follower: runs `done` on the loop once everything appended so far counts as this replica's own (durable
  // under the default flush policy; at once under a relaxed one), with false when it never will (the log
  // failed). The offset a follower reports to its leader is only ever what passed this, so the leader's high
  // watermark, and every acks=all acknowledgement, covers records on disk on every in-sync replica.
  void when_appended_acknowledgeable(std::function<void(bool durable)> done);
  // Where this replica's own acknowledgeable records end: the durable end under the default flush policy, the
  // log end under relaxed ones.
  int64_t acknowledgeable_end() const;
  void set_probe(PartitionProbe* probe) {
    probe_ = probe;
    high_watermark_waiters_.set_live_gauge(probe ? &probe->fetch_waiters : nullptr);
    traffic_ = probe ? probe->topic_traffic(topic()) : nullptr;
  }
  // Where record bytes produced to and fetched by consumers from this partition are counted, per topic (null
  // without a probe). Shared, so an answer that completes after the partition is gone can still count.
  const std::shared_ptr<PartitionProbe::TopicTraffic>& traffic() const { return traffic_; }
  const ProducePolicy& produce_policy() const { return policy_; }

  // Validates and appends one partition's records from a produce request. The future resolves once the write
  // may be acknowledged. `records` is the request's buffer; it is modified in place (offsets, epoch).
  // `acks` is 1 (the leader's durable write) or -1 (every in-sync replica); with -1 and an ISR smaller than
  // min.insync.replicas the write is refused before anything is written.
  Future<ProduceResult> append(std::span<uint8_t> records, int16_t acks = -1,
                               AppendOrigin origin = AppendOrigin::kClient);

  // Writes a transaction marker for `producer_id` (WriteTxnMarkers); resolves once every in-sync replica has it.
  Future<ProduceResult> append_marker(int64_t producer_id, int16_t producer_epoch, protocol::ControlMarker marker);
  // What a read_committed consumer may read up to: the high watermark, or the first offset of the oldest open
  // transaction when that is lower.
  int64_t last_stable_offset() const { return log_->last_stable_offset(high_watermark_); }

  // Runs `waiter` once, the next time the high watermark moves or, while followers fetch, the log grows (fetch
  // long polls wait on this), unless the returned registration is dropped first: a long poll holds it and so
  // takes its waiter along however it ends.
  [[nodiscard]] WaiterList::Registration on_next_high_watermark_change(std::function<void()> waiter);

  // Relaxed flush policies: sync when flush.ms has passed since the last sync.
  void flush_if_due(int64_t now_ms);

 private:
  // Answers an append once it may be acknowledged (at once when it was refused).
  Future<ProduceResult> acknowledge_append(storage::AppendResult appended, int16_t acks);
  void on_durable(int64_t durable_offset);
  void update_high_watermark();
  void resolve_durable(int64_t durable_end);
  void advance_high_watermark(int64_t offset);
  void wake_waiters();
  void fail_pending(ErrorCode error);
  std::optional<ProduceResult> check_timestamps(const protocol::ValidationResult& validated) const;

  std::string topic_;
  int32_t index_;
  protocol::Uuid topic_id_;
  std::shared_ptr<storage::Log> log_;
  const Clock& clock_;
  ProducePolicy policy_;
  PartitionProbe* probe_ = nullptr;
  std::shared_ptr<PartitionProbe::TopicTraffic> traffic_;
  int32_t leader_epoch_ = 0;
  int64_t high_watermark_ = 0;
  int64_t last_sync_ms_ = 0;
  struct PendingProduce {
    int64_t last_offset;
    ProduceResult result;
    Promise<ProduceResult> promise;
  };
  std::deque<PendingProduce> pending_replicated_;  // acks=all: wait for the high watermark
  std::deque<PendingProduce> pending_durable_;     // acks=1: wait for the leader's own durable write
  ReplicationSettings replication_;
  int32_t leader_ = -1;
  std::vector<int32_t> replicas_;
  std::vector<int32_t> isr_;
  int64_t leader_epoch_start_offset_ = 0;
  struct FollowerProgress {
    int64_t log_end_offset = -1;  // unknown until it fetches
    int64_t last_caught_up_ms = 0;
    int64_t last_fetch_ms = 0;
    int64_t leader_end_at_last_fetch = 0;
    // When it last left the ISR: only a fetch after that can bring it back (a dead broker's last fetch cannot).
    int64_t left_isr_ms = -1;
  };
  std::map<int32_t, FollowerProgress> followers_;
  WaiterList high_watermark_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::cluster
