// A partition as this broker hosts it: its log, its high watermark and leader epoch, and the produce requests
// waiting for their writes to become acknowledgeable. On one node the high watermark is the durable end of the
// log (under the default flush policy) or its end (relaxed policies); replication will hold it at what every
// in-sync replica has.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/probe.h"
#include "model/clock.h"
#include "model/error_codes.h"
#include "model/future.h"
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
  void set_probe(PartitionProbe* probe) { probe_ = probe; }
  const ProducePolicy& produce_policy() const { return policy_; }

  // Validates and appends one partition's records from a produce request. The future resolves once the write
  // may be acknowledged. `records` is the request's buffer; it is modified in place (offsets, epoch).
  Future<ProduceResult> append(std::span<uint8_t> records);

  // Runs `waiter` once, the next time the high watermark moves (fetch long polls wait on this).
  void on_next_high_watermark_change(std::function<void()> waiter);

  // Relaxed flush policies: sync when flush.ms has passed since the last sync.
  void flush_if_due(int64_t now_ms);

 private:
  void on_durable(int64_t durable_offset);
  void advance_high_watermark(int64_t offset);
  std::optional<ProduceResult> check_timestamps(const protocol::ValidationResult& validated) const;

  std::string topic_;
  int32_t index_;
  protocol::Uuid topic_id_;
  std::shared_ptr<storage::Log> log_;
  const Clock& clock_;
  ProducePolicy policy_;
  PartitionProbe* probe_ = nullptr;
  int32_t leader_epoch_ = 0;
  int64_t high_watermark_ = 0;
  int64_t last_sync_ms_ = 0;
  struct PendingProduce {
    int64_t last_offset;
    ProduceResult result;
    Promise<ProduceResult> promise;
  };
  std::deque<PendingProduce> pending_;
  std::vector<std::function<void()>> high_watermark_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::cluster
