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

protocol::BatchHeader transactional(int64_t producer_id, int16_t epoch, int32_t first_sequence, int32_t records,
                                    int64_t base_offset) {
  auto h = batch(producer_id, epoch, first_sequence, records, base_offset);
  h.attributes |= protocol::kAttributeTransactional;
  return h;
}

protocol::BatchHeader marker(int64_t producer_id, int16_t epoch, int64_t offset) {
  auto h = batch(producer_id, epoch, -1, 1, offset);
  h.attributes |= protocol::kAttributeTransactional | protocol::kAttributeControl;
  return h;
}

TEST(ProducerState, OpenTransactionsBoundTheLastStableOffsetAndAbortsAreIndexed) {
  ProducerStateManager state;
  EXPECT_FALSE(state.first_unstable_offset());
  state.record(transactional(1, 0, 0, 3, 10), 0);  // producer 1's transaction begins at 10
  state.record(transactional(2, 0, 0, 2, 13), 0);  // producer 2's at 13
  state.record(transactional(1, 0, 3, 2, 15), 0);
  EXPECT_EQ(state.first_unstable_offset(), 10);
  auto committed = state.record(marker(1, 0, 17), 0, protocol::ControlType::kCommit, 0);
  ASSERT_TRUE(committed);
  EXPECT_EQ(committed->first_offset, 10);
  EXPECT_FALSE(committed->aborted);
  EXPECT_EQ(state.first_unstable_offset(), 13) << "producer 2's transaction is still open";
  auto aborted = state.record(marker(2, 0, 18), 0, protocol::ControlType::kAbort, 0);
  ASSERT_TRUE(aborted);
  EXPECT_TRUE(aborted->aborted);
  EXPECT_FALSE(state.first_unstable_offset());
  // Only the aborted one is indexed, and only for fetches whose range overlaps it.
  EXPECT_EQ(state.aborted_between(0, 100), (std::vector<AbortedTransaction>{{2, 13, 18, 19}}));
  EXPECT_TRUE(state.aborted_between(0, 13).empty());
  EXPECT_TRUE(state.aborted_between(19, 100).empty());
  EXPECT_EQ(state.aborted_between(18, 19).size(), 1u) << "a fetch starting at the marker still needs it";
  // The next transaction of producer 1 continues its sequence under the same epoch.
  EXPECT_EQ(state.check(transactional(1, 0, 5, 1, 19)).outcome, Outcome::kAppend);
}

