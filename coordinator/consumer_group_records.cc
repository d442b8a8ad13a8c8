#include "coordinator/consumer_group_records.h"

#include <exception>

namespace fjord::coordinator {
namespace {

using namespace consumer;

// The record types (the int16 each key starts with), as Kafka numbers them.
constexpr int16_t kGroupEpochType = 3;
constexpr int16_t kMemberType = 5;
constexpr int16_t kTargetEpochType = 6;
constexpr int16_t kTargetMemberType = 7;
constexpr int16_t kCurrentAssignmentType = 8;
// Every value is version 0, in the flexible encoding (compact strings and arrays, tagged fields).
constexpr int16_t kValueVersion = 0;

void write_nullable(protocol::Writer& w, const std::optional<std::string>& s) {
  if (s) {
    w.write_string(*s, true);
  } else {
    w.write_null_string(true);
  }
}

std::optional<std::string> read_nullable(protocol::Reader& r) {
  if (r.next_string_is_null(true)) return std::nullopt;
  return r.read_string(true);
}

void write_no_tags(protocol::Writer& w) { w.write_uvarint(0); }

// Tags Fjord does not use are read past.
void skip_tags(protocol::Reader& r) {
  protocol::TaggedFields ignored;
  r.read_tagged_fields([](uint32_t, protocol::Reader&) { return false; }, ignored);
}

// A member's ClassicMemberMetadata: tag 0 of the member record, a nullable struct (a leading 1 when present).
constexpr uint32_t kClassicMemberTag = 0;

void write_classic_member(protocol::Writer& w, const ClassicMemberMetadata& classic) {
  protocol::Writer field;
  field.write_int8(1);
  field.write_int32(classic.session_timeout_ms);
  field.write_array_length(classic.protocols.size(), true);
  for (const auto& p : classic.protocols) {
    field.write_string(p.name, true);
    field.write_bytes(p.metadata, true);
    write_no_tags(field);
  }
  write_no_tags(field);
  const auto bytes = field.take().bytes;
  w.write_uvarint(1);
  w.write_uvarint(kClassicMemberTag);
  w.write_uvarint(static_cast<uint32_t>(bytes.size()));
  w.write_raw(bytes);
}

std::optional<ClassicMemberMetadata> read_classic_member(protocol::Reader& r) {
  if (r.read_int8() != 1) return std::nullopt;
  ClassicMemberMetadata classic;
  classic.session_timeout_ms = r.read_int32();
  // Smallest protocol: an empty name, empty metadata, no tags.
  const size_t n = r.read_array_length(true, 3);
  for (size_t i = 0; i < n; ++i) {
    ClassicProtocol p;
    p.name = r.read_string(true);
    p.metadata = r.read_bytes(true);
    skip_tags(r);
    classic.protocols.push_back(std::move(p));
  }
  skip_tags(r);
  return classic;
}

// A topic's AssignmentEpochs (KIP-1251): tag 0 of each topic in a current-assignment record, one epoch per
// partition in the order of its partition array.
constexpr uint32_t kAssignmentEpochsTag = 0;

// `epochs`, when given, adds each topic's assignment epochs (`otherwise` for a partition it lacks).
void write_partitions(protocol::Writer& w, const Assignment& assignment, const PartitionEpochs* epochs = nullptr,
                      int32_t otherwise = 0) {
  w.write_array_length(assignment.size(), true);
  for (const auto& [topic, partitions] : assignment) {
    w.write_uuid(topic);
    w.write_array_length(partitions.size(), true);
    for (int32_t p : partitions) w.write_int32(p);
    if (!epochs) {
      write_no_tags(w);
      continue;
    }
    const auto of_topic = epochs->find(topic);
    protocol::Writer field;
    field.write_array_length(partitions.size(), true);
    for (int32_t p : partitions) {
      int32_t epoch = otherwise;
      if (of_topic != epochs->end()) {
        if (auto it = of_topic->second.find(p); it != of_topic->second.end()) epoch = it->second;
      }
      field.write_int32(epoch);
    }
    const auto bytes = field.take().bytes;
    w.write_uvarint(1);
    w.write_uvarint(kAssignmentEpochsTag);
    w.write_uvarint(static_cast<uint32_t>(bytes.size()));
    w.write_raw(bytes);
  }
}

// `epochs`, when given, gets each topic's assignment epochs where the record has them (records written before
// KIP-1251 do not).
Assignment read_partitions(protocol::Reader& r, PartitionEpochs* epochs = nullptr) {
  Assignment out;
  // Smallest topic: a uuid, an empty array, no tags.
  const size_t topics = r.read_array_length(true, 16 + 1 + 1);
  for (size_t i = 0; i < topics; ++i) {
    const TopicId topic = r.read_uuid();
    const size_t count = r.read_array_length(true, 4);
    std::vector<int32_t> partitions(count);
    for (auto& p : partitions) p = r.read_int32();
    out[topic].insert(partitions.begin(), partitions.end());
    protocol::TaggedFields ignored;
    r.read_tagged_fields(
        [&](uint32_t tag, protocol::Reader& field) {
          if (tag != kAssignmentEpochsTag || !epochs || field.next_array_is_null(true)) return false;
          const size_t n = field.read_array_length(true, 4);
          if (n != count) return false;  // not aligned with the partitions: unusable
          for (int32_t p : partitions) (*epochs)[topic][p] = field.read_int32();
          return true;
        },
        ignored);
  }
  return out;
}

protocol::Bytes encode_value(const ConsumerGroupRecord& record) {
  protocol::Writer w;
  w.write_int16(kValueVersion);
  if (const auto* r = std::get_if<GroupEpochRecord>(&record)) {
    w.write_int32(*r->epoch);
  } else if (const auto* r = std::get_if<MemberRecord>(&record)) {
    const MemberMetadata& m = *r->metadata;
    write_nullable(w, m.instance_id);
    write_nullable(w, m.rack_id);
    w.write_string(m.client_id, true);
    w.write_string(m.client_host, true);
    w.write_array_length(m.subscribed_topic_names.size(), true);
    for (const auto& name : m.subscribed_topic_names) w.write_string(name, true);
    write_nullable(w, m.subscribed_topic_regex);
    w.write_int32(m.rebalance_timeout_ms);
    write_nullable(w, m.server_assignor);
    if (m.classic) {
      write_classic_member(w, *m.classic);
      return w.take().bytes;
    }
  } else if (const auto* r = std::get_if<TargetMemberRecord>(&record)) {
    write_partitions(w, *r->target);
  } else if (const auto* r = std::get_if<TargetEpochRecord>(&record)) {
    w.write_int32(*r->epoch);
  } else {
    const MemberAssignment& a = *std::get<CurrentAssignmentRecord>(record).assignment;
    w.write_int32(a.epoch);
    w.write_int32(a.previous_epoch);
    w.write_int8(static_cast<int8_t>(a.state));
    write_partitions(w, a.assigned, &a.assigned_at, a.epoch);
    write_partitions(w, a.pending_revocation, &a.assigned_at, a.epoch);
  }
  write_no_tags(w);
  return w.take().bytes;
}

bool is_tombstone(const ConsumerGroupRecord& record) {
  return std::visit(
      [](const auto& r) {
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, GroupEpochRecord> || std::is_same_v<R, TargetEpochRecord>) {
          return !r.epoch.has_value();
        } else if constexpr (std::is_same_v<R, MemberRecord>) {
          return !r.metadata.has_value();
        } else if constexpr (std::is_same_v<R, TargetMemberRecord>) {
          return !r.target.has_value();
        } else {
          return !r.assignment.has_value();
        }
      },
      record);
}

ConsumerGroupKey key_of(const std::string& group, const ConsumerGroupRecord& record) {
  return std::visit(
      [&](const auto& r) {
        using R = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<R, GroupEpochRecord>) {
          return ConsumerGroupKey{kGroupEpochType, group, {}};
        } else if constexpr (std::is_same_v<R, TargetEpochRecord>) {
          return ConsumerGroupKey{kTargetEpochType, group, {}};
        } else if constexpr (std::is_same_v<R, MemberRecord>) {
          return ConsumerGroupKey{kMemberType, group, r.member_id};
        } else if constexpr (std::is_same_v<R, TargetMemberRecord>) {
          return ConsumerGroupKey{kTargetMemberType, group, r.member_id};
        } else {
          return ConsumerGroupKey{kCurrentAssignmentType, group, r.member_id};
        }
      },
      record);
}

