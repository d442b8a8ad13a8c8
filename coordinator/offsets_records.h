// The records the group coordinator keeps in the internal __consumer_offsets topic, in Kafka's own encoding so
// that tools which read that topic (kafka-console-consumer's offsets formatter, lag exporters) understand them.
// The byte layouts are in coordinator/FORMAT.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "protocol/codec_runtime.h"

namespace fjord::coordinator {

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

// Key of a committed offset.
struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetKey&) const = default;
};

// Key of a group's metadata (its generation, protocol and members).
struct GroupKey {
  std::string group;
  bool operator==(const GroupKey&) const = default;
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
  int64_t expire_timestamp_ms = -1;  // only in value version 1; -1 otherwise
  bool operator==(const CommittedOffset&) const = default;
};

struct StoredMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  protocol::Bytes subscription;
  protocol::Bytes assignment;
  bool operator==(const StoredMember&) const = default;
};

struct StoredGroup {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp_ms = -1;
  std::vector<StoredMember> members;
  bool operator==(const StoredGroup&) const = default;
};

// Key of one of a consumer-protocol group's records (KIP-848): its record type (the int16 that starts every key
// here), the group, and for the per-member types the member id (for type 16, the regular expression).
// Types and layouts: coordinator/FORMAT.md; values: coordinator/consumer_group_records.h.
struct ConsumerGroupKey {
  int16_t type = 0;
  std::string group;
  std::string member;
  bool operator==(const ConsumerGroupKey&) const = default;
};

using RecordKey = std::variant<OffsetKey, GroupKey, ConsumerGroupKey>;

protocol::Bytes encode_key(const RecordKey& key);
protocol::Bytes encode_offset(const CommittedOffset& value);
protocol::Bytes encode_group(const StoredGroup& value);

// Each returns nullopt for bytes it does not recognise (an unknown version, a truncated value): a reader skips
// such a record rather than failing the whole load.
std::optional<RecordKey> decode_key(std::span<const uint8_t> bytes);
std::optional<CommittedOffset> decode_offset(std::span<const uint8_t> bytes);
std::optional<StoredGroup> decode_group(std::span<const uint8_t> bytes);

// The __consumer_offsets partition that holds `group`: Java's String.hashCode of the id, made non-negative,
// modulo the partition count, exactly as Kafka places it, so the layout is the same on both.
int32_t offsets_partition_for(const std::string& group, int32_t partition_count);

}  // namespace fjord::coordinator
