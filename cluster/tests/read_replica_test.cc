#include "cluster/read_replica.h"

#include <gtest/gtest.h>

namespace fjord::cluster {
namespace {

const BrokerRacks kRacks{{1, "east"}, {2, "west"}, {3, "west"}, {4, "north"}};

TEST(ReadReplica, AConsumerInAFollowersRackReadsFromTheMostCaughtUpOneThere) {
  EXPECT_EQ(select_read_replica("west", 1, kRacks, {{2, 90}, {3, 100}}), 3);
  EXPECT_EQ(select_read_replica("west", 1, kRacks, {{3, 100}, {2, 100}}), 2);  // equals: the lowest id
  EXPECT_EQ(select_read_replica("north", 1, kRacks, {{2, 100}, {4, 50}}), 4);
}

TEST(ReadReplica, OtherwiseTheLeaderServes) {
  EXPECT_EQ(select_read_replica("", 1, kRacks, {{2, 100}}), 1);             // no rack named
  EXPECT_EQ(select_read_replica("east", 1, kRacks, {{2, 100}}), 1);         // the leader is in the rack
  EXPECT_EQ(select_read_replica("south", 1, kRacks, {{2, 100}}), 1);        // nobody is
  EXPECT_EQ(select_read_replica("north", 1, kRacks, {{2, 100}}), 1);        // 4 is not a candidate (not in sync)
  EXPECT_EQ(select_read_replica("west", 1, BrokerRacks{}, {{2, 100}}), 1);  // brokers without racks
}

}  // namespace
}  // namespace fjord::cluster
