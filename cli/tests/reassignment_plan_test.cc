#include "cli/reassignment_plan.h"

#include <gtest/gtest.h>

namespace fjord::cli {
namespace {

using Nodes = std::vector<int32_t>;

TEST(ReassignmentPlan, OntoNewBrokersKeepsWhatStaysAndSpreadsTheRest) {
  std::vector<Placement> current = {{"t", 0, {1, 2, 3}}, {"t", 1, {2, 3, 1}}, {"t", 2, {3, 1, 2}}};
  auto plan = plan_onto(current, {2, 3, 4});
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].replicas, (Nodes{2, 3, 4}));
  EXPECT_EQ(plan[1].replicas, (Nodes{2, 3, 4}));
  EXPECT_EQ(plan[2].replicas, (Nodes{3, 2, 4}));  // the current leader stays first

  auto spread = plan_onto({{"t", 0, {1, 2}}, {"t", 1, {1, 2}}, {"t", 2, {1, 2}}, {"t", 3, {1, 2}}}, {3, 4, 5, 6});
  std::map<int32_t, int> load;
  for (const auto& p : spread) {
    for (int32_t r : p.replicas) ++load[r];
  }
  for (int32_t b : {3, 4, 5, 6}) EXPECT_EQ(load[b], 2) << "broker " << b;

  EXPECT_THROW(plan_onto(current, {2, 3}), std::invalid_argument);
}

TEST(ReassignmentPlan, ADrainReplacesTheBrokerWithTheLeastLoadedOther) {
  std::vector<Placement> current = {{"a", 0, {1, 2, 3}}, {"a", 1, {2, 3, 4}}, {"b", 0, {3, 1, 4}}, {"b", 1, {4, 2, 3}}};
  auto plan = plan_drain(current, 1, {1, 2, 3, 4});
  ASSERT_EQ(plan.size(), 2u);  // only the partitions on broker 1
  EXPECT_EQ(plan[0].topic, "a");
  EXPECT_EQ(plan[0].replicas, (Nodes{2, 3, 4}));  // 4 holds the fewest replicas of 2, 3, 4
  EXPECT_EQ(plan[1].topic, "b");
  EXPECT_EQ(plan[1].replicas, (Nodes{3, 4, 2}));

  EXPECT_THROW(plan_drain({{"a", 0, {1, 2, 3}}}, 1, {1, 2, 3}), std::invalid_argument);
}

TEST(ReassignmentPlan, ThrottlesTheCurrentReplicasAsLeadersAndTheNewOnesAsFollowers) {
  auto lists =
      throttled_replicas({{"a", 0, {1, 2, 3}}, {"a", 1, {2, 3, 1}}}, {{"a", 0, {2, 3, 4}}, {"a", 1, {2, 3, 1}}});
  EXPECT_EQ(lists["a"].leader, "0:1,0:2,0:3,1:2,1:3,1:1");
  EXPECT_EQ(lists["a"].follower, "0:4");
}

}  // namespace
}  // namespace fjord::cli
