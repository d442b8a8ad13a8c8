// The transaction coordinator: Kafka's transaction state machine per transactional id (Empty, Ongoing,
// PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead; PrepareEpochFence is passed through in
// memory), kept as records in the internal __transaction_state topic (StateLog) and replayed when a partition of
// it is taken on. It hands out the producer id and epoch of a transactional id (fencing the previous instance),
// records the partitions a transaction writes to, and ends a transaction by writing its markers to every one of
// those partitions (MarkerWriter), retrying until each is written.
//
// A transaction whose producer stays silent past its transaction.timeout.ms is aborted with the producer's epoch
// bumped, so its late writes are refused; an id idle past transactional.id.expiration.ms is forgotten. It lives
// on one event loop; time and timers are injected.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/state_log.h"
#include "coordinator/transaction_records.h"
#include "model/clock.h"
#include "model/error_codes.h"
#include "model/executor.h"

namespace fjord::coordinator {

struct TransactionSettings {
  int64_t id_expiration_ms = 7LL * 24 * 3600 * 1000;  // transactional.id.expiration.ms
  int64_t abort_check_interval_ms = 10000;            // ...abort.timed.out.transaction.cleanup.interval.ms
  int64_t expiration_check_interval_ms = 3600000;     // ...remove.expired.transaction.cleanup.interval.ms
  int64_t marker_retry_backoff_ms = 100;              // between attempts at markers that could not be written
  // The finalized transaction.version feature: from 1 the state records are written in their flexible layout,
  // at 2 producers may use transactions v2 (EndTxn v5).
  int16_t transaction_version = 2;
};

struct ProducerIdentity {
  ErrorCode error = ErrorCode::kNone;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

// Writes the markers that end a transaction, each to its partition's leader.
class MarkerWriter {
 public:
  struct Marker {
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t coordinator_epoch;
    bool commit;
  };
  virtual ~MarkerWriter() = default;
  // `done` gets one error per partition: NONE once written, a retriable error (the coordinator tries again
  // later), or one that says the partition needs no marker any more (it is gone, or a newer epoch wrote there).
  virtual void write(const Marker& marker, const std::vector<TopicPartition>& partitions,
                     std::function<void(std::map<TopicPartition, ErrorCode>)> done) = 0;
};

// Where producer ids come from (the cluster-wide allocator).
using ProducerIdSource = std::function<void(std::function<void(ProducerIdentity)>)>;

struct TransactionListing {
  std::string transactional_id;
  int64_t producer_id = -1;
  TransactionState state = TransactionState::kEmpty;
  int64_t start_ms = -1;
};

struct TransactionDescription {
  ErrorCode error = ErrorCode::kNone;
  std::string transactional_id;
  TransactionState state = TransactionState::kEmpty;
  int32_t timeout_ms = 0;
  int64_t start_ms = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::vector<TopicPartition> partitions;
};

class TransactionCoordinator {
 public:
  TransactionCoordinator(StateLog& log, MarkerWriter& markers, ProducerIdSource producer_ids, const Clock& clock,
                         Scheduler& scheduler, TransactionSettings settings);
  ~TransactionCoordinator();

  // A single node: loads every partition of __transaction_state and coordinates every transactional id.
  void load();
  // A cluster: coordinates the ids of the partitions this broker leads, each loaded when it takes the lead and
  // dropped when it loses it. `coordinator_epoch` is the partition's leader epoch: markers carry it, so a
  // deposed coordinator's late markers are refused.
  void serve_led_partitions();
  void load_partition(int32_t partition, int32_t coordinator_epoch);
  void unload_partition(int32_t partition);
  // NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, or NONE.
  ErrorCode coordinator_error(const std::string& transactional_id) const;
  int32_t partition_for(const std::string& transactional_id) const;
  bool ensure_partitions() { return log_.ensure_partitions(); }

