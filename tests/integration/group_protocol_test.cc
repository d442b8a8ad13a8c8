// Group APIs at exact versions, for the details that broke real clients against other Kafka-compatible brokers:
// MEMBER_ID_REQUIRED only from JoinGroup v4, protocol type and name echoed from JoinGroup v7 / SyncGroup v5,
// OffsetFetch's leader epoch and one entry per partition, FindCoordinator's batched form from v4, and
// OffsetCommit with generation -1 outside any membership, and OffsetCommit/OffsetFetch v10 naming topics by id.
#include <gtest/gtest.h>

#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/sync_group.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"

namespace fjord::testing {
namespace {

using namespace protocol;

class GroupProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    broker.start();
    Admin(broker.bootstrap()).create_topic("t", 2);
  }

  template <typename Response, typename Request>
  Response call(const Request& request, int16_t version) {
    RawClient c(broker.port());
    c.send(request, version, 1);
    auto frame = c.receive();
    EXPECT_TRUE(frame) << "no answer";
    if (!frame) return Response{};
    bool flexible = is_flexible(*find_api_spec(Request::kApiKey), version);
    return RawClient::decode<Response>(*frame, version, flexible, nullptr);
  }

  JoinGroupRequest join_request(const std::string& group, const std::string& member_id) {
    JoinGroupRequest r;
    r.group_id = group;
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 10000;
    r.member_id = member_id;
    r.protocol_type = "consumer";
    auto& p = r.protocols.emplace_back();
    p.name = "range";
    p.metadata = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 0};
    return r;
  }

  BrokerProcess broker{{"--set", "group.initial.rebalance.delay.ms=0"}};
};

TEST_F(GroupProtocol, MemberIdRequiredOnlyFromVersion4) {
  auto old = call<JoinGroupResponse>(join_request("old-client", ""), 3);
  EXPECT_EQ(old.error_code, 0) << "a v3 client joins in one step";
  EXPECT_FALSE(old.member_id.empty());
  EXPECT_EQ(old.generation_id, 1);

  auto first = call<JoinGroupResponse>(join_request("new-client", ""), 4);
  EXPECT_EQ(first.error_code, 79);
  ASSERT_FALSE(first.member_id.empty());
  auto second = call<JoinGroupResponse>(join_request("new-client", first.member_id), 4);
  EXPECT_EQ(second.error_code, 0);
  EXPECT_EQ(second.member_id, first.member_id);
  EXPECT_EQ(second.leader, first.member_id);
}

TEST_F(GroupProtocol, ProtocolTypeAndNameAreEchoedFromJoinV7AndSyncV5) {
  auto first = call<JoinGroupResponse>(join_request("echo", ""), 7);
  auto joined = call<JoinGroupResponse>(join_request("echo", first.member_id), 7);
  ASSERT_EQ(joined.error_code, 0);
  EXPECT_EQ(joined.protocol_type, "consumer");
  EXPECT_EQ(joined.protocol_name, "range");
  SyncGroupRequest sync;
  sync.group_id = "echo";
  sync.generation_id = joined.generation_id;
  sync.member_id = joined.member_id;
  sync.protocol_type = "consumer";
  sync.protocol_name = "range";
  auto& a = sync.assignments.emplace_back();
  a.member_id = joined.member_id;
  a.assignment = {0, 0, 0, 0, 0, 0};
  auto synced = call<SyncGroupResponse>(sync, 5);
  EXPECT_EQ(synced.error_code, 0);
  EXPECT_EQ(synced.protocol_type, "consumer");
  EXPECT_EQ(synced.protocol_name, "range");
  EXPECT_EQ(synced.assignment, a.assignment);
}

