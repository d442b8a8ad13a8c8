// A leader partition's replication rules with time and fsyncs in the test's hands: the high watermark is what
// every in-sync replica has, acks=1 and acks=all wait for different things, min.insync.replicas refuses before
// writing, and the ISR the leader wants follows replica.lag.time.max.ms.
#include <gtest/gtest.h>

#include <deque>

#include "cluster/partition.h"
#include "storage/testing/manual_io_pool.h"
#include "storage/testing/simulated_file_system.h"
#include "storage/tests/log_test_support.h"

namespace fjord::cluster {
namespace {

constexpr int32_t kLeader = 1;
constexpr int64_t kLagMaxMs = 10'000;

class PartitionReplicationTest : public ::testing::Test {
 protected:
  PartitionReplicationTest() {
    fs.create_directories("/data");
    auto log = storage::Log::open(storage::LogContext{fs, io, syncs, loop, clock}, "/data/orders-0", {});
    partition = std::make_unique<Partition>("orders", 0, protocol::Uuid{}, log, clock);
    partition->set_replication_settings({kLeader, 2, kLagMaxMs});
    partition->forget_high_watermark();
    partition->become_leader(1, {1, 2, 3}, {1, 2, 3});
  }

  Future<ProduceResult> produce(int records, int16_t acks) {
    auto batch = storage::testing::make_batch(records, clock.now_ms());
    batches.push_back(std::move(batch.bytes));
    return partition->append(batches.back(), acks);
  }

  storage::testing::SimulatedFileSystem fs;
  storage::testing::ManualIoPool io;
  storage::InlineExecutor loop;
  storage::SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
  std::unique_ptr<Partition> partition;
  std::deque<std::vector<uint8_t>> batches;  // produce requests' buffers outlive the append
};

TEST_F(PartitionReplicationTest, HighWatermarkIsWhatEveryInSyncReplicaHas) {
  auto all = produce(10, -1);
  io.run_all();  // the leader's own write is durable
  EXPECT_EQ(partition->high_watermark(), 0) << "the followers have nothing yet";
  partition->on_follower_fetch(2, 10);
  EXPECT_EQ(partition->high_watermark(), 0) << "follower 3 has nothing yet";
  EXPECT_FALSE(all.ready());
  partition->on_follower_fetch(3, 6);
  EXPECT_EQ(partition->high_watermark(), 6);
  EXPECT_FALSE(all.ready()) << "acks=all needs every in-sync replica to have all ten";
  partition->on_follower_fetch(3, 10);
  EXPECT_EQ(partition->high_watermark(), 10);
  ASSERT_TRUE(all.ready());
}

TEST_F(PartitionReplicationTest, AcksOneWaitsOnlyForTheLeadersDurableWrite) {
  auto one = produce(5, 1);
  EXPECT_FALSE(one.ready()) << "not before the leader's fsync";
  io.run_all();
  EXPECT_TRUE(one.ready());
  EXPECT_EQ(partition->high_watermark(), 0) << "consumers still see nothing the followers lack";
}

TEST_F(PartitionReplicationTest, AcksAllIsRefusedBeforeWritingWhenTheIsrIsBelowMinimum) {
  partition->set_isr({1});
  auto refused = produce(3, -1);
  ASSERT_TRUE(refused.ready());
  ProduceResult result;
  refused.then([&](ProduceResult r) { result = r; });
  EXPECT_EQ(result.error, ErrorCode::kNotEnoughReplicas);
  EXPECT_EQ(partition->log_end_offset(), 0) << "nothing was written";
  auto accepted = produce(3, 1);
  io.run_all();
  EXPECT_TRUE(accepted.ready());
  EXPECT_EQ(partition->log_end_offset(), 3);
}

TEST_F(PartitionReplicationTest, AnIsrThatShrinksBelowMinimumWhileWaitingAnswersAfterAppend) {
  auto waiting = produce(4, -1);
  io.run_all();
  partition->on_follower_fetch(2, 4);
  EXPECT_FALSE(waiting.ready());
  // Both followers are dropped before follower 3 has it: the write is now on every in-sync replica, but those
  // are fewer than min.insync.replicas.
  partition->set_isr({1});
  ASSERT_TRUE(waiting.ready());
  ProduceResult result;
  waiting.then([&](ProduceResult r) { result = r; });
  EXPECT_EQ(result.error, ErrorCode::kNotEnoughReplicasAfterAppend);
  EXPECT_EQ(partition->high_watermark(), 4) << "the records stay";
}

TEST_F(PartitionReplicationTest, ALaggingFollowerLeavesTheIsrAndReturnsOnceCaughtUp) {
  produce(10, -1);
  io.run_all();
  partition->on_follower_fetch(2, 10);
  partition->on_follower_fetch(3, 10);
  EXPECT_FALSE(partition->wanted_isr()) << "everyone is caught up";
  // Follower 3 goes silent; follower 2 keeps up.
  for (int i = 0; i < 12; ++i) {
    clock.advance(1000);
    produce(1, -1);
    io.run_all();
    partition->on_follower_fetch(2, partition->log_end_offset());
  }
  auto wanted = partition->wanted_isr();
  ASSERT_TRUE(wanted);
  EXPECT_EQ(*wanted, (std::vector<int32_t>{1, 2}));
  partition->set_isr(*wanted);
  clock.advance(1);
  // Back, but still behind the high watermark: not yet.
  partition->on_follower_fetch(3, 11);
  EXPECT_FALSE(partition->wanted_isr());
  partition->on_follower_fetch(3, partition->log_end_offset());
  wanted = partition->wanted_isr();
  ASSERT_TRUE(wanted);
  EXPECT_EQ(*wanted, (std::vector<int32_t>{1, 2, 3}));
}

TEST_F(PartitionReplicationTest, AFollowerIsNotLeaderAndTakesTheLeadersHighWatermark) {
  partition->become_follower(2, 2, {1, 2, 3}, {1, 2, 3});
  auto refused = produce(1, 1);
  ASSERT_TRUE(refused.ready());
  ProduceResult result;
  refused.then([&](ProduceResult r) { result = r; });
  EXPECT_EQ(result.error, ErrorCode::kNotLeaderOrFollower);
  EXPECT_FALSE(partition->wanted_isr());
}

}  // namespace
}  // namespace fjord::cluster
