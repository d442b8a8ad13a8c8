#include "storage/producer_state.h"

#include <gtest/gtest.h>

#include "protocol/codec_runtime.h"
#include "protocol/crc32c.h"
#include "storage/log.h"
#include "storage/testing/manual_io_pool.h"
#include "storage/testing/simulated_file_system.h"

namespace fjord::storage {
namespace {

protocol::BatchHeader batch(int64_t producer_id, int16_t epoch, int32_t first_sequence, int32_t records,
                            int64_t base_offset = 0) {
  protocol::BatchHeader h;
  h.producer_id = producer_id;
  h.producer_epoch = epoch;
  h.base_sequence = first_sequence;
  h.last_offset_delta = records - 1;
  h.record_count = records;
  h.base_offset = base_offset;
  return h;
}

using Outcome = ProducerCheck::Outcome;

TEST(ProducerState, AProducerNeverSeenHereMustStartAtSequenceZero) {
  ProducerStateManager state;
  EXPECT_EQ(state.check(batch(7, 0, 0, 5)).outcome, Outcome::kAppend);
  // Its first batch was refused and this is its second: accepting it would let the client count the first as
  // written.
  auto second_batch_first = state.check(batch(7, 0, 5, 5));
  EXPECT_EQ(second_batch_first.outcome, Outcome::kRefuse);
  EXPECT_EQ(second_batch_first.error, ErrorCode::kUnknownProducerId);
  EXPECT_EQ(state.check(batch(-1, -1, -1, 5)).outcome, Outcome::kAppend) << "not idempotent";
  // A producer whose batches were all truncated from the tail had nothing acknowledged here: as if never seen.
  state.record(batch(3, 0, 0, 2, 21), 7000);
  state.truncate_tail(21);
  EXPECT_EQ(state.check(batch(3, 0, 2, 1)).error, ErrorCode::kUnknownProducerId);
  // One whose five remembered batches were truncated but had written before them (at sequences 0-9): forgotten.
  for (int i = 0; i < 7; ++i) state.record(batch(6, 0, i * 5, 5, 100 + i * 5), 7000);
  state.truncate_tail(110);
  EXPECT_EQ(state.find(6), nullptr);
  EXPECT_EQ(state.check(batch(6, 0, 10, 5)).outcome, Outcome::kAppend);
}

TEST(ProducerState, AForgottenProducerMayContinueAtAnySequence) {
  ProducerStateManager state;
  state.record(batch(1, 0, 0, 5, 10), 1000);  // sequences 0-4 at offsets 10-14
  state.record(batch(2, 0, 0, 5, 15), 5000);
  EXPECT_EQ(state.expire(6000, 2000), 1u);  // producer 1 idle too long
  state.truncate_head(20);                  // producer 2's records deleted
  for (int64_t id : {1, 2}) {
    EXPECT_EQ(state.find(id), nullptr) << id;
    EXPECT_EQ(state.check(batch(id, 0, 5, 1)).outcome, Outcome::kAppend) << id << ": as Kafka does";
  }
}

TEST(ProducerState, InOrderDuplicateGapAndStaleEpoch) {
  ProducerStateManager state;
  state.record(batch(7, 0, 0, 5, 100), 1);  // sequences 0-4 at offsets 100-104
  EXPECT_EQ(state.check(batch(7, 0, 5, 3)).outcome, Outcome::kAppend);
  auto duplicate = state.check(batch(7, 0, 0, 5));
  EXPECT_EQ(duplicate.outcome, Outcome::kDuplicate);
  EXPECT_EQ(duplicate.original.first_offset, 100);
  EXPECT_EQ(duplicate.original.last_offset, 104);
  auto gap = state.check(batch(7, 0, 6, 1));
  EXPECT_EQ(gap.outcome, Outcome::kRefuse);
  EXPECT_EQ(gap.error, ErrorCode::kOutOfOrderSequenceNumber);
  state.record(batch(7, 1, 0, 1, 105), 2);  // a new epoch starts at 0
  auto stale = state.check(batch(7, 0, 5, 1));
  EXPECT_EQ(stale.outcome, Outcome::kRefuse);
  EXPECT_EQ(stale.error, ErrorCode::kInvalidProducerEpoch);
  auto new_epoch_not_at_zero = state.check(batch(7, 2, 3, 1));
  EXPECT_EQ(new_epoch_not_at_zero.error, ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(state.check(batch(7, 2, 0, 1)).outcome, Outcome::kAppend);
}

TEST(ProducerState, RemembersTheLastFiveBatches) {
  ProducerStateManager state;
  for (int i = 0; i < 7; ++i) state.record(batch(1, 0, i * 2, 2, i * 2), i);
  EXPECT_EQ(state.find(1)->batches.size(), 5u);
  EXPECT_EQ(state.check(batch(1, 0, 4, 2)).outcome, Outcome::kDuplicate);  // the third of seven
  EXPECT_EQ(state.check(batch(1, 0, 2, 2)).outcome, Outcome::kRefuse) << "too old to be recognised";
}

TEST(ProducerState, SequenceWrapsAround) {
  ProducerStateManager state;
  state.record(batch(1, 0, INT32_MAX - 1, 2, 0), 0);  // ends at INT32_MAX
  EXPECT_EQ(state.check(batch(1, 0, 0, 1)).outcome, Outcome::kAppend);
}

TEST(ProducerState, ExpiresIdleProducersAndForgetsDeletedBatches) {
  ProducerStateManager state;
  state.record(batch(1, 0, 0, 1, 10), 1000);
  state.record(batch(2, 0, 0, 1, 20), 5000);
  EXPECT_EQ(state.expire(6000, 2000), 1u);
  EXPECT_EQ(state.find(1), nullptr);
  state.truncate_head(21);
  EXPECT_EQ(state.producer_count(), 0u);
}

TEST(ProducerState, SnapshotRoundTripsAndRefusesDamage) {
  ProducerStateManager state;
  state.record(batch(1, 3, 0, 4, 10), 1000);
  state.record(batch(9, 0, 7, 2, 14), 2000);
  auto bytes = state.snapshot();
  auto loaded = ProducerStateManager::parse_snapshot(bytes);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->check(batch(1, 3, 0, 4)).outcome, Outcome::kDuplicate);
  EXPECT_EQ(loaded->find(9)->batches.back().last_sequence, 8);
  bytes[bytes.size() / 2] ^= 1;
  EXPECT_FALSE(ProducerStateManager::parse_snapshot(bytes));
  EXPECT_FALSE(ProducerStateManager::parse_snapshot(std::vector<uint8_t>{0, 1, 2}));
}

TEST(ProducerState, ForgottenProducersSurviveASnapshotAndVersionOneIsStillRead) {
  ProducerStateManager state;
  state.record(batch(4, 0, 0, 2, 0), 1000);
  state.truncate_head(2);  // its records deleted
  auto loaded = ProducerStateManager::parse_snapshot(state.snapshot());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->check(batch(4, 0, 2, 1)).outcome, Outcome::kAppend) << "still known as forgotten";
  EXPECT_EQ(loaded->check(batch(5, 0, 2, 1)).error, ErrorCode::kUnknownProducerId) << "never seen";
  // A version 1 snapshot (as written before forgotten producers were kept): no producers, nothing forgotten.
  protocol::Writer body;
  body.write_int32(0);
  const auto& payload = body.output().bytes;
  protocol::Writer v1;
  v1.write_int16(1);
  v1.write_int32(static_cast<int32_t>(protocol::crc32c(payload)));
  v1.write_raw(payload);
  auto old = ProducerStateManager::parse_snapshot(v1.take().bytes);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->producer_count(), 0u);
  EXPECT_EQ(old->check(batch(4, 0, 2, 1)).error, ErrorCode::kUnknownProducerId);
}