  // InitProducerId with a transactional id (its timeout already checked against transaction.max.timeout.ms, a
  // dynamic setting). `expected` (v3+) is the id and epoch the producer last had; a
  // transaction the previous instance left open is aborted first (the caller is told CONCURRENT_TRANSACTIONS
  // meanwhile and retries).
  void init_producer_id(const std::string& transactional_id, int32_t timeout_ms,
                        std::optional<ProducerIdentity> expected, std::function<void(ProducerIdentity)> done);
  // AddPartitionsToTxn / AddOffsetsToTxn: one error per partition, in the order given. `implicit`: a partition
  // leader or group coordinator adds the partition a transactions-v2 producer wrote to (AddPartitionsToTxn v5
  // from a broker), which marks the transaction as one of transactions v2.
  void add_partitions(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
                      const std::vector<TopicPartition>& partitions, std::function<void(std::vector<ErrorCode>)> done,
                      bool implicit = false);
  // AddPartitionsToTxn v4+ with verify_only: whether each partition is in the producer's ongoing transaction
  // (INVALID_TXN_STATE where it is not), changing nothing.
  std::vector<ErrorCode> verify_partitions(const std::string& transactional_id, int64_t producer_id,
                                           int16_t producer_epoch, const std::vector<TopicPartition>& partitions) const;
  // EndTxn: answered once the decision is durable; the markers follow. `bump_epoch` (EndTxn v5+, transactions
  // v2): the decision carries the producer's epoch + 1, so nothing the producer sent before it (a delayed produce
  // or EndTxn) can be taken for part of its next transaction; the answer names the producer id and epoch to use
  // next (a new producer id at epoch 0 once the epochs of this one are used up). A retried EndTxn (one epoch
  // behind) gets the outcome it already had. Without `bump_epoch` the answer's id and epoch are -1.
  void end_transaction(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch, bool commit,
                       bool bump_epoch, std::function<void(ProducerIdentity)> done);

  std::vector<TransactionListing> list() const;
  TransactionDescription describe(const std::string& transactional_id) const;
  size_t transaction_count() const { return transactions_.size(); }
  // Checks for timed-out transactions and expired ids now (the timers do it periodically).
  void abort_timed_out();
  void expire_ids();

 private:
  struct Transaction {
    std::string id;
    int32_t partition = 0;  // of __transaction_state
    StoredTransaction stored;
    // A state change being written: until it is durable other requests answer CONCURRENT_TRANSACTIONS.
    bool writing = false;
    // Markers still to write (PrepareCommit / PrepareAbort).
    std::set<TopicPartition> markers_pending;
    std::unique_ptr<TimerHandle> marker_retry;
  };

  Transaction* find(const std::string& transactional_id);
  const Transaction* find(const std::string& transactional_id) const;
  // Writes `next` as the id's state; `done` hears whether it is durable (the in-memory state changes only then).
  void write_state(Transaction& txn, StoredTransaction next, std::function<void(ErrorCode)> done);
  // PrepareCommit / PrepareAbort durable: writes the markers, then the Complete state.
  void send_markers(const std::string& transactional_id);
  void complete(const std::string& transactional_id);
  void end_transaction_v1(Transaction& txn, int64_t producer_id, int16_t producer_epoch, bool commit,
                          std::function<void(ProducerIdentity)> done);
  void end_transaction_v2(Transaction& txn, int64_t producer_id, int16_t producer_epoch, bool commit,
                          std::function<void(ProducerIdentity)> done);
  // Writes PrepareCommit/PrepareAbort (`next`), answers `done`, and sends the markers.
  void decide(Transaction& txn, StoredTransaction next, std::function<void(ProducerIdentity)> done);
  // Aborts an open transaction with the producer's epoch bumped (a new instance, or the timeout, fences it).
  void fence_and_abort(Transaction& txn);
  int16_t record_version() const { return settings_.transaction_version >= 1 ? 1 : 0; }
  void apply(const StateLog::Entry& entry, int32_t partition);
  void schedule_timers();
  void schedule_abort_check();
  void schedule_expiration_check();
  int32_t coordinator_epoch(int32_t partition) const;

  StateLog& log_;
  MarkerWriter& markers_;
  ProducerIdSource producer_ids_;
  const Clock& clock_;
  Scheduler& scheduler_;
  TransactionSettings settings_;
  bool serves_all_ = true;
  std::map<int32_t, int32_t> loaded_partitions_;  // partition -> coordinator epoch
  std::map<int32_t, uint64_t> loading_;
  uint64_t loads_started_ = 0;
  std::map<std::string, std::unique_ptr<Transaction>> transactions_;
  std::unique_ptr<TimerHandle> abort_timer_;
  std::unique_ptr<TimerHandle> expiration_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::coordinator
