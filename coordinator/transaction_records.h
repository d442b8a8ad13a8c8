// The records the transaction coordinator keeps in the internal __transaction_state topic, in Kafka's own
// encoding (the key's and the value's versioned layouts), so that a tool reading that topic understands them.
// The byte layouts are in coordinator/FORMAT.md.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "protocol/codec_runtime.h"

namespace fjord::coordinator {

inline constexpr const char* kTransactionStateTopic = "__transaction_state";

// Kafka's transaction states, with the codes its log uses.
enum class TransactionState : int8_t {
  kEmpty = 0,
  kOngoing = 1,
  kPrepareCommit = 2,
  kPrepareAbort = 3,
  kCompleteCommit = 4,
  kCompleteAbort = 5,
  kDead = 6,
  kPrepareEpochFence = 7,
};
// As DescribeTransactions and ListTransactions name them.
const char* transaction_state_name(TransactionState state);

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// A transactional id's state as written: its producer, the state, and the partitions its transaction touched.
struct StoredTransaction {
  int64_t producer_id = -1;
  // Transactions v2: the producer id this one replaced when its epochs ran out (so a retried EndTxn of the last
  // transaction of the old id is recognised), and the id that replaces it once the markers now being written
  // (at the old id's last epoch) are done.
  int64_t previous_producer_id = -1;
  int64_t next_producer_id = -1;
  int16_t producer_epoch = -1;
  // 2 when the producer ends its transactions with EndTxn v5+ (transactions v2: every EndTxn bumps the epoch).
  int16_t client_transaction_version = 0;
  int32_t timeout_ms = 0;
  TransactionState state = TransactionState::kEmpty;
  std::vector<TopicPartition> partitions;  // ascending
  int64_t last_update_ms = -1;
  int64_t start_ms = -1;
  bool operator==(const StoredTransaction&) const = default;
};

protocol::Bytes encode_transaction_key(const std::string& transactional_id);
// `record_version` 0 is the layout Kafka writes while transaction.version is 0; 1, the flexible layout with the
// transactions-v2 fields as tagged fields, from transaction.version 1 on.
protocol::Bytes encode_transaction(const StoredTransaction& value, int16_t record_version = 1);
// nullopt for bytes that do not read as a record of a known version (a reader skips the record).
std::optional<std::string> decode_transaction_key(std::span<const uint8_t> bytes);
std::optional<StoredTransaction> decode_transaction(std::span<const uint8_t> bytes);

// The __transaction_state partition that holds `transactional_id`: Java's String.hashCode, made non-negative,
// modulo the partition count, as Kafka places it.
int32_t transaction_partition_for(const std::string& transactional_id, int32_t partition_count);

}  // namespace fjord::coordinator
