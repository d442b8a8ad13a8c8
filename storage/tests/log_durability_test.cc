// What the log promises about the disk, on a simulated one whose faults and syncs the test controls: a failed
// sync or write takes the log (and its directory) offline for good and is never retried; checkpoints and file
// removals wait for the I/O threads instead of running on the loop; truncation reads only a segment's tail; a
// sync in flight never vouches for bytes written after a truncation; and the settings that shape segments
// (segment.index.bytes, segment.jitter.ms, file.delete.delay.ms) do what they say.
#include <gtest/gtest.h>

#include "model/testing/manual_scheduler.h"
#include "storage/log_manager.h"
#include "storage/tests/log_test_support.h"

namespace fjord::storage {
namespace {

using testing::append_batch;
using testing::read_all;

class LogDurabilityTest : public ::testing::Test {
 protected:
  LogDurabilityTest() { fs.create_directories("/data"); }
  LogContext context() { return LogContext{fs, io, syncs, loop, clock, nullptr, &health, &timers}; }
  std::shared_ptr<Log> open_log(LogConfig config = {}, const std::string& name = "t-0") {
    auto log = Log::open(context(), "/data/" + name, config);
    log->set_listeners([this](int64_t offset) { durable = offset; }, [this] { ++failures; });
    return log;
  }
  bool exists(const std::string& name) { return fs.exists("/data/t-0/" + name); }
  std::string file(const std::string& name) {
    auto bytes = fs.read_all("/data/t-0/" + name);
    return bytes ? std::string(bytes->begin(), bytes->end()) : std::string("(absent)");
  }

