#include "storage/producer_state.h"

#include <algorithm>

#include "protocol/codec_runtime.h"
#include "protocol/crc32c.h"

namespace fjord::storage {
namespace {

// Sequence numbers wrap from INT32_MAX to 0.
bool follows(int32_t last, int32_t next) { return last == INT32_MAX ? next == 0 : next == last + 1; }

int32_t last_sequence_of(const protocol::BatchHeader& b) {
  int64_t last = static_cast<int64_t>(b.base_sequence) + b.last_offset_delta;
  return static_cast<int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
}

// Version 2 added the forgotten producers, version 3 transactions; older snapshots are still read.
constexpr int16_t kSnapshotVersion = 3;

}  // namespace

const ProducerEntry* ProducerStateManager::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

ProducerCheck ProducerStateManager::check_marker(int64_t producer_id, int16_t producer_epoch,
                                                 int32_t coordinator_epoch) const {
  ProducerCheck result;
  const ProducerEntry* entry = find(producer_id);
  if (!entry) return result;
  if (producer_epoch < entry->epoch) {
    result.outcome = ProducerCheck::Outcome::kRefuse;
    result.error = ErrorCode::kInvalidProducerEpoch;
    result.message = "A marker for epoch " + std::to_string(producer_epoch) + " of producer " +
                     std::to_string(producer_id) + ", whose current epoch is " + std::to_string(entry->epoch);
  } else if (coordinator_epoch < entry->coordinator_epoch) {
    result.outcome = ProducerCheck::Outcome::kRefuse;
    result.error = ErrorCode::kTransactionCoordinatorFenced;
    result.message = "A marker from coordinator epoch " + std::to_string(coordinator_epoch) + ", older than " +
                     std::to_string(entry->coordinator_epoch);
  }
  return result;
}

ProducerCheck ProducerStateManager::check(const protocol::BatchHeader& batch) const {
  ProducerCheck result;
  if (batch.producer_id < 0 || batch.is_control()) return result;
  auto it = producers_.find(batch.producer_id);
  if (it == producers_.end()) {
    // A producer this partition never held state for must start at sequence 0. Accepting a later batch, as Kafka
    // does, loses acknowledged records: when a producer's first request was refused while its second was in
    // flight, the client takes the second's success as proof the first was written too and reports its records
    // delivered. UNKNOWN_PRODUCER_ID makes librdkafka start a new epoch at 0 and resend everything in order.
    // A producer this partition forgot (idle too long, or its records deleted) may continue at any sequence, as
    // in Kafka: some clients (kafka-python) can only resume that way.
    if (batch.base_sequence != 0 && !forgotten_.count(batch.producer_id)) {
      result.outcome = ProducerCheck::Outcome::kRefuse;
      result.error = ErrorCode::kUnknownProducerId;
      result.message = "Producer " + std::to_string(batch.producer_id) +
                       " has written nothing here: its first batch must have sequence 0, not " +
                       std::to_string(batch.base_sequence);
    }
    return result;
  }
  const ProducerEntry& entry = it->second;
  if (batch.producer_epoch < entry.epoch) {
    result.outcome = ProducerCheck::Outcome::kRefuse;
    result.error = ErrorCode::kInvalidProducerEpoch;
    result.message = "Epoch " + std::to_string(batch.producer_epoch) + " of producer " +
                     std::to_string(batch.producer_id) + " is older than its current epoch " +
                     std::to_string(entry.epoch);
    return result;
  }
  if (batch.producer_epoch > entry.epoch) {
    if (batch.base_sequence != 0) {
      result.outcome = ProducerCheck::Outcome::kRefuse;
      result.error = ErrorCode::kOutOfOrderSequenceNumber;
      result.message = "A new epoch of producer " + std::to_string(batch.producer_id) +
                       " must start at sequence 0, "
                       "not " +
                       std::to_string(batch.base_sequence);
    }
    return result;
  }
  const int32_t last = last_sequence_of(batch);
  for (const auto& remembered : entry.batches) {
    if (remembered.first_sequence == batch.base_sequence && remembered.last_sequence == last) {
      result.outcome = ProducerCheck::Outcome::kDuplicate;
      result.original = remembered;
      return result;
    }
  }
  if (!entry.batches.empty() && !follows(entry.batches.back().last_sequence, batch.base_sequence)) {
    result.outcome = ProducerCheck::Outcome::kRefuse;
    result.error = ErrorCode::kOutOfOrderSequenceNumber;
    result.message = "Out of order sequence number for producer " + std::to_string(batch.producer_id) + ": " +
                     std::to_string(batch.base_sequence) + " (incoming), " +
                     std::to_string(entry.batches.back().last_sequence) + " (last written)";
  }
  return result;
}

void ProducerStateManager::open_transaction(int64_t producer_id, ProducerEntry& entry, int64_t first_offset) {
  entry.open_transaction_offset = first_offset;
  open_transactions_[first_offset] = producer_id;
}

void ProducerStateManager::close_transaction(ProducerEntry& entry) {
  if (entry.open_transaction_offset < 0) return;
  open_transactions_.erase(entry.open_transaction_offset);
  entry.open_transaction_offset = -1;
}

std::optional<CompletedTransaction> ProducerStateManager::record(const protocol::BatchHeader& batch, int64_t now_ms,
                                                                 std::optional<protocol::ControlType> marker,
                                                                 int32_t coordinator_epoch) {
  if (batch.producer_id < 0) return std::nullopt;
  ProducerEntry& entry = producers_[batch.producer_id];
  entry.last_timestamp_ms = std::max(entry.last_timestamp_ms, now_ms);
  if (batch.is_control()) {
    // A marker may carry a newer epoch (the coordinator bumped it, fencing the transaction's writers): the
    // producer's next batch starts that epoch at sequence 0.
    if (batch.producer_epoch > entry.epoch) {
      entry.epoch = batch.producer_epoch;
      entry.batches.clear();
    }
    entry.coordinator_epoch = std::max(entry.coordinator_epoch, coordinator_epoch);
    if (!marker) return std::nullopt;
    // A transaction that wrote nothing here (the partition was added, then the transaction ended) ends at its
    // marker, as in Kafka.
    CompletedTransaction done{batch.producer_id,
                              entry.open_transaction_offset >= 0 ? entry.open_transaction_offset : batch.base_offset,
                              batch.base_offset, *marker == protocol::ControlType::kAbort};
    close_transaction(entry);
    if (done.aborted) {
      const int64_t stable = std::min(first_unstable_offset().value_or(INT64_MAX), batch.base_offset + 1);
      aborted_.push_back({batch.producer_id, done.first_offset, done.last_offset, stable});
    }
    entry.completed.push_back(done);
    if (entry.completed.size() > ProducerEntry::kRememberedBatches) entry.completed.pop_front();
    return done;
  }
  if (batch.producer_epoch != entry.epoch) {
    entry.epoch = batch.producer_epoch;
    entry.batches.clear();
  }
  entry.batches.push_back({batch.base_sequence, last_sequence_of(batch), batch.base_offset, batch.last_offset()});
  if (entry.batches.size() > ProducerEntry::kRememberedBatches) entry.batches.pop_front();
  if (batch.is_transactional() && entry.open_transaction_offset < 0) {
    open_transaction(batch.producer_id, entry, batch.base_offset);
  }
  return std::nullopt;
}

size_t ProducerStateManager::expire(int64_t now_ms, int64_t expiration_ms) {
  return std::erase_if(producers_, [&](const auto& kv) {
    // A producer with an open transaction is kept: its transaction ends by its marker (or the coordinator's
    // timeout), not by idleness.
    const bool idle = now_ms - kv.second.last_timestamp_ms > expiration_ms && kv.second.open_transaction_offset < 0;
    if (idle) forget(kv.first);
    return idle;
  });
}

std::vector<AbortedTransaction> ProducerStateManager::aborted_between(int64_t from, int64_t to) const {
  std::vector<AbortedTransaction> found;
  auto it = std::lower_bound(aborted_.begin(), aborted_.end(), from,
                             [](const AbortedTransaction& t, int64_t offset) { return t.last_offset < offset; });
  for (; it != aborted_.end(); ++it) {
    if (it->first_offset < to) found.push_back(*it);
    // Every transaction aborted later began at or after this LSO, so none of them reaches below `to`.
    if (it->last_stable_offset >= to) break;
  }
  return found;
}

void ProducerStateManager::truncate_head(int64_t offset) {
  while (!aborted_.empty() && aborted_.front().last_offset < offset) aborted_.pop_front();
  for (auto it = producers_.begin(); it != producers_.end();) {
    auto& batches = it->second.batches;
    while (!batches.empty() && batches.front().last_offset < offset) batches.pop_front();
    auto& completed = it->second.completed;
    while (!completed.empty() && completed.front().last_offset < offset) completed.pop_front();
    if (batches.empty() && it->second.open_transaction_offset < 0) {
      forget(it->first);
      it = producers_.erase(it);
    } else {
      ++it;
    }
  }
}

void ProducerStateManager::forget(int64_t producer_id) {
  if (!forgotten_.insert(producer_id).second) return;
  forgotten_order_.push_back(producer_id);
  if (forgotten_order_.size() > kRememberedForgotten) {
    forgotten_.erase(forgotten_order_.front());
    forgotten_order_.pop_front();
  }
}

void ProducerStateManager::truncate_tail(int64_t offset) {
  while (!aborted_.empty() && aborted_.back().last_offset >= offset) aborted_.pop_back();
  for (auto it = producers_.begin(); it != producers_.end();) {
    auto& entry = it->second;
    if (entry.open_transaction_offset >= offset) close_transaction(entry);
    // A transaction whose marker went is open again, from its first offset, if that stays.
    while (!entry.completed.empty() && entry.completed.back().last_offset >= offset) {
      const CompletedTransaction reopened = entry.completed.back();
      entry.completed.pop_back();
      if (reopened.first_offset < offset && reopened.first_offset < reopened.last_offset) {
        close_transaction(entry);
        open_transaction(it->first, entry, reopened.first_offset);
      }
    }
    auto& batches = entry.batches;
    // Whether this epoch's first batch is among those remembered: if not, earlier batches were written here.
    const bool started_in_window = !batches.empty() && batches.front().first_sequence == 0;
    while (!batches.empty() && batches.back().first_offset >= offset) batches.pop_back();
    if (batches.empty() && entry.open_transaction_offset < 0) {
      if (!started_in_window) forget(it->first);
      it = producers_.erase(it);
    } else {
      ++it;
    }
  }
}

// Snapshot layout: storage/FORMAT.md, "Producer state snapshots".
std::vector<uint8_t> ProducerStateManager::snapshot() const {
  protocol::Writer body;
  body.write_int32(static_cast<int32_t>(producers_.size()));
  for (const auto& [id, entry] : producers_) {
    body.write_int64(id);
    body.write_int16(entry.epoch);
    body.write_int64(entry.last_timestamp_ms);
    body.write_int32(static_cast<int32_t>(entry.batches.size()));
    for (const auto& b : entry.batches) {
      body.write_int32(b.first_sequence);
      body.write_int32(b.last_sequence);
      body.write_int64(b.first_offset);
      body.write_int64(b.last_offset);
    }
    body.write_int64(entry.open_transaction_offset);
    body.write_int32(entry.coordinator_epoch);
    body.write_int32(static_cast<int32_t>(entry.completed.size()));
    for (const auto& t : entry.completed) {
      body.write_int64(t.first_offset);
      body.write_int64(t.last_offset);
      body.write_int8(t.aborted ? 1 : 0);
    }
  }
  body.write_int32(static_cast<int32_t>(forgotten_order_.size()));
  for (int64_t id : forgotten_order_) body.write_int64(id);
  body.write_int32(static_cast<int32_t>(aborted_.size()));
  for (const auto& t : aborted_) {
    body.write_int64(t.producer_id);
    body.write_int64(t.first_offset);
    body.write_int64(t.last_offset);
    body.write_int64(t.last_stable_offset);
  }
  const auto& bytes = body.output().bytes;
  protocol::Writer out;
  out.write_int16(kSnapshotVersion);
  out.write_int32(static_cast<int32_t>(protocol::crc32c(bytes)));
  out.write_raw(bytes);
  return out.take().bytes;
}

std::optional<ProducerStateManager> ProducerStateManager::parse_snapshot(std::span<const uint8_t> bytes) {
  try {
    protocol::Reader r(std::span<uint8_t>(const_cast<uint8_t*>(bytes.data()), bytes.size()));
    const int16_t version = r.read_int16();
    if (version < 1 || version > kSnapshotVersion) return std::nullopt;
    auto crc = static_cast<uint32_t>(r.read_int32());
    if (protocol::crc32c(bytes.subspan(6)) != crc) return std::nullopt;
    ProducerStateManager state;
    int32_t count = r.read_int32();
    if (count < 0 || static_cast<size_t>(count) > r.remaining() / 22) return std::nullopt;
    for (int32_t i = 0; i < count; ++i) {
      int64_t id = r.read_int64();
      ProducerEntry entry;
      entry.epoch = r.read_int16();
      entry.last_timestamp_ms = r.read_int64();
      int32_t batches = r.read_int32();
      if (batches < 0 || static_cast<size_t>(batches) > ProducerEntry::kRememberedBatches) return std::nullopt;
      for (int32_t b = 0; b < batches; ++b) {
        ProducerBatch batch{};
        batch.first_sequence = r.read_int32();
        batch.last_sequence = r.read_int32();
        batch.first_offset = r.read_int64();
        batch.last_offset = r.read_int64();
        entry.batches.push_back(batch);
      }
      if (version >= 3) {
        const int64_t open = r.read_int64();
        entry.coordinator_epoch = r.read_int32();
        int32_t completed = r.read_int32();
        if (completed < 0 || static_cast<size_t>(completed) > ProducerEntry::kRememberedBatches) return std::nullopt;
        for (int32_t t = 0; t < completed; ++t) {
          CompletedTransaction done;
          done.producer_id = id;
          done.first_offset = r.read_int64();
          done.last_offset = r.read_int64();
          done.aborted = r.read_int8() != 0;
          entry.completed.push_back(done);
        }
        if (open >= 0) state.open_transaction(id, entry, open);
      }
      state.producers_[id] = std::move(entry);
    }
    if (version >= 2) {
      int32_t forgotten = r.read_int32();
      if (forgotten < 0 || static_cast<size_t>(forgotten) > kRememberedForgotten) return std::nullopt;
      for (int32_t i = 0; i < forgotten; ++i) state.forget(r.read_int64());
    }
    if (version >= 3) {
      int32_t aborted = r.read_int32();
      if (aborted < 0 || static_cast<size_t>(aborted) > r.remaining() / 32) return std::nullopt;
      for (int32_t i = 0; i < aborted; ++i) {
        AbortedTransaction t;
        t.producer_id = r.read_int64();
        t.first_offset = r.read_int64();
        t.last_offset = r.read_int64();
        t.last_stable_offset = r.read_int64();
        if (!state.aborted_.empty() && state.aborted_.back().last_offset >= t.last_offset) return std::nullopt;
        state.aborted_.push_back(t);
      }
    }
    if (r.remaining() != 0) return std::nullopt;
    return state;
  } catch (const protocol::DecodeError&) {
    return std::nullopt;
  }
}

std::map<int64_t, int64_t> ProducerStateManager::last_batch_offsets() const {
  std::map<int64_t, int64_t> last;
  for (const auto& [id, entry] : producers_) {
    if (!entry.batches.empty()) last[id] = entry.batches.back().last_offset;
  }
  return last;
}

}  // namespace fjord::storage
