// Online migration between the protocols, on a manual clock: a running classic group upgraded by a
// consumer-protocol member, its classic members reconciling through JoinGroup/SyncGroup/Heartbeat without any
// partition owned twice, offsets and classic members surviving a reload, and the downgrade back when the
// consumer-protocol member leaves.
#include <gtest/gtest.h>

#include <set>

#include "coordinator/consumer_protocol.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/testing/fake_topic_catalog.h"
#include "coordinator/testing/memory_state_log.h"
#include "model/testing/manual_scheduler.h"
#include "protocol/codec_runtime.h"

namespace fjord::coordinator {
namespace {

using fjord::testing::ManualScheduler;

// A ConsumerProtocolSubscription v1, as a cooperative client sends it: its topics and what it owns.
protocol::Bytes subscription(const std::vector<std::string>& topics, const NamedAssignment& owned) {
  protocol::Writer w;
  w.write_int16(1);
  w.write_array_length(topics.size(), false);
  for (const auto& t : topics) w.write_string(t, false);
  w.write_null_bytes(false);
  w.write_array_length(owned.size(), false);
  for (const auto& [topic, partitions] : owned) {
    w.write_string(topic, false);
    w.write_array_length(partitions.size(), false);
    for (int32_t p : partitions) w.write_int32(p);
  }
  return std::move(w.take().bytes);
}

std::set<int32_t> partitions_of(const NamedAssignment& assignment) {
  std::set<int32_t> out;
  for (const auto& [topic, partitions] : assignment) out.insert(partitions.begin(), partitions.end());
  return out;
}

NamedAssignment orders(const std::set<int32_t>& partitions) {
  if (partitions.empty()) return {};
  return {{"orders", std::vector<int32_t>(partitions.begin(), partitions.end())}};
}

class GroupMigrationTest : public ::testing::Test {
 protected:
  GroupMigrationTest() {
    topics.add("orders", 1, 4);
    make();
  }

  void make(GroupSettings s = {}) {
    s.initial_rebalance_delay_ms = 0;
    s.min_session_timeout_ms = 1000;
    coordinator = std::make_unique<GroupCoordinator>(log, clock, scheduler, s);
    coordinator->set_topic_catalog(&topics);
    coordinator->load();
  }

  // The answer arrives when the join completes: at once in a consumer-protocol group, after the join phase in a
  // classic one.
  std::shared_ptr<std::optional<JoinResult>> join(const std::string& member_id, const std::set<int32_t>& owned) {
    JoinRequest r;
    r.group_id = "g";
    r.member_id = member_id;
    r.client_id = "classic";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    r.protocols = {{"cooperative-sticky", subscription({"orders"}, orders(owned))}};
    r.member_id_required = true;  // JoinGroup v4+
    auto out = std::make_shared<std::optional<JoinResult>>();
    coordinator->join(r, [out](JoinResult result) { *out = std::move(result); });
    return out;
  }

  std::optional<SyncResult> sync(const std::string& member_id, int32_t generation,
                                 std::vector<std::pair<std::string, protocol::Bytes>> assignments = {}) {
    SyncRequest r;
    r.group_id = "g";
    r.generation = generation;
    r.member_id = member_id;
    r.protocol_type = "consumer";
    r.protocol_name = "cooperative-sticky";
    r.assignments = std::move(assignments);
    auto out = std::make_shared<std::optional<SyncResult>>();
    coordinator->sync(r, [out](SyncResult result) { *out = std::move(result); });
    return *out;
  }

  consumer::HeartbeatResult beat(const std::string& member_id, int32_t epoch,
                                 std::optional<consumer::Assignment> owned) {
    consumer::HeartbeatRequest r;
    r.member_id = member_id;
    r.member_epoch = epoch;
    if (epoch == 0) {
      r.rebalance_timeout_ms = 30000;
      r.subscribed_topic_names = std::vector<std::string>{"orders"};
    }
    r.owned = std::move(owned);
    consumer::HeartbeatResult out;
    coordinator->consumer_heartbeat("g", r, [&](consumer::HeartbeatResult result) { out = std::move(result); });
    return out;
  }

