// Idempotent producers, per partition: for every producer id, its epoch and the last five batches it wrote, so
// that a retried batch is recognised and answered with its original offsets instead of being written again, a
// gap in the sequence is refused, and a producer fenced by a newer epoch cannot write.
//
// Transactional producers too: where each one's open transaction began (the first unstable offset, which bounds
// the last stable offset), and the transactions its markers (control batches) completed.
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

// A transaction a marker ended in this partition: its records lie in [first_offset, last_offset), the marker at
// last_offset.
struct CompletedTransaction {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  bool aborted = false;
};

struct ProducerEntry {
  int16_t epoch = -1;
  std::deque<ProducerBatch> batches;  // oldest first, at most kRememberedBatches
  int64_t last_timestamp_ms = -1;     // when it last wrote, by the broker's clock
  // Where its open transaction's first batch is, or -1 when none is open here.
  int64_t open_transaction_offset = -1;
  int32_t coordinator_epoch = -1;  // of the coordinator that wrote its last marker
  // The transactions it last completed here, oldest first: a truncation that removes a marker opens its
  // transaction again.
  std::deque<CompletedTransaction> completed;

  static constexpr size_t kRememberedBatches = 5;
};

// An aborted transaction, as Fetch reports it under read_committed: its producer's records in [first_offset,
// last_offset] are to be skipped, up to its abort marker at last_offset. last_stable_offset is the partition's
// LSO once it was aborted; no transaction ending later can begin before it, which bounds a search.
struct AbortedTransaction {
  int64_t producer_id = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;
  int64_t last_stable_offset = -1;
  bool operator==(const AbortedTransaction&) const = default;
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
  // Checks a transaction marker the coordinator writes for `producer_id`: refused when it comes from an older
  // producer epoch or an older coordinator than the last marker.
  ProducerCheck check_marker(int64_t producer_id, int16_t producer_epoch, int32_t coordinator_epoch) const;
  // Records a batch that was written (offsets assigned), or read back while rebuilding the state. A control
  // batch needs its marker; the transaction it ends is returned.
  std::optional<CompletedTransaction> record(const protocol::BatchHeader& batch, int64_t now_ms,
                                             std::optional<protocol::ControlType> marker = std::nullopt,
                                             int32_t coordinator_epoch = -1);
  // The first offset of the oldest open transaction: nothing at or past it is stable.
  std::optional<int64_t> first_unstable_offset() const {
    if (open_transactions_.empty()) return std::nullopt;
    return open_transactions_.begin()->first;
  }
  // Open transactions, by the offset they began at.
  const std::map<int64_t, int64_t>& open_transactions() const { return open_transactions_; }
  // The aborted transactions whose records overlap [from, to): what a read_committed fetch of that range must
  // skip. The index lives here (and in every snapshot), ordered by marker offset, back to the log start.
  std::vector<AbortedTransaction> aborted_between(int64_t from, int64_t to) const;
  size_t aborted_count() const { return aborted_.size(); }
  // The cleaner removed the records of every aborted transaction whose marker lies below `offset`.
  void forget_aborted_before(int64_t offset) {
    while (!aborted_.empty() && aborted_.front().last_offset < offset) aborted_.pop_front();
  }
  // Forgets producers idle for longer than `expiration_ms` (producer.id.expiration.ms).
  size_t expire(int64_t now_ms, int64_t expiration_ms);
  // Forgets batches below `offset` (retention or DeleteRecords took them), and producers left with none.
  void truncate_head(int64_t offset);
  // Forgets everything at or above `offset` (the log was truncated). A producer left with nothing whose batches
  // here all went is as if never seen (it resends from where it started); one with earlier batches beyond the
  // five remembered is forgotten. A transaction whose marker went is open again.
  void truncate_tail(int64_t offset);

  size_t producer_count() const { return producers_.size(); }
  const std::map<int64_t, ProducerEntry>& producers() const { return producers_; }
  const ProducerEntry* find(int64_t producer_id) const;
  // Every producer with the last offset of its last batch (the batch compaction must keep).
  std::map<int64_t, int64_t> last_batch_offsets() const;

  // Snapshot bytes, and the reverse; parse_snapshot returns nullopt for anything damaged.
  std::vector<uint8_t> snapshot() const;
  static std::optional<ProducerStateManager> parse_snapshot(std::span<const uint8_t> bytes);

 private:
  void forget(int64_t producer_id);
  void open_transaction(int64_t producer_id, ProducerEntry& entry, int64_t first_offset);
  void close_transaction(ProducerEntry& entry);

  std::map<int64_t, ProducerEntry> producers_;
  // Open transactions: first offset -> producer id.
  std::map<int64_t, int64_t> open_transactions_;
  // The aborted-transaction index, by marker offset.
  std::deque<AbortedTransaction> aborted_;
  // Producers whose state expired or whose records were deleted: unlike a producer never seen, they may continue
  // at any sequence. The most recent ones only; kept in snapshots, so only those forgotten after the last
  // snapshot before a crash are lost (such a producer must then start again at 0, as librdkafka and the Java
  // client do on UNKNOWN_PRODUCER_ID).
  std::set<int64_t> forgotten_;
  std::deque<int64_t> forgotten_order_;
  static constexpr size_t kRememberedForgotten = 1000;
};

}  // namespace fjord::storage
