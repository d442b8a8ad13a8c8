#include "cluster/leader_election.h"

#include <gtest/gtest.h>

namespace fjord::cluster {
namespace {

PartitionAssignment assignment(std::vector<int32_t> replicas, int32_t leader, std::vector<int32_t> isr) {
  PartitionAssignment a;
  a.replicas = std::move(replicas);
  a.leader = leader;
  a.isr = std::move(isr);
  a.leader_epoch = 4;
  a.partition_epoch = 7;
  return a;
}

ClusterMetadata with_assignments(std::vector<PartitionAssignment> assignments) {
  ClusterMetadata m;
  TopicMetadata t;
  t.name = "orders";
  t.partitions = static_cast<int32_t>(assignments.size());
  t.replication_factor = 3;
  t.assignments = std::move(assignments);
  m.topics["orders"] = t;
  return m;
}

TEST(LeaderElection, ThePreferredReplicaLeadsAgainOnlyWhenAliveAndInSync) {
  auto a = assignment({1, 2, 3}, 2, {2, 3});
  EXPECT_EQ(elect_leader(a, ElectionType::kPreferred, {1, 2, 3}), ErrorCode::kPreferredLeaderNotAvailable);
  a.isr = {2, 3, 1};
  EXPECT_EQ(elect_leader(a, ElectionType::kPreferred, {2, 3}), ErrorCode::kPreferredLeaderNotAvailable);
  EXPECT_EQ(a.leader, 2);
  EXPECT_EQ(elect_leader(a, ElectionType::kPreferred, {1, 2, 3}), ErrorCode::kNone);
  EXPECT_EQ(a.leader, 1);
  EXPECT_EQ(a.leader_epoch, 5);
  EXPECT_EQ(a.partition_epoch, 8);
  EXPECT_EQ(elect_leader(a, ElectionType::kPreferred, {1, 2, 3}), ErrorCode::kElectionNotNeeded);
  EXPECT_EQ(a.leader_epoch, 5);
}

TEST(LeaderElection, AnUncleanElectionPrefersTheLastIsrAndOtherwiseTakesAnyLiveReplica) {
  auto led = assignment({1, 2, 3}, 2, {2});
  EXPECT_EQ(elect_leader(led, ElectionType::kUnclean, {1, 2, 3}), ErrorCode::kElectionNotNeeded);

  auto offline = assignment({1, 2, 3}, -1, {3});
  EXPECT_EQ(elect_leader(offline, ElectionType::kUnclean, {1, 2, 3}), ErrorCode::kNone);
  EXPECT_EQ(offline.leader, 3);  // the last in-sync replica, not the first live one
  EXPECT_EQ(offline.isr, (std::vector<int32_t>{3}));

  offline = assignment({1, 2, 3}, -1, {3});
  EXPECT_EQ(elect_leader(offline, ElectionType::kUnclean, {2}), ErrorCode::kNone);
  EXPECT_EQ(offline.leader, 2);
  EXPECT_EQ(offline.isr, (std::vector<int32_t>{2}));
  EXPECT_EQ(offline.leader_epoch, 5);

  offline = assignment({1, 2, 3}, -1, {3});
  EXPECT_EQ(elect_leader(offline, ElectionType::kUnclean, {4}), ErrorCode::kEligibleLeadersNotAvailable);
  EXPECT_EQ(offline.leader, -1);
}

TEST(LeaderElection, ARequestForEveryPartitionReportsOnlyThoseThatNeededAnElection) {
  auto m = with_assignments(
      {assignment({1, 2, 3}, 1, {1, 2, 3}), assignment({2, 3, 1}, 3, {2, 3, 1}), assignment({3, 1, 2}, 1, {1, 2})});
  auto outcomes = elect_leaders(m, ElectionType::kPreferred, std::nullopt, {1, 2, 3});
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_EQ(outcomes[0].partitions.size(), 2u);
  EXPECT_EQ(outcomes[0].partitions[0].index, 1);
  EXPECT_EQ(outcomes[0].partitions[0].error, ErrorCode::kNone);
  EXPECT_EQ(outcomes[0].partitions[1].index, 2);
  EXPECT_EQ(outcomes[0].partitions[1].error, ErrorCode::kPreferredLeaderNotAvailable);
  EXPECT_EQ(m.topics["orders"].assignments[1].leader, 2);
  EXPECT_EQ(m.topics["orders"].assignments[2].leader, 1);

  // Named partitions are each answered, including those needing nothing and those that do not exist.
  outcomes = elect_leaders(m, ElectionType::kPreferred,
                           std::vector<ElectionTarget>{{"orders", {0, 7}}, {"missing", {0}}}, {1, 2, 3});
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].partitions[0].error, ErrorCode::kElectionNotNeeded);
  EXPECT_EQ(outcomes[0].partitions[1].error, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(outcomes[1].partitions[0].error, ErrorCode::kUnknownTopicOrPartition);
}

TEST(LeaderElection, RebalancingMovesLeadersBackOnlyAboveTheImbalanceThreshold) {
  // Broker 1 prefers 10 partitions and leads 9 of them: 10% imbalance is not above 10%.
  std::vector<PartitionAssignment> assignments;
  for (int i = 0; i < 9; ++i) assignments.push_back(assignment({1, 2, 3}, 1, {1, 2, 3}));
  assignments.push_back(assignment({1, 2, 3}, 2, {1, 2, 3}));
  auto m = with_assignments(assignments);
  EXPECT_EQ(rebalance_preferred_leaders(m, {1, 2, 3}, 10), 0);
  EXPECT_EQ(rebalance_preferred_leaders(m, {1, 2, 3}, 5), 1);
  EXPECT_EQ(m.topics["orders"].assignments[9].leader, 1);

  // A preferred replica that is out of sync or not alive keeps waiting.
  m = with_assignments({assignment({1, 2, 3}, 2, {2, 3}), assignment({1, 2, 3}, 2, {1, 2, 3})});
  EXPECT_EQ(rebalance_preferred_leaders(m, {2, 3}, 10), 0);
  EXPECT_EQ(rebalance_preferred_leaders(m, {1, 2, 3}, 10), 1);
  EXPECT_EQ(m.topics["orders"].assignments[0].leader, 2);
  EXPECT_EQ(m.topics["orders"].assignments[1].leader, 1);
}

TEST(LeaderElection, AControlledShutdownHandsEveryLeadershipToAnInSyncReplicaAndLeavesEveryIsr) {
  auto m = with_assignments({
      assignment({1, 2, 3}, 1, {1, 3}),     // led: goes to 3, the first other live in-sync replica
      assignment({2, 1, 3}, 2, {2, 1, 3}),  // followed: 1 leaves the ISR
      assignment({1, 2, 3}, 1, {1}),        // led alone: stays
      assignment({3, 2, 1}, 3, {3, 2}),     // not in the ISR: untouched
      assignment({1, 2, 3}, 1, {1, 2, 3}),  // 2 is in sync but not alive: 3 takes it
  });
  const auto before = m;
  const HandOff result = hand_off_leadership(m, 1, {1, 3});
  EXPECT_EQ(result.moved, 2);
  EXPECT_EQ(result.left_isr, 1);
  EXPECT_EQ(result.kept, 1);
  const auto& a = m.topics["orders"].assignments;
  EXPECT_EQ(a[0].leader, 3);
  EXPECT_EQ(a[0].isr, (std::vector<int32_t>{3}));
  EXPECT_EQ(a[0].leader_epoch, 5);
  EXPECT_EQ(a[1].leader, 2);
  EXPECT_EQ(a[1].isr, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(a[1].leader_epoch, 4);
  EXPECT_EQ(a[1].partition_epoch, 8);
  EXPECT_EQ(a[2], before.topics.at("orders").assignments[2]);
  EXPECT_EQ(a[3], before.topics.at("orders").assignments[3]);
  EXPECT_EQ(a[4].leader, 3);
  EXPECT_EQ(a[4].isr, (std::vector<int32_t>{2, 3}));
}

}  // namespace
}  // namespace fjord::cluster
