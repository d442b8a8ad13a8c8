#include "cluster/controller.h"

#include <gtest/gtest.h>

#include <set>

namespace fjord::cluster {
namespace {

ClusterMetadata with_topic(int32_t partitions, int16_t replication_factor) {
  ClusterMetadata m;
  TopicMetadata t;
  t.name = "orders";
  t.partitions = partitions;
  t.replication_factor = replication_factor;
  m.topics["orders"] = t;
  return m;
}

TEST(Controller, PlacesReplicasOnDistinctBrokersAndSpreadsLeaders) {
  auto m = with_topic(6, 3);
  ASSERT_TRUE(plan_assignments(m, {1, 2, 3}, {}));
  const auto& assignments = m.topics["orders"].assignments;
  ASSERT_EQ(assignments.size(), 6u);
  std::map<int32_t, int> leaders;
  for (const auto& a : assignments) {
    EXPECT_EQ(std::set<int32_t>(a.replicas.begin(), a.replicas.end()).size(), 3u);
    EXPECT_EQ(a.leader, a.replicas.front());
    EXPECT_EQ(a.isr, a.replicas);
    ++leaders[a.leader];
  }
  EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));
  EXPECT_FALSE(plan_assignments(m, {1, 2, 3}, {}));  // nothing more to do
}

TEST(Controller, PlacesEachPartitionsReplicasOnAsManyRacksAsThereAre) {
  // Six brokers in three racks, ids not grouped by rack: every partition gets one replica per rack.
  const BrokerRacks racks = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}, {5, "c"}, {6, "c"}};
  auto m = with_topic(12, 3);
  ASSERT_TRUE(plan_assignments(m, {1, 2, 3, 4, 5, 6}, {}, racks));
  std::map<int32_t, int> leaders;
  for (const auto& a : m.topics["orders"].assignments) {
    std::set<std::string> on;
    for (int32_t r : a.replicas) on.insert(racks.at(r));
    EXPECT_EQ(on.size(), 3u) << "replicas " << a.replicas[0] << "," << a.replicas[1] << "," << a.replicas[2];
    ++leaders[a.leader];
  }
  EXPECT_EQ(leaders.size(), 6u) << "every broker leads some partitions";

  // Two racks for three replicas: both racks hold one of each partition's replicas.
  m = with_topic(6, 3);
  const BrokerRacks two = {{1, "a"}, {2, "a"}, {3, "b"}};
  ASSERT_TRUE(plan_assignments(m, {1, 2, 3}, {}, two));
  for (const auto& a : m.topics["orders"].assignments) {
    std::set<std::string> on;
    for (int32_t r : a.replicas) on.insert(two.at(r));
    EXPECT_EQ(on.size(), 2u);
  }
}

TEST(Controller, WaitsForEnoughBrokersRatherThanPlacingFewerReplicas) {
  auto m = with_topic(1, 3);
  EXPECT_FALSE(plan_assignments(m, {1, 2}, {}));
  EXPECT_TRUE(m.topics["orders"].assignments.empty());
}

TEST(Controller, ElectsTheFirstLiveInSyncReplicaAndFencesTheDead) {
  auto m = with_topic(1, 3);
  plan_assignments(m, {1, 2, 3}, {});
  auto& a = m.topics["orders"].assignments[0];
  const int32_t old_leader = a.leader;
  std::vector<int32_t> live;
  for (int32_t r : {1, 2, 3}) {
    if (r != old_leader) live.push_back(r);
  }
  ASSERT_TRUE(plan_assignments(m, live, {}));
  EXPECT_NE(a.leader, old_leader);
  EXPECT_EQ(a.leader, a.replicas[1]);
  EXPECT_EQ(a.leader_epoch, 1);
  EXPECT_EQ(a.isr.size(), 2u);
  EXPECT_EQ(std::count(a.isr.begin(), a.isr.end(), old_leader), 0);
}

TEST(Controller, APartitionWithNoLiveInSyncReplicaGoesOfflineAndComesBackWithIt) {
  auto m = with_topic(1, 3);
  plan_assignments(m, {1, 2, 3}, {});
  auto& a = m.topics["orders"].assignments[0];
  const int32_t first = a.replicas[0];
  const int32_t second = a.replicas[1];
  const int32_t third = a.replicas[2];
  // The followers die: they leave the ISR, the leader stays.
  plan_assignments(m, {first}, {});
  EXPECT_EQ(a.isr, std::vector<int32_t>{first});
  // Now the leader dies too, and the out-of-sync followers return: no clean candidate.
  plan_assignments(m, {second, third}, {});
  EXPECT_EQ(a.leader, -1);
  EXPECT_EQ(a.isr, std::vector<int32_t>{first});
  // The last in-sync replica returns and leads again.
  plan_assignments(m, {first, second, third}, {});
  EXPECT_EQ(a.leader, first);
}

TEST(Controller, UncleanElectionPicksAnyLiveReplicaWhenAllowed) {
  auto m = with_topic(1, 2);
  plan_assignments(m, {1, 2}, {});
  auto& a = m.topics["orders"].assignments[0];
  plan_assignments(m, {a.replicas[0]}, {});
  const int32_t stale = a.replicas[1];
  ControllerPolicy unclean;
  unclean.unclean_election_allowed = [](const TopicMetadata&) { return true; };
  plan_assignments(m, {stale}, unclean);
  EXPECT_EQ(a.leader, stale);
  EXPECT_EQ(a.isr, std::vector<int32_t>{stale});
}

TEST(Controller, ARestartedBrokerGivesUpWhatItLedAndLeavesEveryIsr) {
  auto m = with_topic(3, 3);
  plan_assignments(m, {1, 2, 3}, {});
  ASSERT_TRUE(fence_broker(m, 2, {1, 2, 3}, {}));
  for (const auto& a : m.topics["orders"].assignments) {
    EXPECT_NE(a.leader, 2);
    EXPECT_EQ(std::count(a.isr.begin(), a.isr.end(), 2), 0);
  }
  // Where it was the last in-sync replica the partition waits for it, and then the controller hands it back.
  auto alone = with_topic(1, 1);
  plan_assignments(alone, {2}, {});
  fence_broker(alone, 2, {2}, {});
  EXPECT_EQ(alone.topics["orders"].assignments[0].leader, -1);
  plan_assignments(alone, {2}, {});
  EXPECT_EQ(alone.topics["orders"].assignments[0].leader, 2);
  EXPECT_EQ(alone.topics["orders"].assignments[0].leader_epoch, 2);
}

}  // namespace
}  // namespace fjord::cluster
