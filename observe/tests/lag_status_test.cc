#include "observe/lag_status.h"

#include <gtest/gtest.h>

namespace fjord::observe {
namespace {

constexpr int64_t kWall = 1'700'000'000'000;

// One sample a second; the wall clock moves with the monotonic one.
class History {
 public:
  explicit History(LagThresholds thresholds = {}) : thresholds_(thresholds) {}
  // Adds a sample `seconds` after the previous one.
  LagStatus step(int64_t committed, int64_t end, double lag_seconds = 0, int64_t seconds = 1) {
    at_ += seconds * 1000;
    if (commit_each_step_ || committed != committed_) last_commit_ = kWall + at_;
    committed_ = committed;
    history_.add({at_, committed, last_commit_, end, std::max<int64_t>(0, end - committed), lag_seconds}, thresholds_);
    return history_.status(kWall + at_, thresholds_);
  }
  void commit_each_step(bool on) { commit_each_step_ = on; }
  const PartitionLagHistory& history() const { return history_; }

 private:
  LagThresholds thresholds_;
  PartitionLagHistory history_;
  int64_t at_ = 0;
  int64_t committed_ = -1;
  int64_t last_commit_ = -1;
  bool commit_each_step_ = false;
};

TEST(LagStatusTest, AnIdleCaughtUpGroupStaysOkForHours) {
  History h;
  for (int i = 0; i < 6 * 3600; ++i) ASSERT_EQ(h.step(100, 100), LagStatus::kOk) << i;
  EXPECT_EQ(h.history().velocity(), 0);
}

TEST(LagStatusTest, RecordsArrivingAtAnIdleGroupThatConsumesThemAreNotAStall) {
  History h;
  for (int i = 0; i < 600; ++i) h.step(100, 100);  // idle for ten minutes, last commit long ago
  EXPECT_EQ(h.step(100, 101), LagStatus::kOk);     // a record arrives...
  EXPECT_EQ(h.step(101, 101), LagStatus::kOk);     // ...and is consumed
}

TEST(LagStatusTest, RecordsWaitingAWholeWindowWithoutCommitsIsStop) {
  History h;
  h.step(100, 100);
  for (int i = 0; i < 60; ++i) ASSERT_NE(h.step(100, 101 + i), LagStatus::kStop) << i;  // waited 0 to 59 s
  EXPECT_EQ(h.step(100, 161), LagStatus::kStop);
  EXPECT_TRUE(needs_attention(LagStatus::kStop));
  // The consumer comes back and catches up: OK at once.
  EXPECT_EQ(h.step(160, 160), LagStatus::kOk);
}

TEST(LagStatusTest, CommittingTheSameOffsetWhileRecordsWaitIsStall) {
  History h;
  h.commit_each_step(true);  // an auto-commit that runs on while processing is stuck
  for (int i = 0; i < 60; ++i) ASSERT_NE(h.step(100, 105), LagStatus::kStall) << i;  // waited 0 to 59 s
  EXPECT_EQ(h.step(100, 105), LagStatus::kStall);
  EXPECT_TRUE(needs_attention(LagStatus::kStall));
}

TEST(LagStatusTest, AMovingConsumerIsNeverStalledHoweverLongItLags) {
  History h;
  for (int i = 0; i < 600; ++i) ASSERT_EQ(h.step(i * 10, i * 10 + 50, 5), LagStatus::kOk) << i;
}

TEST(LagStatusTest, LagSecondsPastTheThresholdsIsWarnThenErr) {
  History h;
  EXPECT_EQ(h.step(0, 10, 59.9), LagStatus::kOk);
  EXPECT_EQ(h.step(1, 11, 60), LagStatus::kWarn);
  EXPECT_EQ(h.step(2, 12, 299), LagStatus::kWarn);
  EXPECT_EQ(h.step(3, 13, 300), LagStatus::kErr);
  EXPECT_FALSE(needs_attention(LagStatus::kWarn));
  EXPECT_TRUE(needs_attention(LagStatus::kErr));
}

TEST(LagStatusTest, LagGrowingAtEverySampleOfAWindowIsWarn) {
  History h;
  for (int i = 0; i < 60; ++i) ASSERT_EQ(h.step(i, 2 * i + 1), LagStatus::kOk) << i;
  EXPECT_EQ(h.step(60, 121), LagStatus::kWarn);
  EXPECT_NEAR(h.history().velocity(), 1.0, 1e-9);
  EXPECT_NEAR(h.history().produce_rate(), 2.0, 1e-9);
  // One sample where it shrinks ends it.
  EXPECT_EQ(h.step(70, 122), LagStatus::kOk);
}

TEST(LagStatusTest, ACommittedOffsetGoingBackIsRewindForAWindow) {
  History h;
  h.step(500, 500);
  EXPECT_EQ(h.step(100, 500), LagStatus::kRewind);  // fjord group reset-offsets --to-earliest
  for (int i = 0; i < 59; ++i) ASSERT_EQ(h.step(100 + 5 * i, 500), LagStatus::kRewind) << i;
  EXPECT_EQ(h.step(400, 500), LagStatus::kOk);
}

TEST(LagStatusTest, VelocityIsMeasuredOverTheConfiguredWindow) {
  LagThresholds thresholds;
  thresholds.window_ms = 10'000;
  History h(thresholds);
  for (int i = 0; i < 30; ++i) h.step(0, i);                // lag grows 1/s
  for (int i = 0; i < 10; ++i) h.step(0, 29);               // then stays
  EXPECT_NEAR(h.history().velocity(), 0, 1e-9);             // the last 10 s only
  for (int i = 0; i < 5; ++i) h.step(0, 29 + 2 * (i + 1));  // 2/s for 5 s of the 10
  EXPECT_NEAR(h.history().velocity(), 1.0, 1e-9);
}

TEST(LagStatusTest, TimeToDataLossTakesTheEarlierOfTimeAndSize) {
  EXPECT_FALSE(seconds_to_data_loss(std::nullopt, std::nullopt, 100, kWall));
  EXPECT_DOUBLE_EQ(*seconds_to_data_loss(kWall + 30'000, std::nullopt, 0, kWall), 30);
  EXPECT_DOUBLE_EQ(*seconds_to_data_loss(kWall - 5'000, std::nullopt, 0, kWall), 0);  // due: the next check
  EXPECT_DOUBLE_EQ(*seconds_to_data_loss(kWall + 30'000, 1000, 100, kWall), 10);
  EXPECT_DOUBLE_EQ(*seconds_to_data_loss(kWall + 30'000, 10'000, 100, kWall), 30);
  EXPECT_FALSE(seconds_to_data_loss(std::nullopt, 1000, 0, kWall));  // nothing produced: size never takes it
  EXPECT_DOUBLE_EQ(*seconds_to_data_loss(std::nullopt, 0, 0, kWall), 0);
}

}  // namespace
}  // namespace fjord::observe