// The member state's int8, as Kafka numbers it; anything else is not a record Fjord can restore.
std::optional<MemberState> member_state(int8_t value) {
  switch (value) {
    case 0:
      return MemberState::kStable;
    case 1:
      return MemberState::kUnrevokedPartitions;
    case 2:
      return MemberState::kUnreleasedPartitions;
    default:
      return std::nullopt;
  }
}

std::optional<ConsumerGroupRecord> decode_value(int16_t type, const std::string& member, protocol::Reader& r) {
  if (r.read_int16() != kValueVersion) return std::nullopt;
  std::optional<ConsumerGroupRecord> out;
  switch (type) {
    case kGroupEpochType:
      out = GroupEpochRecord{r.read_int32()};
      break;
    case kMemberType: {
      MemberMetadata m;
      m.instance_id = read_nullable(r);
      m.rack_id = read_nullable(r);
      m.client_id = r.read_string(true);
      m.client_host = r.read_string(true);
      const size_t names = r.read_array_length(true, 1);
      for (size_t i = 0; i < names; ++i) m.subscribed_topic_names.push_back(r.read_string(true));
      m.subscribed_topic_regex = read_nullable(r);
      m.rebalance_timeout_ms = r.read_int32();
      m.server_assignor = read_nullable(r);
      protocol::TaggedFields ignored;
      r.read_tagged_fields(
          [&](uint32_t tag, protocol::Reader& field) {
            if (tag != kClassicMemberTag) return false;
            m.classic = read_classic_member(field);
            return true;
          },
          ignored);
      return MemberRecord{member, std::move(m)};
    }
    case kTargetMemberType:
      out = TargetMemberRecord{member, read_partitions(r)};
      break;
    case kTargetEpochType:
      out = TargetEpochRecord{r.read_int32()};
      break;
    case kCurrentAssignmentType: {
      MemberAssignment a;
      a.epoch = r.read_int32();
      a.previous_epoch = r.read_int32();
      auto state = member_state(r.read_int8());
      if (!state) return std::nullopt;
      a.state = *state;
      a.assigned = read_partitions(r, &a.assigned_at);
      a.pending_revocation = read_partitions(r, &a.assigned_at);
      // A record from before assignment epochs (or with them unusable): the member has held each partition
      // since the epoch it was at.
      const int32_t held_since = a.epoch == kLeftTemporarilyEpoch ? a.previous_epoch : a.epoch;
      for (const auto* part : {&a.assigned, &a.pending_revocation}) {
        for (const auto& [topic, partitions] : *part) {
          for (int32_t p : partitions) a.assigned_at[topic].try_emplace(p, held_since);
        }
      }
      out = CurrentAssignmentRecord{member, std::move(a)};
      break;
    }
    default:
      return std::nullopt;
  }
  skip_tags(r);
  return out;
}

}  // namespace

StateLog::Entry encode_consumer_record(const std::string& group, const ConsumerGroupRecord& record) {
  StateLog::Entry entry;
  entry.key = encode_key(key_of(group, record));
  if (!is_tombstone(record)) entry.value = encode_value(record);
  return entry;
}

std::optional<ConsumerGroupRecord> decode_consumer_record(const ConsumerGroupKey& key,
                                                          const std::optional<std::span<const uint8_t>>& value) {
  if (!value) {
    switch (key.type) {
      case kGroupEpochType:
        return GroupEpochRecord{std::nullopt};
      case kMemberType:
        return MemberRecord{key.member, std::nullopt};
      case kTargetMemberType:
        return TargetMemberRecord{key.member, std::nullopt};
      case kTargetEpochType:
        return TargetEpochRecord{std::nullopt};
      case kCurrentAssignmentType:
        return CurrentAssignmentRecord{key.member, std::nullopt};
      default:
        return std::nullopt;
    }
  }
  try {
    protocol::Reader r(std::span<uint8_t>(const_cast<uint8_t*>(value->data()), value->size()));
    return decode_value(key.type, key.member, r);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace fjord::coordinator
