// Idempotent producers, per partition: for every producer id, its epoch and the last five batches it wrote, so
// that a retried batch is recognised and answered with its original offsets instead of being written again, a
// gap in the sequence is refused, and a producer fenced by a newer epoch cannot write.
//
// The state is rebuilt at start from the latest snapshot (storage/FORMAT.md) plus the batches written after it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "model/error_codes.h"
#include "protocol/record_batch.h"

namespace fjord::storage {

struct ProducerBatch {
  int32_t first_sequence;
  int32_t last_sequence;
  int64_t first_offset;
  int64_t last_offset;
};

struct ProducerEntry {
  int16_t epoch = -1;
  std::deque<ProducerBatch> batches;  // oldest first, at most kRememberedBatches
  int64_t last_timestamp_ms = -1;     // when it last wrote, by the broker's clock

  static constexpr size_t kRememberedBatches = 5;
};

// What to do with one batch of an idempotent producer.
struct ProducerCheck {
  enum class Outcome { kAppend, kDuplicate, kRefuse };
  Outcome outcome = Outcome::kAppend;
  ProducerBatch original{};  // kDuplicate: where the batch already is
  ErrorCode error = ErrorCode::kNone;
  std::string message;
};

class ProducerStateManager {
 public:
  // Checks a batch before it is written. Batches without a producer id are always appended.
  ProducerCheck check(const protocol::BatchHeader& batch) const;
  // Records a batch that was written (offsets assigned), or read back while rebuilding the state.
  void record(const protocol::BatchHeader& batch, int64_t now_ms);
  // Forgets producers idle for longer than `expiration_ms` (producer.id.expiration.ms).
  size_t expire(int64_t now_ms, int64_t expiration_ms);
  // Forgets batches below `offset` (retention or DeleteRecords took them), and producers left with none.
  void truncate_head(int64_t offset);
  // Forgets everything at or above `offset` (the log was truncated). A producer left with nothing whose batches
  // here all went is as if never seen (it resends from where it started); one with earlier batches beyond the
  // five remembered is forgotten.
  void truncate_tail(int64_t offset);

  size_t producer_count() const { return producers_.size(); }
  const ProducerEntry* find(int64_t producer_id) const;
  // Every producer with the last offset of its last batch (the batch compaction must keep).
  std::map<int64_t, int64_t> last_batch_offsets() const;

  // Snapshot bytes, and the reverse; parse_snapshot returns nullopt for anything damaged.
  std::vector<uint8_t> snapshot() const;
  static std::optional<ProducerStateManager> parse_snapshot(std::span<const uint8_t> bytes);

 private:
  void forget(int64_t producer_id);

  std::map<int64_t, ProducerEntry> producers_;
  // Producers whose state expired or whose records were deleted: unlike a producer never seen, they may continue
  // at any sequence. The most recent ones only; kept in snapshots, so only those forgotten after the last
  // snapshot before a crash are lost (such a producer must then start again at 0, as librdkafka and the Java
  // client do on UNKNOWN_PRODUCER_ID).
  std::set<int64_t> forgotten_;
  std::deque<int64_t> forgotten_order_;
  static constexpr size_t kRememberedForgotten = 1000;
};

}  // namespace fjord::storage
