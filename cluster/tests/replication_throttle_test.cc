#include "cluster/replication_throttle.h"

#include <gtest/gtest.h>

namespace fjord::cluster {
namespace {

TEST(ThrottledReplicas, NamesPartitionBrokerPairsOrEverything) {
  EXPECT_TRUE(names_replica("0:101, 1:102", 1, 102));
  EXPECT_TRUE(names_replica("0:101,1:102", 0, 101));
  EXPECT_FALSE(names_replica("0:101,1:102", 0, 102));
  EXPECT_FALSE(names_replica("", 0, 101));
  EXPECT_TRUE(names_replica("*", 7, 3));
  EXPECT_FALSE(invalid_throttled_replicas("").has_value());
  EXPECT_FALSE(invalid_throttled_replicas("*").has_value());
  EXPECT_FALSE(invalid_throttled_replicas("0:1, 2:3").has_value());
  EXPECT_TRUE(invalid_throttled_replicas("0").has_value());
  EXPECT_TRUE(invalid_throttled_replicas("a:1").has_value());
  EXPECT_TRUE(invalid_throttled_replicas("0:1,*").has_value());
  EXPECT_TRUE(invalid_throttled_replicas("0:-1").has_value());
}

TEST(RateBudget, HoldsTheRateOnAverageWithOneSecondOfBurst) {
  ManualClock clock;
  RateBudget budget(clock);
  const int64_t rate = 1000;
  EXPECT_FALSE(budget.spent(rate));
  budget.record(2500, rate);  // a fetch may overdraw
  EXPECT_TRUE(budget.spent(rate));
  clock.advance(1000);
  EXPECT_TRUE(budget.spent(rate));  // 500 still owed
  clock.advance(600);
  EXPECT_FALSE(budget.spent(rate));
  clock.advance(60'000);  // idle time does not build up more than one second's worth
  budget.record(1000, rate);
  EXPECT_TRUE(budget.spent(rate));
  EXPECT_FALSE(budget.spent(RateBudget::kUnlimited));
}

}  // namespace
}  // namespace fjord::cluster
