#include "cluster/reassignment.h"

#include <gtest/gtest.h>

#include "cluster/controller.h"

namespace fjord::cluster {
namespace {

using Nodes = std::vector<int32_t>;

ClusterMetadata one_partition(Nodes replicas, int32_t leader, Nodes isr) {
  PartitionAssignment a;
  a.replicas = std::move(replicas);
  a.leader = leader;
  a.isr = std::move(isr);
  a.leader_epoch = 4;
  a.partition_epoch = 7;
  ClusterMetadata m;
  TopicMetadata t;
  t.name = "orders";
  t.partitions = 1;
  t.replication_factor = 3;
  t.assignments = {a};
  m.topics["orders"] = t;
  return m;
}

PartitionAssignment& partition(ClusterMetadata& m) { return m.topics["orders"].assignments[0]; }

const Nodes kBrokers{1, 2, 3, 4};

TEST(Reassignment, MovesByAddingCatchingUpAndThenRemoving) {
  auto m = one_partition({1, 2, 3}, 1, {1, 2, 3});
  ASSERT_EQ(reassign(m, "orders", 0, Nodes{2, 3, 4}, kBrokers).error, ErrorCode::kNone);
  auto& a = partition(m);
  EXPECT_EQ(a.replicas, (Nodes{2, 3, 4, 1}));  // the target, then the replica leaving
  EXPECT_EQ(a.adding, Nodes{4});
  EXPECT_EQ(a.removing, Nodes{1});
  EXPECT_EQ(a.leader, 1);  // the old leader leads until the new replica has caught up
  EXPECT_EQ(a.partition_epoch, 8);
  EXPECT_EQ(reassignment_target(a), (Nodes{2, 3, 4}));

  EXPECT_FALSE(complete_reassignment(a, kBrokers));  // 4 is not in sync yet
  a.isr = {1, 2, 3, 4};
  ASSERT_TRUE(complete_reassignment(a, kBrokers));
  EXPECT_EQ(a.replicas, (Nodes{2, 3, 4}));
  EXPECT_EQ(a.isr, (Nodes{2, 3, 4}));
  EXPECT_TRUE(a.adding.empty());
  EXPECT_TRUE(a.removing.empty());
  EXPECT_EQ(a.leader, 2);  // the leaving leader hands over to the first target replica in sync
  EXPECT_EQ(a.leader_epoch, 5);
  EXPECT_EQ(a.partition_epoch, 9);
}

TEST(Reassignment, ANewLeaderIsAliveWhenOneIsKnownToBe) {
  auto m = one_partition({1, 2, 3}, 1, {1, 2, 3});
  ASSERT_EQ(reassign(m, "orders", 0, Nodes{2, 4}, kBrokers).error, ErrorCode::kNone);
  auto& a = partition(m);
  a.isr = {1, 2, 3, 4};
  ASSERT_TRUE(complete_reassignment(a, Nodes{1, 3, 4}));  // 2 died after it joined the ISR
  EXPECT_EQ(a.leader, 4);
  EXPECT_EQ(a.isr, (Nodes{2, 4}));
}

TEST(Reassignment, ATargetTheIsrAlreadyCoversCompletesAtOnce) {
  auto shrink = one_partition({1, 2, 3}, 1, {1, 2, 3});
  ASSERT_EQ(reassign(shrink, "orders", 0, Nodes{3, 2}, kBrokers).error, ErrorCode::kNone);
  EXPECT_EQ(partition(shrink).replicas, (Nodes{3, 2}));
  EXPECT_EQ(partition(shrink).isr, (Nodes{2, 3}));
  EXPECT_EQ(partition(shrink).leader, 3);
  EXPECT_FALSE(partition(shrink).reassigning());

  auto reorder = one_partition({1, 2, 3}, 1, {1, 2});
  ASSERT_EQ(reassign(reorder, "orders", 0, Nodes{3, 1, 2}, kBrokers).error, ErrorCode::kNone);
  EXPECT_EQ(partition(reorder).replicas, (Nodes{3, 1, 2}));
  EXPECT_EQ(partition(reorder).leader, 1);
  EXPECT_FALSE(partition(reorder).reassigning());
  EXPECT_EQ(partition(reorder).partition_epoch, 8);

  auto same = one_partition({1, 2, 3}, 1, {1, 2, 3});
  ASSERT_EQ(reassign(same, "orders", 0, Nodes{1, 2, 3}, kBrokers).error, ErrorCode::kNone);
  EXPECT_EQ(partition(same).partition_epoch, 7);  // nothing to store
}

TEST(Reassignment, CancellingGoesBackToTheOldReplicas) {
  auto m = one_partition({1, 2, 3}, 1, {1, 2, 3});
  ASSERT_EQ(reassign(m, "orders", 0, Nodes{4, 2, 3}, kBrokers).error, ErrorCode::kNone);
  auto& a = partition(m);
  a.isr = {1, 2, 3, 4};
  a.leader = 4;  // an election gave the lead to the new replica before the cancel
  ASSERT_EQ(reassign(m, "orders", 0, std::nullopt, kBrokers).error, ErrorCode::kNone);
  EXPECT_EQ(a.replicas, (Nodes{2, 3, 1}));
  EXPECT_EQ(a.isr, (Nodes{1, 2, 3}));
  EXPECT_EQ(a.leader, 2);
  EXPECT_FALSE(a.reassigning());
  EXPECT_EQ(reassign(m, "orders", 0, std::nullopt, kBrokers).error, ErrorCode::kNoReassignmentInProgress);
}

TEST(Reassignment, ACancelThatWouldLeaveNoOldReplicaInSyncIsRefused) {
  auto m = one_partition({1}, 1, {1});
  ASSERT_EQ(reassign(m, "orders", 0, Nodes{4}, kBrokers).error, ErrorCode::kNone);
  auto& a = partition(m);
  a.isr = {4};  // 1 fell out while 4 caught up and led
  a.leader = 4;
  EXPECT_EQ(reassign(m, "orders", 0, std::nullopt, kBrokers).error, ErrorCode::kInvalidReplicaAssignment);
  EXPECT_TRUE(a.reassigning());
}

TEST(Reassignment, ASecondReassignmentStartsFromTheCurrentReplicas) {
  auto m = one_partition({1, 2, 3}, 1, {1, 2, 3});
  ASSERT_EQ(reassign(m, "orders", 0, Nodes{2, 3, 4}, kBrokers).error, ErrorCode::kNone);
  ASSERT_EQ(reassign(m, "orders", 0, Nodes{1, 2, 3}, kBrokers).error, ErrorCode::kNone);
  auto& a = partition(m);
  EXPECT_EQ(a.replicas, (Nodes{1, 2, 3}));  // back where it was: 4 leaves, and the ISR covers the rest
  EXPECT_FALSE(a.reassigning());
}

TEST(Reassignment, RefusesTargetsThatCannotBePlaced) {
  auto m = one_partition({1, 2, 3}, 1, {1, 2, 3});
  EXPECT_EQ(reassign(m, "orders", 0, Nodes{}, kBrokers).error, ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(reassign(m, "orders", 0, Nodes{2, 2, 3}, kBrokers).error, ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(reassign(m, "orders", 0, Nodes{2, 3, 9}, kBrokers).error, ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(reassign(m, "orders", 0, Nodes{2, 3}, kBrokers, false).error, ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(reassign(m, "orders", 1, Nodes{2, 3, 4}, kBrokers).error, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(reassign(m, "payments", 0, Nodes{2, 3, 4}, kBrokers).error, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(partition(m).partition_epoch, 7);  // nothing changed
  EXPECT_EQ(reassign(m, "orders", 0, Nodes{4, 3, 2}, kBrokers, false).error, ErrorCode::kNone);
}

TEST(Reassignment, TheControllerCompletesOnceTheIsrHasTheTarget) {
  auto m = one_partition({1, 2, 3}, 1, {1, 2, 3});
  ASSERT_EQ(reassign(m, "orders", 0, Nodes{2, 3, 4}, kBrokers).error, ErrorCode::kNone);
  ControllerPolicy policy;
  EXPECT_FALSE(plan_assignments(m, kBrokers, policy));
  partition(m).isr = {1, 2, 3, 4};
  EXPECT_TRUE(plan_assignments(m, kBrokers, policy));
  EXPECT_EQ(partition(m).replicas, (Nodes{2, 3, 4}));
  EXPECT_EQ(partition(m).leader, 2);
}

}  // namespace
}  // namespace fjord::cluster
