#include "coordinator/offsets_records.h"

#include <gtest/gtest.h>

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
