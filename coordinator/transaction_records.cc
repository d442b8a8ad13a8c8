#include "coordinator/transaction_records.h"

#include <algorithm>

#include "coordinator/offsets_records.h"

namespace fjord::coordinator {
namespace {

constexpr int16_t kKeyVersion = 0;
// The value's tagged fields (version 1).
constexpr uint32_t kPreviousProducerIdTag = 0;
constexpr uint32_t kNextProducerIdTag = 1;
constexpr uint32_t kClientTransactionVersionTag = 2;

protocol::Reader reader_over(std::span<const uint8_t> bytes) {
  return protocol::Reader(std::span<uint8_t>(const_cast<uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace

const char* transaction_state_name(TransactionState state) {
  switch (state) {
    case TransactionState::kEmpty:
      return "Empty";
    case TransactionState::kOngoing:
      return "Ongoing";
    case TransactionState::kPrepareCommit:
      return "PrepareCommit";
    case TransactionState::kPrepareAbort:
      return "PrepareAbort";
    case TransactionState::kCompleteCommit:
      return "CompleteCommit";
    case TransactionState::kCompleteAbort:
      return "CompleteAbort";
    case TransactionState::kDead:
      return "Dead";
    case TransactionState::kPrepareEpochFence:
      return "PrepareEpochFence";
  }
  return "Unknown";
}

protocol::Bytes encode_transaction_key(const std::string& transactional_id) {
  protocol::Writer w;
  w.write_int16(kKeyVersion);
  w.write_string(transactional_id, false);
  return w.take().bytes;
}

protocol::Bytes encode_transaction(const StoredTransaction& value, int16_t record_version) {
  const bool flexible = record_version >= 1;
  protocol::Writer w;
  w.write_int16(flexible ? 1 : 0);
  w.write_int64(value.producer_id);
  w.write_int16(value.producer_epoch);
  w.write_int32(value.timeout_ms);
  w.write_int8(static_cast<int8_t>(value.state));
  if (value.state == TransactionState::kEmpty) {
    w.write_null_array(flexible);  // as Kafka writes an empty transaction
  } else {
    // Grouped by topic, partitions ascending (the vector is sorted).
    std::vector<std::pair<std::string, std::vector<int32_t>>> topics;
    for (const auto& tp : value.partitions) {
      if (topics.empty() || topics.back().first != tp.topic) topics.push_back({tp.topic, {}});
      topics.back().second.push_back(tp.partition);
    }
    w.write_array_length(topics.size(), flexible);
    for (const auto& [topic, partitions] : topics) {
      w.write_string(topic, flexible);
      w.write_array_length(partitions.size(), flexible);
      for (int32_t p : partitions) w.write_int32(p);
      if (flexible) w.write_uvarint(0);  // no tagged fields
    }
  }
  w.write_int64(value.last_update_ms);
  w.write_int64(value.start_ms);
  if (flexible) {
    // Tagged fields are written only when they differ from their defaults, in tag order.
    const protocol::TaggedFields none;
    protocol::TaggedFieldWriter tags(none);
    if (value.previous_producer_id != -1) {
      tags.begin(kPreviousProducerIdTag).write_int64(value.previous_producer_id);
      tags.end();
    }
    if (value.next_producer_id != -1) {
      tags.begin(kNextProducerIdTag).write_int64(value.next_producer_id);
      tags.end();
    }
    if (value.client_transaction_version != 0) {
      tags.begin(kClientTransactionVersionTag).write_int16(value.client_transaction_version);
      tags.end();
    }
    tags.finish(w);
  }
  return w.take().bytes;
}

std::optional<std::string> decode_transaction_key(std::span<const uint8_t> bytes) {
  try {
    auto r = reader_over(bytes);
    if (r.read_int16() != kKeyVersion) return std::nullopt;
    return r.read_string(false);
  } catch (const protocol::DecodeError&) {
    return std::nullopt;
  }
}

std::optional<StoredTransaction> decode_transaction(std::span<const uint8_t> bytes) {
  try {
    auto r = reader_over(bytes);
    const int16_t version = r.read_int16();
    if (version != 0 && version != 1) return std::nullopt;
    const bool flexible = version >= 1;
    StoredTransaction t;
    t.producer_id = r.read_int64();
    t.producer_epoch = r.read_int16();
    t.timeout_ms = r.read_int32();
    const int8_t state = r.read_int8();
    if (state < 0 || state > static_cast<int8_t>(TransactionState::kPrepareEpochFence)) return std::nullopt;
    t.state = static_cast<TransactionState>(state);
    if (!r.next_array_is_null(flexible)) {
      const size_t topics = r.read_array_length(flexible, 2);
      for (size_t i = 0; i < topics; ++i) {
        std::string topic = r.read_string(flexible);
        const size_t partitions = r.read_array_length(flexible, 4);
        for (size_t p = 0; p < partitions; ++p) t.partitions.push_back({topic, r.read_int32()});
        protocol::TaggedFields ignored;
        if (flexible) r.read_tagged_fields([](uint32_t, protocol::Reader&) { return false; }, ignored);
      }
    }
    t.last_update_ms = r.read_int64();
    t.start_ms = r.read_int64();
    if (flexible) {
      protocol::TaggedFields unknown;
      r.read_tagged_fields(
          [&t](uint32_t tag, protocol::Reader& field) {
            switch (tag) {
              case kPreviousProducerIdTag:
                t.previous_producer_id = field.read_int64();
                return true;
              case kNextProducerIdTag:
                t.next_producer_id = field.read_int64();
                return true;
              case kClientTransactionVersionTag:
                t.client_transaction_version = field.read_int16();
                return true;
              default:
                return false;  // NextProducerEpoch and later additions: not used here
            }
          },
          unknown);
    }
    std::sort(t.partitions.begin(), t.partitions.end());
    return t;
  } catch (const protocol::DecodeError&) {
    return std::nullopt;
  }
}

int32_t transaction_partition_for(const std::string& transactional_id, int32_t partition_count) {
  return offsets_partition_for(transactional_id, partition_count);  // the same placement rule
}

}  // namespace fjord::coordinator
