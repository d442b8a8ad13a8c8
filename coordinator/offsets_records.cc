#include "coordinator/offsets_records.h"

#include <climits>
#include <exception>

namespace fjord::coordinator {

namespace {

constexpr int16_t kOffsetKeyVersion = 1;  // versions 0 and 1 share the layout
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kGroupValueVersion = 3;

void write_nullable(protocol::Writer& w, const std::optional<std::string>& s) {
  if (s) {
    w.write_string(*s, false);
  } else {
    w.write_null_string(false);
  }
}

std::optional<std::string> read_nullable(protocol::Reader& r) {
  if (r.next_string_is_null(false)) return std::nullopt;
  return r.read_string(false);
}

// The codec reader works on mutable spans; these values are only read.
protocol::Reader reader_over(std::span<const uint8_t> bytes) {
  return protocol::Reader(std::span<uint8_t>(const_cast<uint8_t*>(bytes.data()), bytes.size()));
}

// Record types 3-8 and 16 are a consumer-protocol group's; 5, 7, 8 and 16 also name a member (or a regex).
bool is_consumer_group_key(int16_t type) { return (type >= 3 && type <= 8) || type == 16; }
bool consumer_key_has_member(int16_t type) { return type == 5 || type == 7 || type == 8 || type == 16; }

}  // namespace

protocol::Bytes encode_key(const RecordKey& key) {
  protocol::Writer w;
  if (const auto* offset = std::get_if<OffsetKey>(&key)) {
    w.write_int16(kOffsetKeyVersion);
    w.write_string(offset->group, false);
    w.write_string(offset->topic, false);
    w.write_int32(offset->partition);
  } else if (const auto* group = std::get_if<GroupKey>(&key)) {
    w.write_int16(kGroupKeyVersion);
    w.write_string(group->group, false);
  } else {
    const auto& consumer = std::get<ConsumerGroupKey>(key);
    w.write_int16(consumer.type);
    w.write_string(consumer.group, false);
    if (consumer_key_has_member(consumer.type)) w.write_string(consumer.member, false);
  }
  return w.take().bytes;
}

protocol::Bytes encode_offset(const CommittedOffset& value) {
  protocol::Writer w;
  w.write_int16(kOffsetValueVersion);
  w.write_int64(value.offset);
  w.write_int32(value.leader_epoch);
  w.write_string(value.metadata, false);
  w.write_int64(value.commit_timestamp_ms);
  return w.take().bytes;
}

protocol::Bytes encode_group(const StoredGroup& value) {
  protocol::Writer w;
  w.write_int16(kGroupValueVersion);
  w.write_string(value.protocol_type, false);
  w.write_int32(value.generation);
  write_nullable(w, value.protocol);
  write_nullable(w, value.leader);
  w.write_int64(value.current_state_timestamp_ms);
  w.write_array_length(value.members.size(), false);
  for (const auto& m : value.members) {
    w.write_string(m.member_id, false);
    write_nullable(w, m.group_instance_id);
    w.write_string(m.client_id, false);
    w.write_string(m.client_host, false);
    w.write_int32(m.rebalance_timeout_ms);
    w.write_int32(m.session_timeout_ms);
    w.write_bytes(m.subscription, false);
    w.write_bytes(m.assignment, false);
  }
  return w.take().bytes;
}

std::optional<RecordKey> decode_key(std::span<const uint8_t> bytes) {
  try {
    auto r = reader_over(bytes);
    int16_t version = r.read_int16();
    if (version == 0 || version == 1) {
      OffsetKey key;
      key.group = r.read_string(false);
      key.topic = r.read_string(false);
      key.partition = r.read_int32();
      return key;
    }
    if (version == 2) return GroupKey{r.read_string(false)};
    if (is_consumer_group_key(version)) {
      ConsumerGroupKey key{version, r.read_string(false), {}};
      if (consumer_key_has_member(version)) key.member = r.read_string(false);
      return key;
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::optional<CommittedOffset> decode_offset(std::span<const uint8_t> bytes) {
  try {
    auto r = reader_over(bytes);
    int16_t version = r.read_int16();
    if (version < 0 || version > 3) return std::nullopt;
    CommittedOffset value;
    value.offset = r.read_int64();
    if (version == 3) value.leader_epoch = r.read_int32();
    value.metadata = r.read_string(false);
    value.commit_timestamp_ms = r.read_int64();
    if (version == 1) value.expire_timestamp_ms = r.read_int64();
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<StoredGroup> decode_group(std::span<const uint8_t> bytes) {
  try {
    auto r = reader_over(bytes);
    int16_t version = r.read_int16();
    if (version < 0 || version > 3) return std::nullopt;
    StoredGroup value;
    value.protocol_type = r.read_string(false);
    value.generation = r.read_int32();
    value.protocol = read_nullable(r);
    value.leader = read_nullable(r);
    if (version >= 2) value.current_state_timestamp_ms = r.read_int64();
    // The smallest member: six empty strings and lengths, two timeouts, two empty byte arrays.
    size_t count = r.read_array_length(false, 2 * 3 + 2 + 4 * 2 + 4 * 2);
    for (size_t i = 0; i < count; ++i) {
      StoredMember m;
      m.member_id = r.read_string(false);
      if (version >= 3) m.group_instance_id = read_nullable(r);
      m.client_id = r.read_string(false);
      m.client_host = r.read_string(false);
      m.rebalance_timeout_ms = version >= 1 ? r.read_int32() : 0;
      m.session_timeout_ms = r.read_int32();
      if (version == 0) m.rebalance_timeout_ms = m.session_timeout_ms;
      m.subscription = r.read_bytes(false);
      m.assignment = r.read_bytes(false);
      value.members.push_back(std::move(m));
    }
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int32_t offsets_partition_for(const std::string& group, int32_t partition_count) {
  // String.hashCode runs over UTF-16 code units; decode the UTF-8 id into them (invalid bytes count as themselves).
  int32_t hash = 0;
  auto mix = [&hash](uint32_t unit) { hash = static_cast<int32_t>(31u * static_cast<uint32_t>(hash) + unit); };
  for (size_t i = 0; i < group.size();) {
    auto byte = static_cast<uint8_t>(group[i]);
    uint32_t code = byte;
    size_t length = 1;
    if (byte >= 0xF0 && i + 3 < group.size()) {
      length = 4;
      code = (byte & 0x07u) << 18 | (static_cast<uint8_t>(group[i + 1]) & 0x3Fu) << 12 |
             (static_cast<uint8_t>(group[i + 2]) & 0x3Fu) << 6 | (static_cast<uint8_t>(group[i + 3]) & 0x3Fu);
    } else if (byte >= 0xE0 && i + 2 < group.size()) {
      length = 3;
      code = (byte & 0x0Fu) << 12 | (static_cast<uint8_t>(group[i + 1]) & 0x3Fu) << 6 |
             (static_cast<uint8_t>(group[i + 2]) & 0x3Fu);
    } else if (byte >= 0xC0 && i + 1 < group.size()) {
      length = 2;
      code = (byte & 0x1Fu) << 6 | (static_cast<uint8_t>(group[i + 1]) & 0x3Fu);
    }
    if (code > 0xFFFF) {
      code -= 0x10000;
      mix(0xD800 + (code >> 10));
      mix(0xDC00 + (code & 0x3FF));
    } else {
      mix(code);
    }
    i += length;
  }
  // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
  int32_t non_negative = hash == INT32_MIN ? 0 : (hash < 0 ? -hash : hash);
  return non_negative % partition_count;
}

}  // namespace fjord::coordinator