// The log side: a retried batch is not written again, and the state survives restarts clean or not.
class IdempotentLogTest : public ::testing::Test {
 protected:
  IdempotentLogTest() { fs.create_directories("/data"); }
  std::shared_ptr<Log> open_log(LogConfig config = {}) {
    return Log::open(LogContext{fs, io, syncs, loop, clock}, "/data/t-0", config);
  }
  AppendResult append(Log& log, int64_t producer_id, int16_t epoch, int32_t sequence, int records) {
    std::vector<protocol::Record> rs(static_cast<size_t>(records));
    for (auto& r : rs) {
      r.timestamp = clock.now_ms();
      r.value = protocol::Bytes{1, 2, 3};
    }
    protocol::BatchBuildOptions options;
    options.producer_id = producer_id;
    options.producer_epoch = epoch;
    options.base_sequence = sequence;
    auto bytes = protocol::build_batch(rs, options);
    auto validated = protocol::validate_batches(bytes, {});
    return log.append(bytes, validated.batches, 0);
  }
  testing::SimulatedFileSystem fs;
  testing::ManualIoPool io;
  InlineExecutor loop;
  SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
};

TEST_F(IdempotentLogTest, RetriedBatchIsAnsweredWithItsOriginalOffsets) {
  auto log = open_log();
  append(*log, -1, -1, -1, 3);  // someone else's records first
  auto first = append(*log, 5, 0, 0, 4);
  EXPECT_EQ(first.base_offset, 3);
  auto retry = append(*log, 5, 0, 0, 4);
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.base_offset, 3);
  EXPECT_EQ(retry.last_offset, 6);
  EXPECT_EQ(log->log_end_offset(), 7) << "the retry was written again";
  EXPECT_EQ(append(*log, 5, 0, 9, 1).error, ErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(log->log_end_offset(), 7);
}

TEST_F(IdempotentLogTest, StateSurvivesACleanRestartAndACrash) {
  LogConfig config;
  config.segment_bytes = 400;  // several segments, so snapshots are taken at rolls
  {
    auto log = open_log(config);
    for (int i = 0; i < 10; ++i) append(*log, 5, 0, i * 2, 2);
    io.run_all();
    log->close();
  }
  {
    auto log = open_log(config);
    auto retry = append(*log, 5, 0, 18, 2);
    EXPECT_TRUE(retry.duplicate) << "after a clean restart";
    EXPECT_EQ(retry.base_offset, 18);
    append(*log, 5, 0, 20, 2);
    io.run_all();
    // No close: the process dies. The state is rebuilt from the last roll's snapshot plus the tail.
  }
  auto log = open_log(config);
  auto retry = append(*log, 5, 0, 20, 2);
  EXPECT_TRUE(retry.duplicate) << "after a crash";
  EXPECT_EQ(retry.base_offset, 20);
  EXPECT_EQ(append(*log, 5, 0, 22, 1).base_offset, 22);
}

}  // namespace
}  // namespace fjord::storage
