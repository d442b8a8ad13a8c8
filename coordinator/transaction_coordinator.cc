#include "coordinator/transaction_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

namespace fjord::coordinator {
namespace {

bool preparing(TransactionState s) {
  return s == TransactionState::kPrepareCommit || s == TransactionState::kPrepareAbort;
}

bool ended(TransactionState s) {
  return s == TransactionState::kEmpty || s == TransactionState::kCompleteCommit ||
         s == TransactionState::kCompleteAbort;
}

// Epochs run up to 32767; a producer may use up to 32766, so that the coordinator can always fence it.
constexpr int16_t kMaxEpoch = std::numeric_limits<int16_t>::max();
bool epoch_exhausted(int16_t epoch) { return epoch >= kMaxEpoch - 1; }

// EndTxn while the transaction's end is being decided: the same decision is still being carried out (the client
// retries), the other one is wrong.
ErrorCode while_deciding(TransactionState state, bool commit) {
  const bool committing = state == TransactionState::kPrepareCommit;
  return commit == committing ? ErrorCode::kConcurrentTransactions : ErrorCode::kInvalidTxnState;
}

// Errors after which a partition needs no marker any more: it is gone, or a newer epoch already wrote there (so
// this transaction's records are ended by that epoch's marker).
bool marker_settled(ErrorCode error) {
  return error == ErrorCode::kNone || error == ErrorCode::kUnknownTopicOrPartition ||
         error == ErrorCode::kInvalidProducerEpoch || error == ErrorCode::kTransactionCoordinatorFenced;
}

}  // namespace

TransactionCoordinator::TransactionCoordinator(StateLog& log, MarkerWriter& markers, ProducerIdSource producer_ids,
                                               const Clock& clock, Scheduler& scheduler, TransactionSettings settings)
    : log_(log),
      markers_(markers),
      producer_ids_(std::move(producer_ids)),
      clock_(clock),
      scheduler_(scheduler),
      settings_(settings) {}

TransactionCoordinator::~TransactionCoordinator() { *alive_ = false; }

int32_t TransactionCoordinator::partition_for(const std::string& transactional_id) const {
  return transaction_partition_for(transactional_id, log_.partition_count());
}

ErrorCode TransactionCoordinator::coordinator_error(const std::string& transactional_id) const {
  const int32_t partition = partition_for(transactional_id);
  if (loading_.count(partition)) return ErrorCode::kCoordinatorLoadInProgress;
  if (serves_all_ || loaded_partitions_.count(partition)) return ErrorCode::kNone;
  return ErrorCode::kNotCoordinator;
}

int32_t TransactionCoordinator::coordinator_epoch(int32_t partition) const {
  auto it = loaded_partitions_.find(partition);
  return it == loaded_partitions_.end() ? 0 : it->second;
}

TransactionCoordinator::Transaction* TransactionCoordinator::find(const std::string& transactional_id) {
  auto it = transactions_.find(transactional_id);
  return it == transactions_.end() ? nullptr : it->second.get();
}

const TransactionCoordinator::Transaction* TransactionCoordinator::find(const std::string& transactional_id) const {
  auto it = transactions_.find(transactional_id);
  return it == transactions_.end() ? nullptr : it->second.get();
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

void TransactionCoordinator::load() {
  serves_all_ = true;
  for (int32_t p = 0; p < log_.partition_count(); ++p) load_partition(p, 0);
  schedule_timers();
}

void TransactionCoordinator::serve_led_partitions() {
  serves_all_ = false;
  schedule_timers();
}

void TransactionCoordinator::load_partition(int32_t partition, int32_t coordinator_epoch) {
  unload_partition(partition);
  const uint64_t load = ++loads_started_;
  loading_[partition] = load;
  auto current = [this, alive = std::weak_ptr<bool>(alive_), partition, load] {
    auto still = alive.lock();
    if (!still || !*still) return false;
    auto it = loading_.find(partition);
    return it != loading_.end() && it->second == load;
  };
  log_.read_partition(
      partition,
      [this, current, partition](std::vector<StateLog::Entry> entries) {
        if (!current()) return;
        for (const auto& entry : entries) apply(entry, partition);
      },
      [this, current, partition, coordinator_epoch](bool ok) {
        if (!current()) return;
        loading_.erase(partition);
        if (!ok) {
          spdlog::error("cannot read {}-{} back; its transactional ids are not coordinated here",
                        kTransactionStateTopic, partition);
          unload_partition(partition);
          return;
        }
        loaded_partitions_[partition] = coordinator_epoch;
        // Transactions that were decided but whose markers were not all written: this coordinator writes them.
        std::vector<std::string> resume;
        for (const auto& [id, txn] : transactions_) {
          if (txn->partition == partition && preparing(txn->stored.state)) resume.push_back(id);
        }
        for (const auto& id : resume) send_markers(id);
      });
}

void TransactionCoordinator::unload_partition(int32_t partition) {
  loading_.erase(partition);
  loaded_partitions_.erase(partition);
  std::erase_if(transactions_, [partition](const auto& kv) { return kv.second->partition == partition; });
}

void TransactionCoordinator::apply(const StateLog::Entry& entry, int32_t partition) {
  auto id = decode_transaction_key(entry.key);
  if (!id) return;
  if (!entry.value) {
    transactions_.erase(*id);
    return;
  }
  auto stored = decode_transaction(*entry.value);
  if (!stored) return;
  auto& txn = transactions_[*id];
  if (!txn) txn = std::make_unique<Transaction>();
  txn->id = *id;
  txn->partition = partition;
  txn->stored = std::move(*stored);
}

// ---------------------------------------------------------------------------------------------------------------
// Writing state

void TransactionCoordinator::write_state(Transaction& txn, StoredTransaction next,
                                         std::function<void(ErrorCode)> done) {
  txn.writing = true;
  std::vector<StateLog::Entry> entries;
  entries.push_back({encode_transaction_key(txn.id), encode_transaction(next, record_version())});
  log_.append(txn.partition, std::move(entries),
              [this, alive = std::weak_ptr<bool>(alive_), id = txn.id, next, done](ErrorCode error) {
                auto still = alive.lock();
                if (!still || !*still) return;
                Transaction* current = find(id);
                if (!current) return done(ErrorCode::kNotCoordinator);  // unloaded meanwhile
                current->writing = false;
                if (error == ErrorCode::kNone) current->stored = next;
                done(error);
              });
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

void TransactionCoordinator::init_producer_id(const std::string& transactional_id, int32_t timeout_ms,
                                              std::optional<ProducerIdentity> expected,
                                              std::function<void(ProducerIdentity)> done) {
  auto fail = [&done](ErrorCode error) { done({error, -1, -1}); };
  if (auto error = coordinator_error(transactional_id); error != ErrorCode::kNone) return fail(error);
  if (timeout_ms <= 0) return fail(ErrorCode::kInvalidTransactionTimeout);
  Transaction* txn = find(transactional_id);
  if (!txn) {
    // A new transactional id: a new producer id at epoch 0, Empty.
    producer_ids_(
        [this, alive = std::weak_ptr<bool>(alive_), transactional_id, timeout_ms, done](ProducerIdentity fresh) {
          auto still = alive.lock();
          if (!still || !*still) return;
          if (fresh.error != ErrorCode::kNone) return done({fresh.error, -1, -1});
          if (auto error = coordinator_error(transactional_id); error != ErrorCode::kNone) return done({error, -1, -1});
          if (find(transactional_id)) return done({ErrorCode::kConcurrentTransactions, -1, -1});
          auto& created = transactions_[transactional_id];
          created = std::make_unique<Transaction>();
          created->id = transactional_id;
          created->partition = partition_for(transactional_id);
          StoredTransaction next;
          next.producer_id = fresh.producer_id;
          next.producer_epoch = 0;
          next.timeout_ms = timeout_ms;
          next.state = TransactionState::kEmpty;
          next.last_update_ms = clock_.now_ms();
          created->stored = next;
          write_state(*created, next, [this, transactional_id, next, done](ErrorCode error) {
            if (error != ErrorCode::kNone) {
              if (auto* txn = find(transactional_id); txn && txn->stored.producer_id == next.producer_id) {
                transactions_.erase(transactional_id);  // never written: as if never asked
              }
              return done({error, -1, -1});
            }
            done({ErrorCode::kNone, next.producer_id, next.producer_epoch});
          });
        });
    return;
  }
  if (txn->writing || preparing(txn->stored.state)) return fail(ErrorCode::kConcurrentTransactions);
  if (expected && expected->producer_id >= 0 &&
      (expected->producer_id != txn->stored.producer_id || expected->producer_epoch != txn->stored.producer_epoch)) {
    return fail(ErrorCode::kProducerFenced);
  }
  if (txn->stored.state == TransactionState::kOngoing) {
    // The previous instance left a transaction open: it is aborted under a bumped epoch (fencing that instance),
    // and this one asks again once it is complete.
    fence_and_abort(*txn);
    return fail(ErrorCode::kConcurrentTransactions);
  }
  StoredTransaction next = txn->stored;
  next.state = TransactionState::kEmpty;
  next.partitions.clear();
  next.timeout_ms = timeout_ms;
  next.start_ms = -1;
  next.last_update_ms = clock_.now_ms();
  auto write = [this, transactional_id, done](StoredTransaction next) {
    Transaction* txn = find(transactional_id);
    if (!txn) return done({ErrorCode::kNotCoordinator, -1, -1});
    write_state(*txn, next, [next, done](ErrorCode error) {
      if (error != ErrorCode::kNone) return done({error, -1, -1});
      done({ErrorCode::kNone, next.producer_id, next.producer_epoch});
    });
  };
  if (next.producer_epoch < std::numeric_limits<int16_t>::max() - 1) {
    next.producer_epoch = static_cast<int16_t>(next.producer_epoch + 1);
    return write(next);
  }
  // The epoch is exhausted: a new producer id starts again at 0.
  txn->writing = true;
  producer_ids_(
      [this, alive = std::weak_ptr<bool>(alive_), transactional_id, next, write, done](ProducerIdentity fresh) mutable {
        auto still = alive.lock();
        if (!still || !*still) return;
        Transaction* txn = find(transactional_id);
        if (!txn) return done({ErrorCode::kNotCoordinator, -1, -1});
        txn->writing = false;
        if (fresh.error != ErrorCode::kNone) return done({fresh.error, -1, -1});
        next.producer_id = fresh.producer_id;
        next.producer_epoch = 0;
        write(next);
      });
}

void TransactionCoordinator::add_partitions(const std::string& transactional_id, int64_t producer_id,
                                            int16_t producer_epoch, const std::vector<TopicPartition>& partitions,
                                            std::function<void(std::vector<ErrorCode>)> done, bool implicit) {
  auto fail = [&](ErrorCode error) { done(std::vector<ErrorCode>(partitions.size(), error)); };
  if (auto error = coordinator_error(transactional_id); error != ErrorCode::kNone) return fail(error);
  Transaction* txn = find(transactional_id);
  if (!txn || txn->stored.producer_id != producer_id) return fail(ErrorCode::kInvalidProducerIdMapping);
  if (txn->stored.producer_epoch != producer_epoch) return fail(ErrorCode::kProducerFenced);
  if (txn->writing || preparing(txn->stored.state)) return fail(ErrorCode::kConcurrentTransactions);
  StoredTransaction next = txn->stored;
  const bool starting = next.state != TransactionState::kOngoing;
  bool added = false;
  for (const auto& tp : partitions) {
    auto at = std::lower_bound(next.partitions.begin(), next.partitions.end(), tp);
    if (at != next.partitions.end() && *at == tp) continue;
    next.partitions.insert(at, tp);
    added = true;
  }
  if (!added && !starting) return done(std::vector<ErrorCode>(partitions.size(), ErrorCode::kNone));
  next.state = TransactionState::kOngoing;
  if (implicit) next.client_transaction_version = 2;
  const int64_t now = clock_.now_ms();
  if (starting) next.start_ms = now;
  next.last_update_ms = now;
  const size_t count = partitions.size();
  write_state(*txn, next, [done, count](ErrorCode error) { done(std::vector<ErrorCode>(count, error)); });
}

std::vector<ErrorCode> TransactionCoordinator::verify_partitions(const std::string& transactional_id,
                                                                 int64_t producer_id, int16_t producer_epoch,
                                                                 const std::vector<TopicPartition>& partitions) const {
  std::vector<ErrorCode> errors(partitions.size(), ErrorCode::kNone);
  ErrorCode all = coordinator_error(transactional_id);
  const Transaction* txn = find(transactional_id);
  if (all == ErrorCode::kNone) {
    if (!txn || txn->stored.producer_id != producer_id) {
      all = ErrorCode::kInvalidProducerIdMapping;
    } else if (txn->stored.producer_epoch != producer_epoch) {
      all = ErrorCode::kProducerFenced;
    }
  }
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (all != ErrorCode::kNone) {
      errors[i] = all;
    } else if (txn->stored.state != TransactionState::kOngoing ||
               !std::binary_search(txn->stored.partitions.begin(), txn->stored.partitions.end(), partitions[i])) {
      errors[i] = ErrorCode::kInvalidTxnState;
    }
  }
  return errors;
}

void TransactionCoordinator::end_transaction(const std::string& transactional_id, int64_t producer_id,
                                             int16_t producer_epoch, bool commit, bool bump_epoch,
                                             std::function<void(ProducerIdentity)> done) {
  if (auto error = coordinator_error(transactional_id); error != ErrorCode::kNone) return done({error, -1, -1});
  Transaction* txn = find(transactional_id);
  if (!txn) return done({ErrorCode::kInvalidProducerIdMapping, -1, -1});
  if (bump_epoch) return end_transaction_v2(*txn, producer_id, producer_epoch, commit, std::move(done));
  end_transaction_v1(*txn, producer_id, producer_epoch, commit, std::move(done));
}

void TransactionCoordinator::end_transaction_v1(Transaction& txn, int64_t producer_id, int16_t producer_epoch,
                                                bool commit, std::function<void(ProducerIdentity)> done) {
  auto answer = [&done](ErrorCode error) { done({error, -1, -1}); };
  if (txn.stored.producer_id != producer_id) return answer(ErrorCode::kInvalidProducerIdMapping);
  if (txn.stored.producer_epoch != producer_epoch) return answer(ErrorCode::kProducerFenced);
  if (txn.writing) return answer(ErrorCode::kConcurrentTransactions);
  switch (txn.stored.state) {
    case TransactionState::kOngoing:
      break;
    case TransactionState::kPrepareCommit:
    case TransactionState::kPrepareAbort:
      return answer(while_deciding(txn.stored.state, commit));
    case TransactionState::kCompleteCommit:
      // A retry of the EndTxn that completed it.
      return answer(commit ? ErrorCode::kNone : ErrorCode::kInvalidTxnState);
    case TransactionState::kCompleteAbort:
      return answer(commit ? ErrorCode::kInvalidTxnState : ErrorCode::kNone);
    default:
      return answer(ErrorCode::kInvalidTxnState);
  }
  StoredTransaction next = txn.stored;
  next.state = commit ? TransactionState::kPrepareCommit : TransactionState::kPrepareAbort;
  next.last_update_ms = clock_.now_ms();
  decide(txn, next, [done](ProducerIdentity decided) { done({decided.error, -1, -1}); });
}

// Transactions v2, as Kafka decides it. With the epoch bumped by every EndTxn, the same epoch in a request no
// longer tells a retry from the next transaction's end: a retry is one epoch behind the state (or, after the
// producer id was replaced, names the old id at its last usable epoch), and gets the outcome it already had. An
// abort with no transaction open (Empty, Complete*: the producer wrote, but no partition was added) is allowed
// and bumps the epoch, so whatever it sent is fenced.
void TransactionCoordinator::end_transaction_v2(Transaction& txn, int64_t producer_id, int16_t producer_epoch,
                                                bool commit, std::function<void(ProducerIdentity)> done) {
  const StoredTransaction& s = txn.stored;
  auto answer = [&done](ErrorCode error) { done({error, -1, -1}); };
  const bool retry_on_overflow = s.producer_id != producer_id && s.previous_producer_id == producer_id &&
                                 producer_epoch == kMaxEpoch - 1 && s.producer_epoch == 0;
  const bool retry_on_bump = s.producer_id == producer_id && s.producer_epoch == producer_epoch + 1;
  const bool retry = retry_on_bump || retry_on_overflow;
  if (s.producer_id != producer_id && !retry_on_overflow) return answer(ErrorCode::kInvalidProducerIdMapping);
  bool valid_epoch = false;
  switch (s.state) {
    case TransactionState::kPrepareCommit:
    case TransactionState::kPrepareAbort:
      valid_epoch = retry_on_bump;
      break;
    case TransactionState::kCompleteCommit:
    case TransactionState::kCompleteAbort:
      valid_epoch = retry || producer_epoch == s.producer_epoch;
      break;
    default:
      valid_epoch = producer_epoch == s.producer_epoch;
      break;
  }
  if (!valid_epoch) return answer(ErrorCode::kProducerFenced);
  if (txn.writing) return answer(ErrorCode::kConcurrentTransactions);
  const ProducerIdentity current{ErrorCode::kNone, s.producer_id, s.producer_epoch};
  bool nothing_added = false;
  switch (s.state) {
    case TransactionState::kOngoing:
      break;
    case TransactionState::kPrepareCommit:
    case TransactionState::kPrepareAbort:
      return answer(while_deciding(txn.stored.state, commit));
    case TransactionState::kCompleteCommit:
      if (commit) return retry ? done(current) : answer(ErrorCode::kInvalidTxnState);
      if (retry) return answer(ErrorCode::kInvalidTxnState);
      nothing_added = true;
      break;
    case TransactionState::kCompleteAbort:
      if (commit) return answer(ErrorCode::kInvalidTxnState);
      if (retry) return done(current);
      nothing_added = true;
      break;
    case TransactionState::kEmpty:
      if (commit) return answer(ErrorCode::kInvalidTxnState);
      nothing_added = true;
      break;
    default:
      return answer(ErrorCode::kInvalidTxnState);
  }
  StoredTransaction next = s;
  next.state = commit ? TransactionState::kPrepareCommit : TransactionState::kPrepareAbort;
  next.client_transaction_version = 2;
  next.last_update_ms = clock_.now_ms();
  if (nothing_added) {
    next.partitions.clear();
    next.start_ms = next.last_update_ms;
  }
  next.producer_epoch = static_cast<int16_t>(s.producer_epoch + 1);
  if (!epoch_exhausted(s.producer_epoch)) return decide(txn, next, std::move(done));
  // The markers go out at this id's last epoch; the producer continues under a new id at epoch 0.
  txn.writing = true;
  producer_ids_([this, alive = std::weak_ptr<bool>(alive_), id = txn.id, next, done](ProducerIdentity fresh) mutable {
    auto still = alive.lock();
    if (!still || !*still) return;
    Transaction* txn = find(id);
    if (!txn) return done({ErrorCode::kNotCoordinator, -1, -1});
    txn->writing = false;
    if (fresh.error != ErrorCode::kNone) return done({fresh.error, -1, -1});
    next.next_producer_id = fresh.producer_id;
    decide(*txn, next, std::move(done));
  });
}

void TransactionCoordinator::decide(Transaction& txn, StoredTransaction next,
                                    std::function<void(ProducerIdentity)> done) {
  // What the producer uses next: the bumped epoch, or the new producer id.
  const ProducerIdentity following = next.next_producer_id >= 0
                                         ? ProducerIdentity{ErrorCode::kNone, next.next_producer_id, 0}
                                         : ProducerIdentity{ErrorCode::kNone, next.producer_id, next.producer_epoch};
  write_state(txn, next, [this, id = txn.id, following, done](ErrorCode error) {
    if (error != ErrorCode::kNone) return done({error, -1, -1});
    done(following);
    send_markers(id);
  });
}

void TransactionCoordinator::fence_and_abort(Transaction& txn) {
  StoredTransaction next = txn.stored;
  // The bumped epoch goes into the markers: the fenced producer's later writes (and its EndTxn) are refused. A
  // transactions-v2 producer expects its own EndTxn to bump the epoch once, so fencing it takes two bumps (as in
  // Kafka): its EndTxn then cannot pass for a retry of this abort.
  const int bumps = next.client_transaction_version >= 2 ? 2 : 1;
  next.producer_epoch = static_cast<int16_t>(std::min<int>(next.producer_epoch + bumps, kMaxEpoch));
  next.state = TransactionState::kPrepareAbort;
  next.last_update_ms = clock_.now_ms();
  spdlog::info("aborting transaction of {} (producer {}), fencing epoch {}", txn.id, next.producer_id,
               txn.stored.producer_epoch);
  write_state(txn, next, [this, id = txn.id](ErrorCode error) {
    if (error == ErrorCode::kNone) send_markers(id);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Markers

void TransactionCoordinator::send_markers(const std::string& transactional_id) {
  Transaction* txn = find(transactional_id);
  if (!txn || !preparing(txn->stored.state)) return;
  if (txn->markers_pending.empty()) {
    txn->markers_pending.insert(txn->stored.partitions.begin(), txn->stored.partitions.end());
  }
  if (txn->markers_pending.empty()) return complete(transactional_id);
  MarkerWriter::Marker marker{txn->stored.producer_id, txn->stored.producer_epoch, coordinator_epoch(txn->partition),
                              txn->stored.state == TransactionState::kPrepareCommit};
  std::vector<TopicPartition> pending(txn->markers_pending.begin(), txn->markers_pending.end());
  markers_.write(marker, pending,
                 [this, alive = std::weak_ptr<bool>(alive_), transactional_id,
                  producer_epoch = marker.producer_epoch](std::map<TopicPartition, ErrorCode> results) {
                   auto still = alive.lock();
                   if (!still || !*still) return;
                   Transaction* txn = find(transactional_id);
                   if (!txn || !preparing(txn->stored.state) || txn->stored.producer_epoch != producer_epoch) return;
                   bool retriable = false;
                   for (const auto& [tp, error] : results) {
                     if (marker_settled(error)) {
                       txn->markers_pending.erase(tp);
                     } else {
                       retriable = true;
                       spdlog::debug("marker for {} on {}-{} not written yet: {}", transactional_id, tp.topic,
                                     tp.partition, static_cast<int>(error));
                     }
                   }
                   if (!retriable && txn->markers_pending.empty()) return complete(transactional_id);
                   txn->marker_retry =
                       scheduler_.schedule_after(settings_.marker_retry_backoff_ms,
                                                 [this, alive = std::weak_ptr<bool>(alive_), transactional_id] {
                                                   auto still = alive.lock();
                                                   if (still && *still) send_markers(transactional_id);
                                                 });
                 });
}

void TransactionCoordinator::complete(const std::string& transactional_id) {
  Transaction* txn = find(transactional_id);
  if (!txn || !preparing(txn->stored.state) || txn->writing) return;
  StoredTransaction next = txn->stored;
  next.state = next.state == TransactionState::kPrepareCommit ? TransactionState::kCompleteCommit
                                                              : TransactionState::kCompleteAbort;
  next.partitions.clear();
  if (next.next_producer_id >= 0) {
    // Transactions v2 used up this producer id's epochs: its markers are written, the new id takes over.
    next.previous_producer_id = next.producer_id;
    next.producer_id = next.next_producer_id;
    next.next_producer_id = -1;
    next.producer_epoch = 0;
  }
  next.last_update_ms = clock_.now_ms();
  write_state(*txn, next, [this, alive = std::weak_ptr<bool>(alive_), transactional_id](ErrorCode error) {
    if (error == ErrorCode::kNone) return;
    // Still PrepareX: tried again after a pause (its markers are all written, so only the state is).
    Transaction* txn = find(transactional_id);
    if (!txn) return;
    txn->marker_retry = scheduler_.schedule_after(settings_.marker_retry_backoff_ms, [this, alive, transactional_id] {
      auto still = alive.lock();
      if (still && *still) complete(transactional_id);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Timeouts and expiry

void TransactionCoordinator::schedule_timers() {
  schedule_abort_check();
  schedule_expiration_check();
}

void TransactionCoordinator::schedule_abort_check() {
  abort_timer_ =
      scheduler_.schedule_after(settings_.abort_check_interval_ms, [this, alive = std::weak_ptr<bool>(alive_)] {
        auto still = alive.lock();
        if (!still || !*still) return;
        abort_timed_out();
        schedule_abort_check();
      });
}

void TransactionCoordinator::schedule_expiration_check() {
  expiration_timer_ =
      scheduler_.schedule_after(settings_.expiration_check_interval_ms, [this, alive = std::weak_ptr<bool>(alive_)] {
        auto still = alive.lock();
        if (!still || !*still) return;
        expire_ids();
        schedule_expiration_check();
      });
}

void TransactionCoordinator::abort_timed_out() {
  const int64_t now = clock_.now_ms();
  std::vector<Transaction*> due;
  for (auto& [id, txn] : transactions_) {
    if (coordinator_error(id) != ErrorCode::kNone) continue;
    const auto& s = txn->stored;
    if (s.state == TransactionState::kOngoing && !txn->writing && s.start_ms >= 0 && now - s.start_ms > s.timeout_ms) {
      due.push_back(txn.get());
    }
  }
  for (auto* txn : due) fence_and_abort(*txn);
}

void TransactionCoordinator::expire_ids() {
  const int64_t now = clock_.now_ms();
  std::vector<std::string> due;
  for (auto& [id, txn] : transactions_) {
    if (coordinator_error(id) != ErrorCode::kNone) continue;
    if (ended(txn->stored.state) && !txn->writing && now - txn->stored.last_update_ms > settings_.id_expiration_ms) {
      due.push_back(id);
    }
  }
  for (const auto& id : due) {
    Transaction* txn = find(id);
    txn->writing = true;
    std::vector<StateLog::Entry> entries;
    entries.push_back({encode_transaction_key(id), std::nullopt});
    log_.append(txn->partition, std::move(entries), [this, alive = std::weak_ptr<bool>(alive_), id](ErrorCode error) {
      auto still = alive.lock();
      if (!still || !*still) return;
      Transaction* txn = find(id);
      if (!txn) return;
      txn->writing = false;
      if (error == ErrorCode::kNone && ended(txn->stored.state)) transactions_.erase(id);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Admin

std::vector<TransactionListing> TransactionCoordinator::list() const {
  std::vector<TransactionListing> out;
  for (const auto& [id, txn] : transactions_) {
    if (coordinator_error(id) != ErrorCode::kNone) continue;
    out.push_back({id, txn->stored.producer_id, txn->stored.state, txn->stored.start_ms});
  }
  return out;
}

TransactionDescription TransactionCoordinator::describe(const std::string& transactional_id) const {
  TransactionDescription d;
  d.transactional_id = transactional_id;
  if (auto error = coordinator_error(transactional_id); error != ErrorCode::kNone) {
    d.error = error;
    return d;
  }
  const Transaction* txn = find(transactional_id);
  if (!txn) {
    d.error = ErrorCode::kTransactionalIdNotFound;
    return d;
  }
  d.state = txn->stored.state;
  d.timeout_ms = txn->stored.timeout_ms;
  d.start_ms = txn->stored.start_ms;
  d.producer_id = txn->stored.producer_id;
  d.producer_epoch = txn->stored.producer_epoch;
  d.partitions = txn->stored.partitions;
  return d;
}

}  // namespace fjord::coordinator
