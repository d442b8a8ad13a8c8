#include "coordinator/offsets_records.h"

#include <gtest/gtest.h>

#include "coordinator/consumer_group_records.h"
#include "coordinator/consumer_protocol.h"

namespace fjord::coordinator {
namespace {

TEST(OffsetsRecords, OffsetKeyHasKafkasLayout) {
  // version 1, "g", "t", partition 7: int16 lengths, big-endian.
  protocol::Bytes expected = {0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 7};
  EXPECT_EQ(encode_key(OffsetKey{"g", "t", 7}), expected);
  EXPECT_EQ(encode_key(GroupKey{"g"}), (protocol::Bytes{0, 2, 0, 1, 'g'}));
}

TEST(OffsetsRecords, OffsetValueVersion3HasKafkasLayout) {
  CommittedOffset value{42, 5, "m", 1000, -1};
  protocol::Bytes expected = {0, 3, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 5, 0, 1, 'm', 0, 0, 0, 0, 0, 0, 0x03, 0xE8};
  EXPECT_EQ(encode_offset(value), expected);
  EXPECT_EQ(decode_offset(expected), value);
}

TEST(OffsetsRecords, OlderOffsetValueVersionsDecode) {
  // Version 1 (Kafka 0.10-2.0) carries an expire timestamp and no leader epoch.
  protocol::Bytes v1 = {0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2};
  auto value = decode_offset(v1);
  ASSERT_TRUE(value);
  EXPECT_EQ(value->offset, 9);
  EXPECT_EQ(value->leader_epoch, -1);
  EXPECT_EQ(value->commit_timestamp_ms, 1);
  EXPECT_EQ(value->expire_timestamp_ms, 2);
}

TEST(OffsetsRecords, GroupValueRoundTrips) {
  StoredGroup g;
  g.protocol_type = "consumer";
  g.generation = 3;
  g.protocol = "range";
  g.leader = "m1";
  g.current_state_timestamp_ms = 77;
  g.members.push_back({"m1", "instance-1", "client", "/127.0.0.1", 300000, 45000, {1, 2}, {3}});
  g.members.push_back({"m2", std::nullopt, "client", "/127.0.0.1", 300000, 45000, {}, {}});
  EXPECT_EQ(decode_group(encode_group(g)), g);
}

TEST(ConsumerGroupRecordBytes, CurrentAssignmentHasKafkasLayout) {
  consumer::TopicId topic;
  topic.bytes[15] = 9;
  consumer::MemberAssignment a;
  a.epoch = 5;
  a.previous_epoch = 4;
  a.state = consumer::MemberState::kUnrevokedPartitions;
  a.assigned[topic] = {0, 2};
  a.assigned_at[topic] = {{0, 3}, {2, 5}};
  auto entry = encode_consumer_record("g", consumer::CurrentAssignmentRecord{"m", a});
  // Key: type 8, group, member (int16-length strings).
  EXPECT_EQ(entry.key, (protocol::Bytes{0, 8, 0, 1, 'g', 0, 1, 'm'}));
  // Value, version 0, flexible: epoch, previous epoch, state, then compact arrays of {uuid, [int32], tags} where
  // tag 0 holds the partitions' assignment epochs as a compact [int32], and the value's tags.
  protocol::Bytes expected = {0, 0, 0, 0, 0, 5, 0, 0, 0, 4, 1, 2};
  expected.insert(expected.end(), topic.bytes.begin(), topic.bytes.end());
  expected.insert(expected.end(), {3, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 9, 3, 0, 0, 0, 3, 0, 0, 0, 5, 1, 0});
  ASSERT_TRUE(entry.value);
  EXPECT_EQ(*entry.value, expected);
  auto key = decode_key(entry.key);
  ASSERT_TRUE(key);
  EXPECT_EQ(std::get<ConsumerGroupKey>(*key), (ConsumerGroupKey{8, "g", "m"}));
  EXPECT_EQ(decode_consumer_record(std::get<ConsumerGroupKey>(*key), std::span<const uint8_t>(*entry.value)),
            consumer::ConsumerGroupRecord(consumer::CurrentAssignmentRecord{"m", a}));

  // Written before assignment epochs (Kafka before 4.3): the same record without the tag reads as held since
  // the member's epoch.
  protocol::Bytes older = {0, 0, 0, 0, 0, 5, 0, 0, 0, 4, 1, 2};
  older.insert(older.end(), topic.bytes.begin(), topic.bytes.end());
  older.insert(older.end(), {3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0});
  a.assigned_at[topic] = {{0, 5}, {2, 5}};
  EXPECT_EQ(decode_consumer_record(ConsumerGroupKey{8, "g", "m"}, std::span<const uint8_t>(older)),
            consumer::ConsumerGroupRecord(consumer::CurrentAssignmentRecord{"m", a}));
}

TEST(ConsumerGroupRecordBytes, MemberMetadataAndEpochsHaveKafkasLayoutAndTombstonesHaveNoValue) {
  consumer::MemberMetadata m;
  m.instance_id = "i";
  m.client_id = "c";
  m.client_host = "/h";
  m.subscribed_topic_names = {"a", "b"};
  m.rebalance_timeout_ms = 300;
  m.server_assignor = "uniform";
  auto entry = encode_consumer_record("g", consumer::MemberRecord{"m", m});
  EXPECT_EQ(entry.key, (protocol::Bytes{0, 5, 0, 1, 'g', 0, 1, 'm'}));
  // Compact strings (length + 1; 0 is null), then the rebalance timeout and the assignor, and no tags.
  protocol::Bytes expected = {0, 0, 2, 'i', 0,    2, 'c', 3,   '/', 'h', 3,   2,   'a', 2, 'b',
                              0, 0, 0, 1,   0x2C, 8, 'u', 'n', 'i', 'f', 'o', 'r', 'm', 0};
  EXPECT_EQ(*entry.value, expected);
  EXPECT_EQ(*encode_consumer_record("g", consumer::GroupEpochRecord{7}).value, (protocol::Bytes{0, 0, 0, 0, 0, 7, 0}));
  EXPECT_EQ(encode_consumer_record("g", consumer::GroupEpochRecord{7}).key, (protocol::Bytes{0, 3, 0, 1, 'g'}));
  EXPECT_EQ(encode_consumer_record("g", consumer::TargetEpochRecord{7}).key, (protocol::Bytes{0, 6, 0, 1, 'g'}));
  EXPECT_FALSE(encode_consumer_record("g", consumer::MemberRecord{"m", std::nullopt}).value);
  // Tags a later Kafka adds (here tag 0 of the epoch record, 8 bytes) are read past.
  protocol::Bytes tagged = {0, 0, 0, 0, 0, 7, 1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(decode_consumer_record(ConsumerGroupKey{3, "g", ""}, std::span<const uint8_t>(tagged)),
            consumer::ConsumerGroupRecord(consumer::GroupEpochRecord{7}));
  // Types Fjord reads past: 4 (subscription metadata) and 16 (a regex's resolution).
  EXPECT_FALSE(decode_consumer_record(ConsumerGroupKey{16, "g", "x.*"}, std::span<const uint8_t>(tagged)));
}

// A classic member of a consumer-protocol group (after an online upgrade) carries ClassicMemberMetadata as tag 0
// of its member record: a nullable struct (a leading 1), the session timeout and the protocols it offered.
TEST(ConsumerGroupRecordBytes, AClassicMembersMetadataIsTagZeroOfItsMemberRecord) {
  consumer::MemberMetadata m;
  m.client_id = "c";
  m.client_host = "/h";
  m.subscribed_topic_names = {"a"};
  m.rebalance_timeout_ms = 300;
  m.classic = consumer::ClassicMemberMetadata{10000, {{"range", {9, 8}}}};
  auto entry = encode_consumer_record("g", consumer::MemberRecord{"m", m});
  protocol::Bytes expected = {0, 0, 0, 0, 2, 'c', 3, '/', 'h', 2, 2, 'a', 0, 0, 0, 1, 0x2C, 0,
                              // one tagged field: tag 0, 17 bytes
                              1, 0, 17,
                              // present, session timeout 10000, one protocol: "range", 2 bytes of metadata
                              1, 0, 0, 0x27, 0x10, 2, 6, 'r', 'a', 'n', 'g', 'e', 3, 9, 8, 0, 0};
  EXPECT_EQ(*entry.value, expected);
  EXPECT_EQ(decode_consumer_record(ConsumerGroupKey{5, "g", "m"}, std::span<const uint8_t>(*entry.value)),
            consumer::ConsumerGroupRecord(consumer::MemberRecord{"m", m}));
}

TEST(OffsetsRecords, DamagedBytesAreNotRecognised) {
  EXPECT_FALSE(decode_key(protocol::Bytes{0, 1, 0, 9, 'g'}));
  EXPECT_FALSE(decode_key(protocol::Bytes{0, 7, 0, 1, 'g'}));
  EXPECT_FALSE(decode_offset(protocol::Bytes{0, 3, 0}));
  // A member count far beyond the bytes present is refused before anything is allocated.
  EXPECT_FALSE(decode_group(
      protocol::Bytes{0, 3, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF}));
}

TEST(OffsetsRecords, GroupsAreSpreadAsKafkaSpreadsThem) {
  // Java's String.hashCode, made non-negative, modulo 50 (values computed independently from UTF-16 units).
  EXPECT_EQ(offsets_partition_for("my-group", 50), 12);
  EXPECT_EQ(offsets_partition_for("console-consumer-12345", 50), 6);
  EXPECT_EQ(offsets_partition_for("payments", 50), 13);
  EXPECT_EQ(offsets_partition_for("gr\xC3\xBCppe", 50), 12);
  EXPECT_EQ(offsets_partition_for("\xF0\x9F\x98\x80group", 50), 32);
  EXPECT_EQ(offsets_partition_for("", 50), 0);
}

TEST(ConsumerProtocol, ReadsSubscriptionsAndAssignments) {
  // Subscription v0: ["a", "bc"], no user data.
  protocol::Bytes subscription = {0, 0, 0, 0, 0, 2, 0, 1, 'a', 0, 2, 'b', 'c', 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(parse_subscription_topics(subscription), (std::vector<std::string>{"a", "bc"}));
  // Assignment v0: a -> [0, 2].
  protocol::Bytes assignment = {0, 0, 0, 0, 0, 1, 0, 1, 'a',  0,    0,    0,   2,
                                0, 0, 0, 0, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFF};
  auto parsed = parse_assignment(assignment);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].first, "a");
  EXPECT_EQ((*parsed)[0].second, (std::vector<int32_t>{0, 2}));
  EXPECT_FALSE(parse_assignment(protocol::Bytes{0, 0, 0, 0, 0, 9}));
}

}  // namespace
}  // namespace fjord::coordinator