TEST(ProducerState, MarkersFromAnOlderEpochOrCoordinatorAreRefused) {
  ProducerStateManager state;
  state.record(transactional(1, 3, 0, 1, 0), 0);
  state.record(marker(1, 3, 1), 0, protocol::ControlType::kCommit, 5);
  EXPECT_EQ(state.check_marker(1, 2, 5).error, ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(state.check_marker(1, 3, 4).error, ErrorCode::kTransactionCoordinatorFenced);
  EXPECT_EQ(state.check_marker(1, 4, 5).outcome, Outcome::kAppend);
  EXPECT_EQ(state.check_marker(99, 0, 0).outcome, Outcome::kAppend) << "nothing known of it here";
  // A marker with a bumped epoch fences the old epoch's writers; the new epoch starts at sequence 0.
  state.record(marker(1, 4, 2), 0, protocol::ControlType::kAbort, 5);
  EXPECT_EQ(state.check(transactional(1, 3, 1, 1, 3)).error, ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(state.check(transactional(1, 4, 0, 1, 3)).outcome, Outcome::kAppend);
}

TEST(ProducerState, TruncatingAMarkerOpensItsTransactionAgain) {
  ProducerStateManager state;
  state.record(transactional(1, 0, 0, 2, 10), 0);
  state.record(marker(1, 0, 12), 0, protocol::ControlType::kAbort, 0);
  state.record(transactional(1, 0, 2, 2, 13), 0);
  state.record(marker(1, 0, 15), 0, protocol::ControlType::kCommit, 0);
  EXPECT_FALSE(state.first_unstable_offset());
  state.truncate_tail(14);  // the second transaction's last batch and marker go
  EXPECT_EQ(state.first_unstable_offset(), 13);
  state.truncate_tail(12);  // the first transaction's marker too: the second is gone, the first open again
  EXPECT_EQ(state.first_unstable_offset(), 10);
  EXPECT_TRUE(state.aborted_between(0, 100).empty());
  // Idle producers with an open transaction are not expired: their transaction ends by a marker.
  EXPECT_EQ(state.expire(1'000'000, 1), 0u);
}

TEST(ProducerState, TransactionsSurviveASnapshot) {
  ProducerStateManager state;
  state.record(transactional(1, 0, 0, 2, 10), 0);
  state.record(marker(1, 0, 12), 0, protocol::ControlType::kAbort, 7);
  state.record(transactional(2, 0, 0, 2, 13), 0);
  auto loaded = ProducerStateManager::parse_snapshot(state.snapshot());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->first_unstable_offset(), 13);
  EXPECT_EQ(loaded->aborted_between(0, 100), state.aborted_between(0, 100));
  EXPECT_EQ(loaded->check_marker(1, 0, 6).error, ErrorCode::kTransactionCoordinatorFenced);
  loaded->truncate_tail(12);
  EXPECT_EQ(loaded->first_unstable_offset(), 10) << "the completed transactions came along";
  // Retention past the abort marker drops it from the index.
  state.truncate_head(13);
  EXPECT_TRUE(state.aborted_between(0, 100).empty());
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

TEST_F(IdempotentLogTest, MarkersEndTransactionsAndTheIndexSurvivesACrash) {
  LogConfig config;
  config.segment_bytes = 400;
  auto append_transactional = [&](Log& log, int64_t producer_id, int32_t sequence) {
    protocol::Record r;
    r.timestamp = clock.now_ms();
    r.value = protocol::Bytes{1, 2, 3};
    protocol::BatchBuildOptions options;
    options.producer_id = producer_id;
    options.producer_epoch = 0;
    options.base_sequence = sequence;
    options.transactional = true;
    auto bytes = protocol::build_batch({r}, options);
    auto validated = protocol::validate_batches(bytes, {});
    return log.append(bytes, validated.batches, 0);
  };
  {
    auto log = open_log(config);
    for (int i = 0; i < 8; ++i) append_transactional(*log, 1, i);  // offsets 0-7, rolling on the way
    auto abort = log->append_marker(1, 0, {protocol::ControlType::kAbort, 3}, 0);
    EXPECT_EQ(abort.base_offset, 8);
    append_transactional(*log, 2, 0);  // 9: producer 2's transaction stays open
    EXPECT_EQ(log->last_stable_offset(10), 9);
    EXPECT_EQ(log->append_marker(1, 0, {protocol::ControlType::kCommit, 2}, 0).error,
              ErrorCode::kTransactionCoordinatorFenced);
    EXPECT_GT(log->segment_count(), 1u);
    io.run_all();
    // No close: the state comes back from the last roll's snapshot and the batches after it.
  }
  auto log = open_log(config);
  EXPECT_EQ(log->last_stable_offset(10), 9);
  EXPECT_EQ(log->producers().aborted_between(0, 10), (std::vector<AbortedTransaction>{{1, 0, 8, 9}}));
  auto commit = log->append_marker(2, 0, {protocol::ControlType::kCommit, 3}, 0);
  EXPECT_EQ(commit.base_offset, 10);
  EXPECT_EQ(log->last_stable_offset(11), 11);
  // A read says where what it returned ends, which bounds the aborted transactions a fetch lists.
  EXPECT_EQ(log->read(10, 11, 1 << 20, true).next_offset, 11);
  EXPECT_EQ(log->read(8, 9, 1 << 20, true).next_offset, 9);
}

}  // namespace
}  // namespace fjord::storage
