#include "storage/leader_epochs.h"

#include <gtest/gtest.h>

namespace fjord::storage {
namespace {

TEST(LeaderEpochs, EndOffsetIsWhereTheNextEpochStartsOrTheLogEnd) {
  LeaderEpochs epochs;
  EXPECT_TRUE(epochs.assign(0, 0));
  EXPECT_TRUE(epochs.assign(2, 100));
  EXPECT_TRUE(epochs.assign(5, 250));
  EXPECT_FALSE(epochs.assign(4, 300));  // older than the latest: ignored
  EXPECT_EQ(epochs.end_offset_for(0, 400).end_offset, 100);
  // An epoch this replica never saw: the largest below it, and where that one ends.
  auto one = epochs.end_offset_for(1, 400);
  EXPECT_EQ(one.epoch, 0);
  EXPECT_EQ(one.end_offset, 100);
  auto latest = epochs.end_offset_for(7, 400);
  EXPECT_EQ(latest.epoch, 5);
  EXPECT_EQ(latest.end_offset, 400);
  LeaderEpochs empty;
  EXPECT_EQ(empty.end_offset_for(3, 10).epoch, -1);
  EXPECT_EQ(empty.end_offset_for(3, 10).end_offset, -1);
}

TEST(LeaderEpochs, AnEpochThatWroteNothingIsReplacedByTheNext) {
  LeaderEpochs epochs;
  epochs.assign(1, 10);
  epochs.assign(2, 10);
  ASSERT_EQ(epochs.entries().size(), 1u);
  EXPECT_EQ(epochs.entries()[0], (EpochStart{2, 10}));
}

TEST(LeaderEpochs, TruncationForgetsEpochsThatBeganInTheDroppedTail) {
  LeaderEpochs epochs;
  epochs.assign(0, 0);
  epochs.assign(1, 50);
  epochs.assign(2, 80);
  EXPECT_TRUE(epochs.truncate_from_end(50));
  EXPECT_EQ(epochs.latest_epoch(), 0);
  EXPECT_FALSE(epochs.truncate_from_end(50));
}

TEST(LeaderEpochs, RoundTripsAndRefusesMalformedFiles) {
  LeaderEpochs epochs;
  epochs.assign(0, 0);
  epochs.assign(3, 42);
  auto bytes = epochs.serialize();
  auto parsed = LeaderEpochs::parse(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->entries(), epochs.entries());
  for (std::string bad : {"", "0\n", "1\n0\n", "0\n2\n0 0\n", "0\n2\n3 0\n1 5\n", "0\n1\n0 x\n", "0\n1\n0 0\nextra"}) {
    EXPECT_FALSE(LeaderEpochs::parse(std::span(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()))) << bad;
  }
}

}  // namespace
}  // namespace fjord::storage
