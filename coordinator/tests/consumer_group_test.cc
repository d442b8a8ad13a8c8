// The consumer group protocol's decisions, without a broker: the server-side assignors, a member's reconciliation
// toward its target, and a group's heartbeats, epochs, fencing, expiry and static members.
#include "coordinator/consumer_group/consumer_group.h"

#include <gtest/gtest.h>

#include <random>

#include "coordinator/consumer_group/assignors.h"
#include "coordinator/consumer_group_records.h"
#include "coordinator/testing/fake_topic_catalog.h"

namespace fjord::coordinator::consumer {
namespace {

using coordinator::testing::topic_id;
using FakeCatalog = coordinator::testing::FakeTopicCatalog;

bool prefix_regex(const std::string& regex, const std::string& topic) {
  // Enough of a regex for these tests: "prefix.*".
  return regex.ends_with(".*") && topic.starts_with(regex.substr(0, regex.size() - 2));
}

struct Harness {
  ConsumerGroup group{"g"};
  ConsumerGroupSettings settings;
  FakeCatalog catalog;
  int64_t now = 1000;
  int minted = 0;

  HeartbeatResult beat(HeartbeatRequest request) {
    return group.heartbeat(request, settings, catalog, prefix_regex, now,
                           [this] { return "minted-" + std::to_string(++minted); });
  }
  HeartbeatResult join(const std::string& member, std::vector<std::string> topics,
                       std::optional<std::string> instance = std::nullopt) {
    HeartbeatRequest r;
    r.member_id = member;
    r.member_epoch = 0;
    r.instance_id = instance;
    r.rebalance_timeout_ms = 30000;
    r.subscribed_topic_names = std::move(topics);
    r.owned = Assignment{};
    return beat(r);
  }
  HeartbeatResult poll(const std::string& member, int32_t epoch, std::optional<Assignment> owned) {
    HeartbeatRequest r;
    r.member_id = member;
    r.member_epoch = epoch;
    r.owned = std::move(owned);
    return beat(r);
  }
};

// Every partition is held by at most one member, counting those not yet revoked.
void expect_no_partition_held_twice(const ConsumerGroup& group) {
  std::map<std::pair<uint8_t, int32_t>, std::string> seen;
  for (const auto& [id, m] : group.members()) {
    for (const auto* part : {&m.assignment.assigned, &m.assignment.pending_revocation}) {
      for (const auto& [topic, partitions] : *part) {
        for (int32_t p : partitions) {
          auto [it, inserted] = seen.emplace(std::make_pair(topic.bytes[15], p), id);
          EXPECT_TRUE(inserted) << "partition " << p << " held by " << it->second << " and " << id;
        }
      }
    }
  }
}

TEST(ServerAssignors, UniformIsBalancedAndMovesOnlyWhatItMust) {
  const auto* uniform = find_assignor("uniform");
  ASSERT_NE(uniform, nullptr);
  std::map<TopicId, int32_t, TopicIdLess> partitions{{topic_id(1), 6}, {topic_id(2), 3}};
  std::vector<AssignorMember> members = {{"a", std::nullopt, {topic_id(1), topic_id(2)}, {}},
                                         {"b", std::nullopt, {topic_id(1), topic_id(2)}, {}}};
  auto first = uniform->assign(members, partitions);
  EXPECT_EQ(partition_count(first["a"]) + partition_count(first["b"]), 9u);
  EXPECT_LE(std::abs(static_cast<int>(partition_count(first["a"])) - static_cast<int>(partition_count(first["b"]))), 1);
  // A third member takes three; a and b keep the rest of what they had.
  members[0].previous = first["a"];
  members[1].previous = first["b"];
  members.push_back({"c", std::nullopt, {topic_id(1), topic_id(2)}, {}});
  auto second = uniform->assign(members, partitions);
  EXPECT_EQ(partition_count(second["c"]), 3u);
  EXPECT_TRUE(minus(second["a"], first["a"]).empty()) << "a only loses partitions";
  EXPECT_TRUE(minus(second["b"], first["b"]).empty()) << "b only loses partitions";
  EXPECT_EQ(find_assignor("sticky"), nullptr);
}

TEST(ServerAssignors, UniformRespectsDifferentSubscriptions) {
  std::map<TopicId, int32_t, TopicIdLess> partitions{{topic_id(1), 4}, {topic_id(2), 4}};
  std::vector<AssignorMember> members = {{"a", std::nullopt, {topic_id(1)}, {}},
                                         {"b", std::nullopt, {topic_id(1), topic_id(2)}, {}},
                                         {"c", std::nullopt, {topic_id(2)}, {}}};
  auto out = find_assignor("uniform")->assign(members, partitions);
  EXPECT_FALSE(out["a"].contains(topic_id(2)));
  EXPECT_FALSE(out["c"].contains(topic_id(1)));
  EXPECT_EQ(partition_count(out["a"]) + partition_count(out["b"]) + partition_count(out["c"]), 8u);
  for (const auto& [member, assignment] : out) {
    EXPECT_GE(partition_count(assignment), 2u) << member;
    EXPECT_LE(partition_count(assignment), 3u) << member;
  }
}

TEST(ServerAssignors, RangeGivesCoPartitionedTopicsTheSamePartitionsInInstanceOrder) {
  std::map<TopicId, int32_t, TopicIdLess> partitions{{topic_id(1), 5}, {topic_id(2), 5}};
  std::vector<AssignorMember> members = {{"zz", std::string("pod-1"), {topic_id(1), topic_id(2)}, {}},
                                         {"aa", std::string("pod-2"), {topic_id(1), topic_id(2)}, {}}};
  auto out = find_assignor("range")->assign(members, partitions);
  EXPECT_EQ(out["zz"][topic_id(1)], (std::set<int32_t>{0, 1, 2})) << "pod-1 sorts first whatever its member id";
  EXPECT_EQ(out["zz"][topic_id(2)], (std::set<int32_t>{0, 1, 2}));
  EXPECT_EQ(out["aa"][topic_id(1)], (std::set<int32_t>{3, 4}));
  EXPECT_EQ(out["aa"][topic_id(2)], (std::set<int32_t>{3, 4}));
}

TEST(Reconciliation, PartitionsAreRevokedBeforeTheyAreAssignedElsewhere) {
  Harness h;
  h.catalog.add("orders", 1, 4);
  auto a = h.join("a", {"orders"});
  ASSERT_EQ(a.error, ErrorCode::kNone);
  ASSERT_TRUE(a.assignment);
  EXPECT_EQ(partition_count(*a.assignment), 4u);
  const int32_t a_epoch = a.member_epoch;
  EXPECT_EQ(a_epoch, 1);

  auto b = h.join("b", {"orders"});
  EXPECT_EQ(b.member_epoch, 2);
  ASSERT_TRUE(b.assignment);
  EXPECT_TRUE(b.assignment->empty()) << "a still holds everything";
  EXPECT_EQ(h.group.members().at("b").assignment.state, MemberState::kUnreleasedPartitions);
  expect_no_partition_held_twice(h.group);

  // a is told to give up two partitions and keeps its epoch until it has.
  auto revoke = h.poll("a", a_epoch, std::nullopt);
  ASSERT_TRUE(revoke.assignment);
  EXPECT_EQ(partition_count(*revoke.assignment), 2u);
  EXPECT_EQ(revoke.member_epoch, a_epoch);
  EXPECT_EQ(h.group.members().at("a").assignment.state, MemberState::kUnrevokedPartitions);
  // b still gets nothing while a has not let go.
  EXPECT_TRUE(partition_count(h.group.members().at("b").assignment.assigned) == 0);
  auto still = h.poll("b", 2, Assignment{});
  EXPECT_FALSE(still.assignment && !still.assignment->empty());
  expect_no_partition_held_twice(h.group);

  auto done = h.poll("a", a_epoch, *revoke.assignment);
  EXPECT_EQ(done.member_epoch, 2);
  EXPECT_EQ(h.group.members().at("a").assignment.state, MemberState::kStable);
  auto got = h.poll("b", 2, Assignment{});
  ASSERT_TRUE(got.assignment);
  EXPECT_EQ(partition_count(*got.assignment), 2u);
  EXPECT_EQ(h.group.state(), ConsumerGroupState::kStable);
  expect_no_partition_held_twice(h.group);
}

TEST(Reconciliation, EpochsFenceStaleMembersButForgiveALostAnswer) {
  Harness h;
  h.catalog.add("orders", 1, 2);
  h.join("a", {"orders"});
  EXPECT_EQ(h.poll("a", 7, std::nullopt).error, ErrorCode::kFencedMemberEpoch) << "ahead of the group";
  EXPECT_EQ(h.poll("nobody", 1, std::nullopt).error, ErrorCode::kUnknownMemberId);
  // b joins; a revokes one partition and moves to epoch 2, but that answer is lost: a comes back at epoch 1.
  h.join("b", {"orders"});
  auto revoke = h.poll("a", 1, std::nullopt);
  auto moved = h.poll("a", 1, *revoke.assignment);
  ASSERT_EQ(moved.member_epoch, 2);
  EXPECT_EQ(h.poll("a", 1, *revoke.assignment).error, ErrorCode::kNone) << "the epoch before, owning no more";
  EXPECT_EQ(h.poll("a", 0 + 1, Assignment{{topic_id(1), {0, 1}}}).error, ErrorCode::kFencedMemberEpoch)
      << "the epoch before, claiming a partition it no longer has";
  EXPECT_EQ(h.group.check_member_epoch("a", 2), ErrorCode::kNone);
  EXPECT_EQ(h.group.check_member_epoch("a", 1), ErrorCode::kStaleMemberEpoch);
  EXPECT_EQ(h.group.check_member_epoch("zz", 1), ErrorCode::kUnknownMemberId);
}

TEST(Reconciliation, ACommitAtAnOlderEpochCountsForPartitionsTheMemberHasHeldSinceThen) {
  // KIP-1251: a member's heartbeat moves it to a new epoch while a commit it sent at the old one is on its way.
  Harness h;
  h.catalog.add("orders", 1, 4);
  const TopicId orders = topic_id(1);
  using Partitions = std::vector<std::pair<TopicId, int32_t>>;
  ASSERT_EQ(h.join("a", {"orders"}).member_epoch, 1);
  h.join("b", {"orders"});
  auto revoke = h.poll("a", 1, std::nullopt);  // a keeps two and gives up two, still at epoch 1
  ASSERT_TRUE(revoke.assignment);
  const Assignment kept = *revoke.assignment;
  const int32_t kept_partition = *kept.at(orders).begin();
  int32_t revoked_partition = 0;
  while (kept.at(orders).contains(revoked_partition)) ++revoked_partition;
  EXPECT_EQ(h.group.check_commit_epoch("a", 1, Partitions{{orders, revoked_partition}}), ErrorCode::kNone)
      << "at its current epoch, what it is still revoking too";
  ASSERT_EQ(h.poll("a", 1, kept).member_epoch, 2);  // revoked: a moves to epoch 2

  EXPECT_EQ(h.group.check_commit_epoch("a", 2, Partitions{{orders, kept_partition}}), ErrorCode::kNone);
  EXPECT_EQ(h.group.check_commit_epoch("a", 1, Partitions{{orders, kept_partition}}), ErrorCode::kNone)
      << "held since epoch 1";
  EXPECT_EQ(h.group.check_commit_epoch("a", 1, Partitions{{orders, kept_partition}, {orders, revoked_partition}}),
            ErrorCode::kStaleMemberEpoch)
      << "a partition it no longer holds";
  EXPECT_EQ(h.group.check_commit_epoch("a", 3, Partitions{{orders, kept_partition}}), ErrorCode::kStaleMemberEpoch)
      << "ahead of the member";
  EXPECT_EQ(h.group.check_commit_epoch("a", 1, Partitions{{topic_id(9), 0}}), ErrorCode::kStaleMemberEpoch)
      << "a topic it holds nothing of";
  EXPECT_EQ(h.group.check_commit_epoch("zz", 1, Partitions{}), ErrorCode::kUnknownMemberId);

  // b gets the two a gave up, at epoch 2: a commit of them at epoch 1 would predate its holding them.
  auto b = h.poll("b", 2, Assignment{});
  ASSERT_TRUE(b.assignment);
  ASSERT_EQ(partition_count(*b.assignment), 2u);
  EXPECT_EQ(h.group.members().at("b").assignment.assigned_at.at(orders).at(revoked_partition), 2);
  // b leaves: a takes everything back at epoch 3, and what it gets back is its own only from epoch 3.
  HeartbeatRequest leave;
  leave.member_id = "b";
  leave.member_epoch = -1;
  h.beat(leave);
  ASSERT_EQ(h.poll("a", 2, kept).member_epoch, 3);
  EXPECT_EQ(h.group.check_commit_epoch("a", 2, Partitions{{orders, kept_partition}}), ErrorCode::kNone);
  EXPECT_EQ(h.group.check_commit_epoch("a", 2, Partitions{{orders, revoked_partition}}), ErrorCode::kStaleMemberEpoch);
  EXPECT_EQ(h.group.check_commit_epoch("a", 3, Partitions{{orders, revoked_partition}}), ErrorCode::kNone);
}

TEST(ConsumerGroupTest, ASilentMemberIsRemovedAfterItsSessionAndOneThatWillNotRevokeAfterItsRebalanceTimeout) {
  Harness h;
  h.settings.session_timeout_ms = 10000;
  h.catalog.add("orders", 1, 4);
  h.join("a", {"orders"});
  h.join("b", {"orders"});
  h.poll("a", 1, std::nullopt);  // told to revoke two
  ASSERT_EQ(h.group.members().at("a").assignment.state, MemberState::kUnrevokedPartitions);
  // a keeps heartbeating but never lets go: its rebalance timeout (30 s) fences it.
  for (int i = 0; i < 5; ++i) {
    h.now += 5000;
    h.poll("a", 1, Assignment{{topic_id(1), {0, 1, 2, 3}}});
    h.poll("b", 2, Assignment{});
  }
  EXPECT_TRUE(h.group.expire(h.now).empty());
  h.now += 6000;
  EXPECT_EQ(h.group.expire(h.now), std::vector<std::string>{"a"});
  auto b = h.poll("b", 2, Assignment{});
  ASSERT_TRUE(b.assignment);
  EXPECT_EQ(partition_count(*b.assignment), 4u);
  // b goes silent: gone after its session.
  h.now += 10001;
  EXPECT_EQ(h.group.expire(h.now), std::vector<std::string>{"b"});
  EXPECT_EQ(h.group.state(), ConsumerGroupState::kEmpty);
}

TEST(ConsumerGroupTest, AStaticMemberComingBackTakesOverItsAssignmentWithoutARebalance) {
  Harness h;
  h.catalog.add("orders", 1, 4);
  h.join("a", {"orders"}, "pod-a");
  h.join("b", {"orders"}, "pod-b");
  auto revoke = h.poll("a", 1, std::nullopt);
  h.poll("a", 1, *revoke.assignment);
  h.poll("b", 2, Assignment{});
  ASSERT_EQ(h.group.state(), ConsumerGroupState::kStable);
  const auto b_had = h.group.members().at("b").assignment;
  const int32_t epoch = h.group.group_epoch();

  HeartbeatRequest leave;
  leave.member_id = "b";
  leave.member_epoch = -2;
  leave.instance_id = "pod-b";
  EXPECT_EQ(h.beat(leave).member_epoch, -2);
  EXPECT_EQ(h.join("b2", {"orders"}, "pod-a").error, ErrorCode::kUnreleasedInstanceId) << "pod-a is live";
  auto back = h.join("b2", {"orders"}, "pod-b");
  ASSERT_EQ(back.error, ErrorCode::kNone);
  EXPECT_EQ(back.member_epoch, b_had.epoch);
  EXPECT_EQ(back.assignment, b_had.assigned);
  EXPECT_EQ(h.group.group_epoch(), epoch) << "no rebalance";
  EXPECT_FALSE(h.group.members().contains("b"));
  expect_no_partition_held_twice(h.group);
}

TEST(ConsumerGroupTest, JoiningNeedsItsSubscriptionAndATimeoutAndAnAssignorTheBrokerHas) {
  Harness h;
  HeartbeatRequest r;
  r.member_id = "a";
  r.subscribed_topic_names = std::vector<std::string>{"t"};
  EXPECT_EQ(h.beat(r).error, ErrorCode::kInvalidRequest) << "no rebalance timeout";
  r.rebalance_timeout_ms = 1000;
  r.subscribed_topic_names.reset();
  EXPECT_EQ(h.beat(r).error, ErrorCode::kInvalidRequest) << "no subscription";
  r.subscribed_topic_names = std::vector<std::string>{"t"};
  r.server_assignor = "sticky";
  EXPECT_EQ(h.beat(r).error, ErrorCode::kUnsupportedAssignor);
  r.server_assignor = "range";
  r.member_id.clear();
  auto ok = h.beat(r);
  EXPECT_EQ(ok.error, ErrorCode::kNone);
  EXPECT_EQ(ok.member_id, "minted-1") << "v0: the broker names the member";
  EXPECT_EQ(h.group.assignor(h.settings), "range");
}

TEST(ConsumerGroupTest, NewTopicsAndPartitionsAreAssignedAsTheyAppear) {
  Harness h;
  HeartbeatRequest r;
  r.member_id = "a";
  r.rebalance_timeout_ms = 1000;
  r.subscribed_topic_regex = "events.*";
  auto joined = h.beat(r);
  ASSERT_EQ(joined.error, ErrorCode::kNone);
  EXPECT_TRUE(joined.assignment && joined.assignment->empty());
  h.catalog.add("events-eu", 3, 2);
  h.catalog.add("other", 4, 2);
  auto found = h.poll("a", joined.member_epoch, Assignment{});
  ASSERT_TRUE(found.assignment);
  EXPECT_EQ(*found.assignment, (Assignment{{topic_id(3), {0, 1}}}));
  h.catalog.add("events-eu", 3, 3);
  auto grown = h.poll("a", found.member_epoch, *found.assignment);
  ASSERT_TRUE(grown.assignment);
  EXPECT_EQ(*grown.assignment, (Assignment{{topic_id(3), {0, 1, 2}}}));
}

TEST(ConsumerGroupTest, RandomJoinsLeavesAndHeartbeatsNeverHoldAPartitionTwiceAndSettle) {
  Harness h;
  h.catalog.add("a", 1, 7);
  h.catalog.add("b", 2, 5);
  std::mt19937 random(42);
  std::map<std::string, std::pair<int32_t, Assignment>> clients;  // what each client believes: epoch, owned
  int next = 0;
  for (int step = 0; step < 2000; ++step) {
    const int action = static_cast<int>(random() % 10);
    if (action == 0 && clients.size() < 6) {
      const std::string id = "m" + std::to_string(next++);
      auto r = h.join(id, random() % 2 ? std::vector<std::string>{"a", "b"} : std::vector<std::string>{"a"});
      ASSERT_EQ(r.error, ErrorCode::kNone);
      clients[id] = {r.member_epoch, r.assignment.value_or(Assignment{})};
    } else if (action == 1 && !clients.empty()) {
      auto it = std::next(clients.begin(), static_cast<long>(random() % clients.size()));
      HeartbeatRequest leave;
      leave.member_id = it->first;
      leave.member_epoch = -1;
      h.beat(leave);
      clients.erase(it);
    } else if (!clients.empty()) {
      auto it = std::next(clients.begin(), static_cast<long>(random() % clients.size()));
      auto r = h.poll(it->first, it->second.first, it->second.second);
      ASSERT_EQ(r.error, ErrorCode::kNone) << it->first;
      it->second.first = r.member_epoch;
      if (r.assignment) it->second.second = *r.assignment;  // the client revokes and takes what it is told
    }
    expect_no_partition_held_twice(h.group);
    // What clients believe they own never overlaps either.
    std::set<std::pair<uint8_t, int32_t>> owned;
    for (const auto& [id, c] : clients) {
      for (const auto& [topic, partitions] : c.second) {
        for (int32_t p : partitions) ASSERT_TRUE(owned.insert({topic.bytes[15], p}).second) << id;
      }
    }
  }
  // With everyone heartbeating a few times, the group settles and every partition has its owner.
  for (int round = 0; round < 4; ++round) {
    for (auto& [id, c] : clients) {
      auto r = h.poll(id, c.first, c.second);
      c.first = r.member_epoch;
      if (r.assignment) c.second = *r.assignment;
    }
  }
  if (!clients.empty()) {
    EXPECT_EQ(h.group.state(), ConsumerGroupState::kStable);
    size_t total = 0;
    for (const auto& [id, c] : clients) total += partition_count(c.second);
    bool any_b = false;
    for (const auto& [id, m] : h.group.members())
      any_b = any_b || std::count(m.subscribed_topic_names.begin(), m.subscribed_topic_names.end(), "b");
    EXPECT_EQ(total, any_b ? 12u : 7u);
  }
}

// A record as the log holds it: through its bytes and back.
ConsumerGroupRecord through_bytes(const ConsumerGroupRecord& record) {
  auto entry = encode_consumer_record("g", record);
  auto key = decode_key(entry.key);
  EXPECT_TRUE(key && std::holds_alternative<ConsumerGroupKey>(*key));
  std::optional<std::span<const uint8_t>> value;
  if (entry.value) value = std::span<const uint8_t>(*entry.value);
  auto decoded = decode_consumer_record(std::get<ConsumerGroupKey>(*key), value);
  EXPECT_TRUE(decoded.has_value());
  return *decoded;
}

// What a restored group must have as the live one had it. (A static member that left for now is written with
// epoch -2 and the epoch it left at as its previous one, as Kafka writes it, and is restored at that epoch.)
void expect_same_group(const ConsumerGroup& live, const ConsumerGroup& restored) {
  EXPECT_EQ(live.group_epoch(), restored.group_epoch());
  EXPECT_EQ(live.assignment_epoch(), restored.assignment_epoch());
  ASSERT_EQ(live.members().size(), restored.members().size());
  for (const auto& [id, m] : live.members()) {
    auto it = restored.members().find(id);
    ASSERT_NE(it, restored.members().end()) << id;
    const ConsumerMember& r = it->second;
    EXPECT_EQ(m.instance_id, r.instance_id);
    EXPECT_EQ(m.subscribed_topic_names, r.subscribed_topic_names);
    EXPECT_EQ(m.rebalance_timeout_ms, r.rebalance_timeout_ms);
    EXPECT_EQ(m.left_temporarily, r.left_temporarily) << id;
    EXPECT_EQ(m.assignment.epoch, r.assignment.epoch) << id;
    EXPECT_EQ(m.assignment.assigned_at, r.assignment.assigned_at) << id;
    EXPECT_EQ(m.assignment.state, r.assignment.state) << id;
    EXPECT_EQ(m.assignment.assigned, r.assignment.assigned) << id;
    EXPECT_EQ(m.assignment.pending_revocation, r.assignment.pending_revocation) << id;
    EXPECT_EQ(live.target_of(id), restored.target_of(id)) << id;
  }
}

TEST(ConsumerGroupRecords, EveryChangeIsRecordedAndACoordinatorRestartedFromTheRecordsCarriesOn) {
  Harness h;
  h.catalog.add("a", 1, 7);
  h.catalog.add("b", 2, 5);
  std::mt19937 random(7);
  std::map<std::string, std::pair<int32_t, Assignment>> clients;  // what each client believes: epoch, owned
  std::map<std::string, std::string> instances;                   // member id -> instance id, for static ones
  ConsumerGroup shadow("g");                                      // fed only the records, through their bytes
  int next = 0;
  int restarts = 0;
  for (int step = 0; step < 3000; ++step) {
    const int action = static_cast<int>(random() % 12);
    if (action <= 1 && clients.size() < 6) {
      const std::string id = "m" + std::to_string(next++);
      std::optional<std::string> instance;
      if (action == 1) instance = "i" + std::to_string(random() % 4);
      auto r = h.join(id, random() % 2 ? std::vector<std::string>{"a", "b"} : std::vector<std::string>{"a"}, instance);
      if (r.error == ErrorCode::kUnreleasedInstanceId) continue;  // that instance is running
      ASSERT_EQ(r.error, ErrorCode::kNone);
      // A static member coming back replaces its old incarnation.
      if (instance) {
        for (auto it = instances.begin(); it != instances.end();) {
          if (it->second == *instance) {
            clients.erase(it->first);
            it = instances.erase(it);
          } else {
            ++it;
          }
        }
        instances[id] = *instance;
      }
      clients[id] = {r.member_epoch, r.assignment.value_or(Assignment{})};
    } else if (action == 2 && !clients.empty()) {
      auto it = std::next(clients.begin(), static_cast<long>(random() % clients.size()));
      HeartbeatRequest leave;
      leave.member_id = it->first;
      leave.member_epoch = instances.contains(it->first) ? -2 : -1;  // a static member leaves for now
      ASSERT_EQ(h.beat(leave).error, ErrorCode::kNone);
      clients.erase(it);
    } else if (action == 3) {
      h.now += 50000;  // past every session: the silent (and the left-for-now) are removed
      for (auto& [id, c] : clients) {
        auto r = h.poll(id, c.first, c.second);
        ASSERT_EQ(r.error, ErrorCode::kNone);
        c.first = r.member_epoch;
        if (r.assignment) c.second = *r.assignment;
      }
      // (One still revoking since before the jump has run out of its rebalance timeout too, and is gone.)
      for (const auto& id : h.group.expire(h.now + 1)) clients.erase(id);
    } else if (!clients.empty()) {
      auto it = std::next(clients.begin(), static_cast<long>(random() % clients.size()));
      auto r = h.poll(it->first, it->second.first, it->second.second);
      ASSERT_EQ(r.error, ErrorCode::kNone) << it->first << " at step " << step;
      it->second.first = r.member_epoch;
      if (r.assignment) it->second.second = *r.assignment;
    }
    for (const auto& record : h.group.take_changes()) shadow.replay(through_bytes(record));
    for (auto it = instances.begin(); it != instances.end();) {
      it = h.group.members().contains(it->first) ? std::next(it) : instances.erase(it);
    }

    if (step % 97 == 96) {
      // The coordinator restarts from what it wrote: the restored group is the live one, and its members carry on
      // with the epochs they have.
      ConsumerGroup restored = shadow;
      ASSERT_TRUE(restored.restore(h.now, h.settings, h.catalog, prefix_regex));
      expect_same_group(h.group, restored);
      h.group = restored;
      ++restarts;
    }
    expect_no_partition_held_twice(h.group);
  }
  EXPECT_GT(restarts, 20);
  // Settled after the last restart, every partition has its owner.
  for (int round = 0; round < 4; ++round) {
    for (auto& [id, c] : clients) {
      auto r = h.poll(id, c.first, c.second);
      ASSERT_EQ(r.error, ErrorCode::kNone);
      c.first = r.member_epoch;
      if (r.assignment) c.second = *r.assignment;
    }
  }
  h.group.take_changes();
  if (!clients.empty()) {
    EXPECT_EQ(h.group.state(), ConsumerGroupState::kStable);
  }
}

TEST(ConsumerGroupRecords, AfterAFailedWriteTheNextChangesWriteTheWholeGroup) {
  Harness h;
  h.catalog.add("a", 1, 4);
  ConsumerGroup shadow("g");
  auto m1 = h.join("m1", {"a"});
  h.join("m2", {"a"});
  for (const auto& record : h.group.take_changes()) shadow.replay(through_bytes(record));
  // m2 leaves and m3 joins; m1 moves on. None of it reaches the log.
  HeartbeatRequest leave;
  leave.member_id = "m2";
  leave.member_epoch = -1;
  h.beat(leave);
  h.join("m3", {"a"});
  h.poll("m1", m1.member_epoch, m1.assignment);
  h.group.forget_written(h.group.take_changes());
  for (const auto& record : h.group.take_changes()) shadow.replay(through_bytes(record));
  ConsumerGroup restored = shadow;
  ASSERT_TRUE(restored.restore(h.now, h.settings, h.catalog, prefix_regex));
  expect_same_group(h.group, restored);
  EXPECT_FALSE(restored.members().contains("m2"));
}

TEST(ConsumerGroupRecords, DeletingTheGroupLeavesNothingToRestore) {
  Harness h;
  h.catalog.add("a", 1, 3);
  auto r = h.join("m1", {"a"});
  ASSERT_EQ(r.error, ErrorCode::kNone);
  ConsumerGroup shadow("g");
  for (const auto& record : h.group.take_changes()) shadow.replay(through_bytes(record));
  HeartbeatRequest leave;
  leave.member_id = "m1";
  leave.member_epoch = -1;
  h.beat(leave);
  for (const auto& record : h.group.take_changes()) shadow.replay(through_bytes(record));
  ConsumerGroup empty = shadow;
  ASSERT_TRUE(empty.restore(h.now, h.settings, h.catalog, prefix_regex));  // the group epoch remains
  EXPECT_TRUE(empty.members().empty());
  EXPECT_EQ(empty.group_epoch(), h.group.group_epoch());
  for (const auto& record : h.group.take_tombstones()) shadow.replay(through_bytes(record));
  EXPECT_FALSE(shadow.restore(h.now, h.settings, h.catalog, prefix_regex));
}

}  // namespace
}  // namespace fjord::coordinator::consumer