  ErrorCode commit(const std::string& member_id, int32_t generation, int32_t partition, int64_t offset) {
    CommitRequest r;
    r.group_id = "g";
    r.generation = generation;
    r.member_id = member_id;
    r.offsets.push_back({"orders", partition, offset, -1, std::nullopt});
    std::vector<ErrorCode> errors;
    coordinator->commit(r, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
    return errors.empty() ? ErrorCode::kUnknownServerError : errors.front();
  }

  int64_t committed(int32_t partition) {
    auto fetched = coordinator->fetch("g", std::vector<std::pair<std::string, int32_t>>{{"orders", partition}});
    return fetched.empty() ? -2 : fetched.front().offset;
  }

  // A classic group of two members at generation 1: a owns orders-0,1 and b orders-2,3.
  void start_classic_group() {
    auto first = join("", {});
    ASSERT_TRUE(*first && (*first)->error == ErrorCode::kMemberIdRequired);
    a = (*first)->member_id;
    auto second = join("", {});
    ASSERT_TRUE(*second && (*second)->error == ErrorCode::kMemberIdRequired);
    b = (*second)->member_id;
    auto a_joined = join(a, {});
    auto b_joined = join(b, {});
    scheduler.advance(1);  // the initial delay (none here) ends the join phase
    ASSERT_TRUE(*a_joined && *b_joined);
    ASSERT_EQ((*a_joined)->generation, 1);
    ASSERT_EQ((*a_joined)->leader, a);
    ASSERT_EQ(coordinator->describe("g").state, GroupState::kCompletingRebalance);
    auto a_sync = sync(a, 1, {{a, encode_assignment(orders({0, 1}))}, {b, encode_assignment(orders({2, 3}))}});
    ASSERT_TRUE(a_sync);
    ASSERT_EQ(a_sync->error, ErrorCode::kNone);
    auto b_sync = sync(b, 1);
    ASSERT_TRUE(b_sync);
    ASSERT_EQ(coordinator->describe("g").state, GroupState::kStable);
  }

  // Who holds each partition of orders (assigned or being revoked): no partition twice.
  std::map<int32_t, std::string> holders() {
    std::map<int32_t, std::string> out;
    const auto* group = coordinator->consumer_group("g");
    if (!group) return out;
    for (const auto& [id, m] : group->members()) {
      for (const auto* part : {&m.assignment.assigned, &m.assignment.pending_revocation}) {
        for (const auto& [topic, partitions] : *part) {
          for (int32_t p : partitions) {
            auto [it, inserted] = out.emplace(p, id);
            EXPECT_TRUE(inserted) << "orders-" << p << " held by " << it->second << " and " << id;
          }
        }
      }
    }
    return out;
  }

  // A classic member told to rebalance: joins with what it owns, syncs, gives up what it was not given and joins
  // again, until it is at the group's epoch. Returns what it owns then and its generation.
  std::pair<std::set<int32_t>, int32_t> rejoin(const std::string& member, std::set<int32_t> owned) {
    for (int round = 0; round < 3; ++round) {
      auto answer = join(member, owned);
      EXPECT_TRUE(*answer) << "a consumer-protocol group answers a join at once";
      if (!*answer) break;
      const JoinResult* joined = &**answer;
      EXPECT_EQ(joined->error, ErrorCode::kNone);
      EXPECT_EQ(joined->leader, "") << "the broker assigns: no classic member leads";
      auto synced = sync(member, joined->generation);
      EXPECT_TRUE(synced);
      if (!synced) break;
      EXPECT_EQ(synced->error, ErrorCode::kNone);
      auto given = parse_assignment(synced->assignment);
      EXPECT_TRUE(given);
      std::set<int32_t> now = partitions_of(*given);
      holders();  // checks that no partition is held twice
      const bool revoking = !std::includes(now.begin(), now.end(), owned.begin(), owned.end());
      owned = now;
      if (!revoking) return {owned, joined->generation};
    }
    ADD_FAILURE() << member << " did not settle";
    return {owned, -1};
  }

  ManualClock clock;
  ManualScheduler scheduler{clock};
  testing::MemoryStateLog log;
  testing::FakeTopicCatalog topics;
  std::unique_ptr<GroupCoordinator> coordinator;
  std::string a, b;
};

TEST_F(GroupMigrationTest, AClassicGroupIsUpgradedOnlineAndDowngradedWhenTheLastConsumerMemberLeaves) {
  start_classic_group();
  ASSERT_EQ(commit(a, 1, 0, 17), ErrorCode::kNone);

  // A consumer-protocol member joins the running classic group: it becomes a consumer group at generation 1,
  // moved on to epoch 2 by the newcomer, who gets nothing the classic members still hold.
  auto c = beat("c", 0, consumer::Assignment{});
  ASSERT_EQ(c.error, ErrorCode::kNone) << c.error_message.value_or("");
  EXPECT_EQ(c.member_epoch, 2);
  const auto* group = coordinator->consumer_group("g");
  ASSERT_NE(group, nullptr) << "upgraded";
  EXPECT_EQ(group->members().size(), 3u);
  EXPECT_TRUE(group->members().at(a).classic.has_value());
  EXPECT_FALSE(group->members().at("c").classic.has_value());
  EXPECT_EQ(holders().size(), 4u) << "the classic members kept what they owned";

  // The classic members hear of it through their heartbeat and rejoin; each gives up what moves to c first.
  EXPECT_EQ(coordinator->heartbeat("g", 1, a, std::nullopt), ErrorCode::kRebalanceInProgress);
  auto [a_owns, a_generation] = rejoin(a, {0, 1});
  EXPECT_EQ(coordinator->heartbeat("g", 1, b, std::nullopt), ErrorCode::kRebalanceInProgress);
  auto [b_owns, b_generation] = rejoin(b, {2, 3});
  EXPECT_EQ(a_generation, 2);
  EXPECT_EQ(b_generation, 2);
  auto c_now = beat("c", c.member_epoch, consumer::Assignment{});
  ASSERT_EQ(c_now.error, ErrorCode::kNone);
  ASSERT_TRUE(c_now.assignment);
  std::set<int32_t> c_owns;
  for (const auto& [topic, partitions] : *c_now.assignment) c_owns.insert(partitions.begin(), partitions.end());
  EXPECT_FALSE(c_owns.empty()) << "the newcomer got partitions the classic members gave up";
  std::set<int32_t> all;
  for (const auto* part : {&a_owns, &b_owns, &c_owns}) {
    for (int32_t p : *part) EXPECT_TRUE(all.insert(p).second) << "orders-" << p << " owned twice";
  }
  EXPECT_EQ(all.size(), 4u) << "every partition owned";
  EXPECT_EQ(coordinator->heartbeat("g", 2, a, std::nullopt), ErrorCode::kNone);

  // A classic member commits at its generation, which is its epoch.
  EXPECT_EQ(commit(a, 1, 0, 18), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(commit(a, 2, *a_owns.begin(), 20), ErrorCode::kNone);

  // Restarted from its records: the same members, classic ones still classic, and the offsets.
  make();
  group = coordinator->consumer_group("g");
  ASSERT_NE(group, nullptr);
  ASSERT_EQ(group->members().size(), 3u);
  ASSERT_TRUE(group->members().at(b).classic.has_value());
  EXPECT_EQ(group->members().at(b).classic->session_timeout_ms, 10000);
  EXPECT_EQ(group->members().at(b).classic->protocols.front().name, "cooperative-sticky");
  if (*a_owns.begin() != 0) {
    EXPECT_EQ(committed(0), 17);
  }
  EXPECT_EQ(committed(*a_owns.begin()), 20);

  // The consumer-protocol member leaves: the classic members are a classic group again, which rebalances.
  auto left = beat("c", -1, std::nullopt);
  ASSERT_EQ(left.error, ErrorCode::kNone);
  EXPECT_EQ(coordinator->consumer_group("g"), nullptr) << "downgraded";
  auto description = coordinator->describe("g");
  EXPECT_EQ(description.state, GroupState::kPreparingRebalance);
  EXPECT_EQ(description.protocol_type, "consumer");
  EXPECT_EQ(description.members.size(), 2u);
  EXPECT_EQ(coordinator->heartbeat("g", 2, a, std::nullopt), ErrorCode::kRebalanceInProgress)
      << "the downgraded group is at the epoch its classic members know, and rebalancing";
  EXPECT_EQ(commit(a, 2, *a_owns.begin(), 21), ErrorCode::kNone)
      << "work a classic member processed before the downgrade can still be committed";
  auto a_back = join(a, a_owns);
  auto b_back = join(b, b_owns);
  ASSERT_TRUE(*a_back && *b_back) << "everyone rejoined: the rebalance completes";
  EXPECT_EQ((*a_back)->generation, 3);
  EXPECT_FALSE((*a_back)->leader.empty()) << "a classic group again: a member leads";

  // And from its records again: a classic group, its offsets intact.
  make();
  EXPECT_EQ(coordinator->consumer_group("g"), nullptr);
  EXPECT_EQ(coordinator->describe("g").members.size(), 2u);
  EXPECT_EQ(committed(*a_owns.begin()), 21);
}

// An empty consumer-protocol group that a classic member joins becomes classic (whatever the policy), and its
// records go with it: reloaded, it is the classic group, whose members carry on.
TEST_F(GroupMigrationTest, AnEmptyConsumerGroupJoinedByAClassicMemberStaysClassicAfterAReload) {
  auto c = beat("c", 0, consumer::Assignment{});
  ASSERT_EQ(c.error, ErrorCode::kNone);
  ASSERT_EQ(beat("c", -1, std::nullopt).error, ErrorCode::kNone);
  ASSERT_NE(coordinator->consumer_group("g"), nullptr);
  auto first = join("", {});
  ASSERT_TRUE(*first && (*first)->error == ErrorCode::kMemberIdRequired);
  a = (*first)->member_id;
  auto joined = join(a, {});
  scheduler.advance(1);
  ASSERT_TRUE(*joined);
  ASSERT_EQ((*joined)->error, ErrorCode::kNone);
  auto synced = sync(a, (*joined)->generation, {{a, encode_assignment(orders({0, 1, 2, 3}))}});
  ASSERT_TRUE(synced && synced->error == ErrorCode::kNone);
  EXPECT_EQ(coordinator->consumer_group("g"), nullptr);

  make();
  EXPECT_EQ(coordinator->consumer_group("g"), nullptr) << "the consumer-protocol group came back";
  EXPECT_EQ(coordinator->heartbeat("g", (*joined)->generation, a, std::nullopt), ErrorCode::kNone);
}

TEST_F(GroupMigrationTest, ThePolicyCanRefuseTheUpgrade) {
  GroupSettings s;
  s.online_upgrade = false;
  make(s);
  start_classic_group();
  auto c = beat("c", 0, consumer::Assignment{});
  EXPECT_EQ(c.error, ErrorCode::kGroupIdNotFound);
  EXPECT_EQ(coordinator->consumer_group("g"), nullptr);
  EXPECT_EQ(coordinator->heartbeat("g", 1, a, std::nullopt), ErrorCode::kNone) << "the classic group carries on";
}

}  // namespace
}  // namespace fjord::coordinator