  testing::SimulatedFileSystem fs;
  testing::ManualIoPool io;
  InlineExecutor loop;
  SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
  fjord::testing::ManualScheduler timers{clock};
  DirectoryHealth health;
  int64_t durable = 0;
  int failures = 0;
};

TEST_F(LogDurabilityTest, AFailedSyncTakesTheLogOfflineAndIsNeverRetried) {
  auto log = open_log();
  append_batch(*log, 5, clock.now_ms());
  log->sync();
  io.run_all();
  ASSERT_EQ(durable, 5);

  append_batch(*log, 5, clock.now_ms());
  fs.fail_syncs(1);
  bool answered = false, answer = true;
  log->sync([&](bool ok) {
    answered = true;
    answer = ok;
  });
  io.run_all();
  EXPECT_TRUE(answered);
  EXPECT_FALSE(answer) << "a failed sync was reported durable";
  EXPECT_EQ(durable, 5) << "the durable offset moved past a failed sync";
  EXPECT_TRUE(log->failed());
  EXPECT_EQ(failures, 1);
  EXPECT_TRUE(health.offline());

  // Retrying would now "succeed" over the lost pages; the log refuses instead and never syncs again.
  auto refused = append_batch(*log, 5, clock.now_ms());
  EXPECT_EQ(refused.error, ErrorCode::kKafkaStorageError);
  bool later = true;
  log->sync([&](bool ok) { later = ok; });
  EXPECT_FALSE(later);
  EXPECT_EQ(io.pending(), 0u) << "a failed log submitted another sync";
  const auto syncs_before_close = fs.sync_count();
  log->close();
  EXPECT_EQ(fs.sync_count(), syncs_before_close) << "closing a failed log synced it";

  // What a power loss leaves: the first five records, acknowledged; none of the rest, never acknowledged.
  log.reset();
  fs.crash();
  auto reopened = Log::open(LogContext{fs, io, syncs, loop, clock}, "/data/t-0", {});
  EXPECT_EQ(reopened->log_end_offset(), 5);
}

TEST_F(LogDurabilityTest, AFullDiskTakesTheLogOffline) {
  auto log = open_log();
  append_batch(*log, 3, clock.now_ms());
  fs.fail_appends(1);
  auto result = append_batch(*log, 3, clock.now_ms());
  EXPECT_EQ(result.error, ErrorCode::kKafkaStorageError);
  EXPECT_TRUE(log->failed());
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(append_batch(*log, 1, clock.now_ms()).error, ErrorCode::kKafkaStorageError)
      << "a write after a failed one was accepted";
}

TEST_F(LogDurabilityTest, OneFailureTakesEveryLogOfTheDirectoryOffline) {
  LogManager manager(context(), "/data");
  auto orders = manager.create({"orders", 0}, {});
  auto payments = manager.create({"payments", 0}, {});
  int payments_failed = 0;
  payments->set_listeners([](int64_t) {}, [&] { ++payments_failed; });
  append_batch(*orders, 1, clock.now_ms());
  fs.fail_syncs(1);
  orders->sync();
  io.run_all();
  EXPECT_TRUE(orders->failed());
  EXPECT_TRUE(payments->failed()) << "another log of the directory stayed online";
  EXPECT_EQ(payments_failed, 1);
  EXPECT_EQ(append_batch(*payments, 1, clock.now_ms()).error, ErrorCode::kKafkaStorageError);
  EXPECT_TRUE(manager.create({"later", 0}, {})->failed()) << "a log opened afterwards accepted writes";
  manager.close_all();
  EXPECT_FALSE(manager.clean_shutdown_marker_present()) << "an offline directory was marked cleanly stopped";
}

TEST_F(LogDurabilityTest, LeaderEpochCheckpointsAreWrittenByTheSyncJob) {
  auto log = open_log();
  append_batch(*log, 2, clock.now_ms());
  io.run_all();
  const std::string before = file("leader-epoch-checkpoint");
  log->assign_leader_epoch(7);
  auto produced = testing::make_batch(3, clock.now_ms());
  log->append(produced.bytes, produced.batches, 7);
  log->sync();
  EXPECT_EQ(file("leader-epoch-checkpoint"), before) << "the checkpoint was written on the loop";
  EXPECT_EQ(durable, 0) << "records were durable before their epoch's checkpoint";
  EXPECT_GT(io.pending(), 0u);
  io.run_all();
  EXPECT_EQ(durable, 5);
  EXPECT_NE(file("leader-epoch-checkpoint").find("7 2"), std::string::npos) << file("leader-epoch-checkpoint");
}

TEST_F(LogDurabilityTest, DeleteRecordsIsPersistedByTheNextSync) {
  auto log = open_log();
  for (int i = 0; i < 4; ++i) append_batch(*log, 10, clock.now_ms());
  io.run_all();
  bool persisted = false;
  EXPECT_EQ(log->delete_records_before(25), 25);
  log->sync([&](bool ok) { persisted = ok; });
  EXPECT_EQ(file("log-start-offset"), "(absent)") << "written on the loop";
  EXPECT_FALSE(persisted);
  io.run_all();
  EXPECT_TRUE(persisted);
  EXPECT_EQ(file("log-start-offset"), "25");
  log.reset();
  fs.crash();
  EXPECT_EQ(Log::open(LogContext{fs, io, syncs, loop, clock}, "/data/t-0", {})->log_start_offset(), 25);
}

TEST_F(LogDurabilityTest, TruncationReadsOnlyTheTailAndRemovesFilesOffTheLoop) {
  auto log = open_log();
  append_batch(*log, 4, clock.now_ms());
  const int64_t batch_bytes = log->read(0, 4, 1, true).bytes;  // every batch here has the same size
  LogConfig config;
  config.segment_bytes = 40 * batch_bytes;         // 40 batches (160 offsets) per segment
  config.index_interval_bytes = 10 * batch_bytes;  // an index entry every 10 batches
  config.file_delete_delay_ms = 0;
  log->set_config(config);
  for (int i = 1; i < 400; ++i) append_batch(*log, 4, clock.now_ms());
  log->sync();
  io.run_all();
  ASSERT_EQ(log->segment_count(), 10u);
  // Into the ninth segment (offsets 1280-1439), 25 batches in; the tenth goes whole.
  const int64_t cut = 1380;
  const int64_t read_before = fs.bytes_read();
  log->truncate_to(cut);
  EXPECT_EQ(log->log_end_offset(), cut);
  EXPECT_EQ(log->segment_count(), 9u);
  EXPECT_LT(fs.bytes_read() - read_before, 20 * batch_bytes) << "truncation scanned a segment again";
  // Whole segments past the cut and the cut segment's index files: renamed at once, removed by the I/O threads.
  auto deleted = [&] {
    size_t n = 0;
    for (const auto& name : fs.list("/data/t-0")) n += name.ends_with(".deleted");
    return n;
  };
  EXPECT_GE(deleted(), 3u);
  io.run_all();
  EXPECT_EQ(deleted(), 0u);
  // The log continues from the cut, and what it holds reads back.
  append_batch(*log, 4, clock.now_ms());
  io.run_all();
  auto records = read_all(fs, *log, cut - 10);
  ASSERT_EQ(records.size(), 14u);
  EXPECT_EQ(records.front().offset, cut - 10);
  EXPECT_EQ(records.back().offset, cut + 3);
}

TEST_F(LogDurabilityTest, ASyncInFlightDuringATruncationDoesNotVouchForWhatFollowsIt) {
  auto log = open_log();
  for (int i = 0; i < 10; ++i) append_batch(*log, 1, clock.now_ms());
  log->sync();  // covers offsets 0-9; held
  log->truncate_to(4);
  for (int i = 0; i < 10; ++i) append_batch(*log, 1, clock.now_ms());  // offsets 4-13: the held sync never saw them
  io.run_one();
  EXPECT_LE(durable, 4) << "a sync that started before the truncation vouched for bytes written after it";
  io.run_all();
  EXPECT_EQ(durable, 14);
}

TEST_F(LogDurabilityTest, RestartingAtAnOffsetLeavesAnEmptyLogThere) {
  auto log = open_log();
  append_batch(*log, 10, clock.now_ms());
  io.run_all();
  log->reset_to(500);
  EXPECT_EQ(log->log_start_offset(), 500);
  EXPECT_EQ(log->log_end_offset(), 500);
  auto produced = testing::make_batch(3, clock.now_ms());
  protocol::set_base_offset(produced.bytes, 500);  // as the leader numbered them
  auto validated = protocol::validate_batches(produced.bytes, {});
  ASSERT_EQ(log->append_replicated(produced.bytes, validated.batches).error, ErrorCode::kNone);
  log->sync();
  io.run_all();
  EXPECT_EQ(durable, 503);
  log.reset();
  fs.crash();
  auto reopened = Log::open(LogContext{fs, io, syncs, loop, clock}, "/data/t-0", {});
  EXPECT_EQ(reopened->log_start_offset(), 500);
  EXPECT_EQ(reopened->log_end_offset(), 503);
}

TEST_F(LogDurabilityTest, AFullOffsetIndexRollsTheSegment) {
  LogConfig config;
  config.index_interval_bytes = 1;  // an entry per batch
  config.segment_index_bytes = 10 * Segment::kOffsetIndexEntryBytes;
  auto log = open_log(config);
  for (int i = 0; i < 25; ++i) append_batch(*log, 1, clock.now_ms());
  EXPECT_GE(log->segment_count(), 3u) << "segment.index.bytes did not roll segments";
}

TEST_F(LogDurabilityTest, SegmentJitterRollsSomeSegmentsEarlier) {
  // Over many partitions, with segment.jitter.ms as large as segment.ms, most roll well before segment.ms.
  LogConfig config;
  config.segment_ms = 10'000;
  config.segment_jitter_ms = 10'000;
  std::vector<std::shared_ptr<Log>> logs;
  for (int p = 0; p < 20; ++p) {
    logs.push_back(open_log(config, "t-" + std::to_string(p)));
    append_batch(*logs.back(), 1, clock.now_ms());
  }
  clock.advance(5'000);
  int rolled = 0;
  for (auto& log : logs) {
    append_batch(*log, 1, clock.now_ms());
    rolled += log->segment_count() > 1;
  }
  EXPECT_GT(rolled, 3) << "no segment rolled early";
  EXPECT_LT(rolled, 20) << "every segment rolled early: the jitter is not spread";
}

TEST_F(LogDurabilityTest, RemovedSegmentsLingerForFileDeleteDelay) {
  LogConfig config;
  config.segment_bytes = 2000;
  config.file_delete_delay_ms = 60'000;
  auto log = open_log(config);
  for (int i = 0; i < 60; ++i) append_batch(*log, 4, clock.now_ms());
  io.run_all();
  ASSERT_GT(log->segment_count(), 2u);
  log->delete_records_before(log->log_end_offset() - 1);
  io.run_all();
  auto deleted = [&] {
    size_t n = 0;
    for (const auto& name : fs.list("/data/t-0")) n += name.ends_with(".deleted");
    return n;
  };
  EXPECT_GT(deleted(), 0u) << "removed segments were not kept for file.delete.delay.ms";
  timers.advance(59'000);
  io.run_all();
  EXPECT_GT(deleted(), 0u);
  timers.advance(1'000);
  io.run_all();
  EXPECT_EQ(deleted(), 0u);
}

}  // namespace
}  // namespace fjord::storage