TEST_F(GroupProtocol, CommitWithoutMembershipAndFetchOneEntryPerPartitionWithLeaderEpoch) {
  OffsetCommitRequest commit;
  commit.group_id = "standalone";
  commit.generation_id_or_member_epoch = -1;
  auto& t = commit.topics.emplace_back();
  t.name = "t";
  auto& p = t.partitions.emplace_back();
  p.partition_index = 1;
  p.committed_offset = 17;
  p.committed_leader_epoch = 3;
  p.committed_metadata = "checkpoint";
  auto& missing = commit.topics.emplace_back();
  missing.name = "no-such-topic";
  missing.partitions.emplace_back().partition_index = 0;
  auto committed = call<OffsetCommitResponse>(commit, 8);
  ASSERT_EQ(committed.topics.size(), 2u);
  EXPECT_EQ(committed.topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(committed.topics[1].partitions[0].error_code, 3) << "UNKNOWN_TOPIC_OR_PARTITION";

  OffsetFetchRequest fetch;
  fetch.group_id = "standalone";
  auto& ft = fetch.topics.emplace();
  auto& topic = ft.emplace_back();
  topic.name = "t";
  topic.partition_indexes = {0, 1, 1};
  auto fetched = call<OffsetFetchResponse>(fetch, 7);
  ASSERT_EQ(fetched.topics.size(), 1u);
  const auto& partitions = fetched.topics[0].partitions;
  ASSERT_EQ(partitions.size(), 3u) << "one entry per requested partition";
  EXPECT_EQ(partitions[0].committed_offset, -1);
  EXPECT_EQ(partitions[0].committed_leader_epoch, -1) << "no commit: epoch -1, not absent";
  EXPECT_EQ(partitions[1].committed_offset, 17);
  EXPECT_EQ(partitions[1].committed_leader_epoch, 3);
  EXPECT_EQ(partitions[1].metadata, "checkpoint");

  OffsetFetchRequest multi;
  auto& g = multi.groups.emplace_back();
  g.group_id = "standalone";
  g.topics = std::nullopt;
  auto multi_answer = call<OffsetFetchResponse>(multi, 8);
  ASSERT_EQ(multi_answer.groups.size(), 1u);
  ASSERT_EQ(multi_answer.groups[0].topics.size(), 1u) << "null topics: every committed offset";
  EXPECT_EQ(multi_answer.groups[0].topics[0].partitions[0].committed_offset, 17);
}

// v10 (the consumer protocol's clients): topics travel by id in both directions. An id the cluster does not know
// is UNKNOWN_TOPIC_ID for that topic alone, and the offset committed by id reads back by name at older versions.
TEST_F(GroupProtocol, Version10NamesTopicsByIdAndAnUnknownIdIsUnknownTopicId) {
  MetadataRequest metadata;
  auto& wanted = metadata.topics.emplace().emplace_back();
  wanted.name = "t";
  auto described = call<MetadataResponse>(metadata, 12);
  ASSERT_EQ(described.topics.size(), 1u);
  const Uuid id = described.topics[0].topic_id;
  ASSERT_FALSE(id.is_zero());
  Uuid nobody = id;
  nobody.bytes[0] ^= 0xff;

  OffsetCommitRequest commit;
  commit.group_id = "by-id";
  commit.generation_id_or_member_epoch = -1;
  auto& known = commit.topics.emplace_back();
  known.topic_id = id;
  auto& p = known.partitions.emplace_back();
  p.partition_index = 1;
  p.committed_offset = 42;
  auto& unknown = commit.topics.emplace_back();
  unknown.topic_id = nobody;
  unknown.partitions.emplace_back().partition_index = 0;
  auto committed = call<OffsetCommitResponse>(commit, 10);
  ASSERT_EQ(committed.topics.size(), 2u);
  EXPECT_EQ(committed.topics[0].topic_id, id) << "the id is echoed";
  EXPECT_EQ(committed.topics[0].partitions[0].error_code, 0);
  EXPECT_EQ(committed.topics[1].topic_id, nobody);
  EXPECT_EQ(committed.topics[1].partitions[0].error_code, 100) << "UNKNOWN_TOPIC_ID";

  OffsetFetchRequest fetch;
  auto& g = fetch.groups.emplace_back();
  g.group_id = "by-id";
  auto& topics = g.topics.emplace();
  auto& asked = topics.emplace_back();
  asked.topic_id = id;
  asked.partition_indexes = {0, 1};
  auto& asked_unknown = topics.emplace_back();
  asked_unknown.topic_id = nobody;
  asked_unknown.partition_indexes = {0};
  auto fetched = call<OffsetFetchResponse>(fetch, 10);
  ASSERT_EQ(fetched.groups.size(), 1u);
  ASSERT_EQ(fetched.groups[0].topics.size(), 2u);
  const auto& by_id = fetched.groups[0].topics[0];
  EXPECT_EQ(by_id.topic_id, id);
  ASSERT_EQ(by_id.partitions.size(), 2u);
  EXPECT_EQ(by_id.partitions[0].committed_offset, -1);
  EXPECT_EQ(by_id.partitions[1].committed_offset, 42);
  EXPECT_EQ(fetched.groups[0].topics[1].topic_id, nobody);
  ASSERT_EQ(fetched.groups[0].topics[1].partitions.size(), 1u);
  EXPECT_EQ(fetched.groups[0].topics[1].partitions[0].error_code, 100) << "UNKNOWN_TOPIC_ID";

  OffsetFetchRequest everything;
  everything.groups.emplace_back().group_id = "by-id";
  everything.groups[0].topics = std::nullopt;
  auto all = call<OffsetFetchResponse>(everything, 10);
  ASSERT_EQ(all.groups.size(), 1u);
  ASSERT_EQ(all.groups[0].topics.size(), 1u);
  EXPECT_EQ(all.groups[0].topics[0].topic_id, id) << "asking for everything names topics by id too";

  OffsetFetchRequest by_name;
  by_name.group_id = "by-id";
  auto& named = by_name.topics.emplace().emplace_back();
  named.name = "t";
  named.partition_indexes = {1};
  auto old = call<OffsetFetchResponse>(by_name, 7);
  ASSERT_EQ(old.topics.size(), 1u);
  EXPECT_EQ(old.topics[0].partitions[0].committed_offset, 42) << "committed by id, read by name";
}

TEST_F(GroupProtocol, OffsetDeleteRemovesAnEmptyGroupsOffsets) {
  OffsetCommitRequest commit;
  commit.group_id = "trim";
  auto& t = commit.topics.emplace_back();
  t.name = "t";
  t.partitions.emplace_back().committed_offset = 5;
  ASSERT_EQ(call<OffsetCommitResponse>(commit, 8).topics[0].partitions[0].error_code, 0);

  OffsetDeleteRequest remove;
  remove.group_id = "trim";
  auto& rt = remove.topics.emplace_back();
  rt.name = "t";
  rt.partitions.emplace_back().partition_index = 0;
  auto removed = call<OffsetDeleteResponse>(remove, 0);
  EXPECT_EQ(removed.error_code, 0);
  ASSERT_EQ(removed.topics.size(), 1u);
  EXPECT_EQ(removed.topics[0].partitions[0].error_code, 0);

  OffsetFetchRequest fetch;
  fetch.group_id = "trim";
  auto& topic = fetch.topics.emplace().emplace_back();
  topic.name = "t";
  topic.partition_indexes = {0};
  EXPECT_EQ(call<OffsetFetchResponse>(fetch, 7).topics[0].partitions[0].committed_offset, -1);
  remove.group_id = "never-existed";
  EXPECT_EQ(call<OffsetDeleteResponse>(remove, 0).error_code, 69) << "GROUP_ID_NOT_FOUND";
}

TEST_F(GroupProtocol, FindCoordinatorBatchesKeysFromVersion4) {
  FindCoordinatorRequest single;
  single.key = "g";
  auto one = call<FindCoordinatorResponse>(single, 3);
  EXPECT_EQ(one.error_code, 0);
  EXPECT_EQ(one.port, broker.port());
  FindCoordinatorRequest batched;
  batched.coordinator_keys = {"a", "b"};
  auto many = call<FindCoordinatorResponse>(batched, 4);
  ASSERT_EQ(many.coordinators.size(), 2u);
  EXPECT_EQ(many.coordinators[1].key, "b");
  EXPECT_EQ(many.coordinators[1].port, broker.port());
}

}  // namespace
}  // namespace fjord::testing
