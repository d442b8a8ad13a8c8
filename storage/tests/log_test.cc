#include <gtest/gtest.h>

#include "storage/log_manager.h"
#include "storage/tests/log_test_support.h"

namespace fjord::storage {
namespace {

using testing::append_batch;
using testing::read_all;
using testing::value_of;

class LogTest : public ::testing::Test {
 protected:
  LogTest() { fs.create_directories("/data"); }
  std::shared_ptr<Log> open_log(LogConfig config = {}) {
    return Log::open(LogContext{fs, io, syncs, loop, clock}, "/data/t-0", config);
  }
  testing::SimulatedFileSystem fs;
  testing::ManualIoPool io;
  InlineExecutor loop;
  SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
};

TEST_F(LogTest, AssignsOffsetsAndReadsBack) {
  auto log = open_log();
  auto first = append_batch(*log, 3, clock.now_ms());
  auto second = append_batch(*log, 2, clock.now_ms(), "w");
  EXPECT_EQ(first.base_offset, 0);
  EXPECT_EQ(first.last_offset, 2);
  EXPECT_EQ(second.base_offset, 3);
  EXPECT_EQ(log->log_end_offset(), 5);
  auto records = read_all(fs, *log, 0);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(value_of(records[3]), "w0");
  EXPECT_EQ(records[4].offset, 4);
}

TEST_F(LogTest, ReadStopsAtEndOffsetAndByteLimit) {
  auto log = open_log();
  for (int i = 0; i < 10; ++i) append_batch(*log, 5, clock.now_ms());
  auto one_batch = log->read(0, log->log_end_offset(), 1, true);
  auto batch_size = one_batch.bytes;
  EXPECT_GT(batch_size, 0);
  // The first batch comes whole even when larger than the limit, and nothing more.
  EXPECT_EQ(log->read(0, 50, 1, false).bytes, 0);
  EXPECT_EQ(log->read(0, 50, batch_size * 3, false).bytes, batch_size * 3);
  // Batches at or past end_offset (the high watermark) are not returned.
  EXPECT_EQ(log->read(0, 10, 1 << 20, true).bytes, batch_size * 2);
  // Reading from the middle of a batch returns that whole batch.
  EXPECT_EQ(log->read(7, 10, 1 << 20, true).bytes, batch_size);
  EXPECT_EQ(log->read(50, 50, 1 << 20, true).bytes, 0);
}

TEST_F(LogTest, RollsSegmentsAndFindsOffsetsThroughTheIndex) {
  LogConfig config;
  config.segment_bytes = 2000;
  config.index_interval_bytes = 200;
  auto log = open_log(config);
  for (int i = 0; i < 200; ++i) append_batch(*log, 3, clock.now_ms(), "b" + std::to_string(i) + "-");
  io.run_all();
  EXPECT_GT(log->segment_count(), 5u);
  for (int64_t offset : {0, 1, 77, 299, 300, 598, 599}) {
    auto result = log->read(offset, log->log_end_offset(), 1, true);
    ASSERT_EQ(result.owned.size(), 1u) << offset;
    auto header = protocol::parse_batch_header(result.owned[0]);
    EXPECT_LE(header.base_offset, offset);
    EXPECT_GE(header.last_offset(), offset);
  }
  auto records = read_all(fs, *log, 0);
  ASSERT_EQ(records.size(), 600u);
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].offset, static_cast<int64_t>(i));
  // Sealed segments got their index files.
  EXPECT_TRUE(fs.exists("/data/t-0/" + Segment::index_name(0)));
}

TEST_F(LogTest, FindsOffsetsByTimestamp) {
  LogConfig config;
  config.segment_bytes = 1500;
  config.index_interval_bytes = 100;
  auto log = open_log(config);
  for (int i = 0; i < 100; ++i) append_batch(*log, 2, 1000 + i * 10);  // records at 1000+10i, 1001+10i
  io.run_all();
  auto hit = log->offset_for_timestamp(1505, log->log_end_offset());
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->offset, 102);  // 1510 is the first timestamp >= 1505
  EXPECT_EQ(hit->timestamp, 1510);
  auto exact = log->offset_for_timestamp(1001, log->log_end_offset());
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->offset, 1);
  EXPECT_FALSE(log->offset_for_timestamp(999999, log->log_end_offset()));
  auto max = log->offset_of_max_timestamp(log->log_end_offset());
  ASSERT_TRUE(max);
  EXPECT_EQ(max->offset, 199);
  EXPECT_EQ(max->timestamp, 1991);
}

TEST_F(LogTest, LogAppendTimeStampsBatches) {
  LogConfig config;
  config.timestamp_type = TimestampType::kLogAppendTime;
  auto log = open_log(config);
  auto result = append_batch(*log, 3, 5);
  EXPECT_EQ(result.log_append_time, clock.now_ms());
  for (const auto& r : read_all(fs, *log, 0)) EXPECT_EQ(r.timestamp, clock.now_ms());
}

TEST_F(LogTest, GroupCommitCoversAppendsMadeDuringAnFsync) {
  auto log = open_log();
  std::vector<int64_t> durable;
  log->set_listeners([&](int64_t offset) { durable.push_back(offset); }, {});
  append_batch(*log, 1, 0);
  log->sync();
  // Nine more appends while the first fsync is in flight: they share the next one.
  for (int i = 0; i < 9; ++i) {
    append_batch(*log, 1, 0);
    log->sync();
  }
  EXPECT_EQ(io.pending(), 1u);
  EXPECT_EQ(log->durable_offset(), 0);
  io.run_one();
  EXPECT_EQ(durable, std::vector<int64_t>{1});
  EXPECT_EQ(io.pending(), 1u);
  io.run_one();
  EXPECT_EQ(durable, (std::vector<int64_t>{1, 10}));
  EXPECT_EQ(io.pending(), 0u);
  EXPECT_EQ(log->durable_offset(), 10);
}

TEST_F(LogTest, RetentionBySizeAndTime) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_bytes = 3000;
  config.retention_ms = -1;
  auto log = open_log(config);
  for (int i = 0; i < 100; ++i) append_batch(*log, 3, clock.now_ms());
  io.run_all();
  int64_t before = log->size_bytes();
  EXPECT_GT(log->apply_retention(), 0);
  io.run_all();
  EXPECT_LE(log->size_bytes(), 3000 + 1000);
  EXPECT_LT(log->size_bytes(), before);
  EXPECT_GT(log->log_start_offset(), 0);
  EXPECT_EQ(read_all(fs, *log, log->log_start_offset()).front().offset, log->log_start_offset());

  config.retention_bytes = -1;
  config.retention_ms = 60'000;
  log->set_config(config);
  clock.advance(120'000);
  log->apply_retention();  // rolls the expired active segment
  io.run_all();
  log->apply_retention();
  io.run_all();
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(log->log_start_offset(), 300);
  EXPECT_EQ(log->log_end_offset(), 300);
}

TEST_F(LogTest, RetentionOutlookSaysWhenAnOffsetGoes) {
  LogConfig config;
  config.segment_bytes = 1000;
  config.retention_ms = 60'000;
  auto log = open_log(config);
  // Batches 10 s apart, several segments; the consumer's next record is offset 150.
  for (int i = 0; i < 100; ++i) {
    append_batch(*log, 3, clock.now_ms());
    if (i % 10 == 9) clock.advance(10'000);
  }
  io.run_all();
  ASSERT_GT(log->segment_count(), 3u);
  const auto outlook = log->retention_outlook(150);
  ASSERT_TRUE(outlook.deletable_at_ms);
  EXPECT_FALSE(outlook.bytes_until_deleted);
  clock.advance(*outlook.deletable_at_ms - clock.now_ms());  // not older than retention.ms yet
  log->apply_retention();
  io.run_all();
  EXPECT_LE(log->log_start_offset(), 150);
  clock.advance(1);
  log->apply_retention();
  io.run_all();
  EXPECT_GT(log->log_start_offset(), 150);

  // By size: the segment holding the offset goes once the segments after it hold retention.bytes.
  config.retention_ms = -1;
  config.retention_bytes = 4000;
  log->set_config(config);
  const int64_t next = log->log_end_offset() - 1;
  auto by_size = log->retention_outlook(next);
  EXPECT_FALSE(by_size.deletable_at_ms);
  ASSERT_TRUE(by_size.bytes_until_deleted);
  EXPECT_GT(*by_size.bytes_until_deleted, 0);
  const int64_t size_before = log->size_bytes();
  while (log->size_bytes() - size_before < *by_size.bytes_until_deleted - 200) append_batch(*log, 3, clock.now_ms());
  io.run_all();
  log->apply_retention();
  io.run_all();
  EXPECT_LE(log->log_start_offset(), next);
  for (int i = 0; i < 20; ++i) append_batch(*log, 3, clock.now_ms());
  io.run_all();
  log->apply_retention();
  io.run_all();
  EXPECT_GT(log->log_start_offset(), next);
}

TEST_F(LogTest, DeleteRecordsSurvivesReopen) {
  auto log = open_log();
  for (int i = 0; i < 10; ++i) append_batch(*log, 10, clock.now_ms());
  EXPECT_EQ(log->delete_records_before(42), 42);
  log->close();
  log.reset();
  auto reopened = open_log();
  EXPECT_EQ(reopened->log_start_offset(), 42);
  EXPECT_EQ(reopened->log_end_offset(), 100);
  EXPECT_EQ(read_all(fs, *reopened, 42).front().offset, 42);
}

TEST_F(LogTest, ManagerFindsPartitionsAndDeletesThem) {
  LogContext context{fs, io, syncs, loop, clock};
  {
    LogManager manager(context, "/data");
    append_batch(*manager.create({"orders-eu", 0}, {}), 4, 0);
    append_batch(*manager.create({"orders-eu", 1}, {}), 2, 0);
    manager.close_all();
  }
  LogManager manager(context, "/data");
  EXPECT_TRUE(manager.clean_shutdown_marker_present());
  manager.open_existing([](const TopicPartitionKey&) { return LogConfig{}; });
  ASSERT_EQ(manager.logs().size(), 2u);
  EXPECT_EQ(manager.get({"orders-eu", 0})->log_end_offset(), 4);
  EXPECT_EQ(manager.get({"orders-eu", 1})->log_end_offset(), 2);
  EXPECT_FALSE(manager.clean_shutdown_marker_present());
  manager.remove({"orders-eu", 1});
  io.run_all();
  EXPECT_FALSE(fs.exists("/data/orders-eu-1"));
  EXPECT_EQ(manager.logs().size(), 1u);
}

}  // namespace
}  // namespace fjord::storage

namespace fjord::storage {
namespace {

class ReplicatedLogTest : public ::testing::Test {
 protected:
  ReplicatedLogTest() { fs.create_directories("/data"); }
  std::shared_ptr<Log> open_log(const std::string& name) {
    return Log::open(LogContext{fs, io, syncs, loop, clock}, "/data/" + name, {});
  }
  testing::SimulatedFileSystem fs;
  testing::ManualIoPool io;
  InlineExecutor loop;
  SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
};

// What a follower receives: the leader's batches, read back from the leader's log with their offsets and epochs.
std::vector<uint8_t> leader_bytes(const Log& leader, int64_t from) {
  auto read = leader.read(from, leader.log_end_offset(), 1 << 20, true);
  std::vector<uint8_t> out;
  for (const auto& chunk : read.owned) out.insert(out.end(), chunk.begin(), chunk.end());
  return out;
}

TEST_F(ReplicatedLogTest, FollowerKeepsTheLeadersOffsetsAndEpochsAcrossARestart) {
  auto leader = open_log("leader-0");
  leader->assign_leader_epoch(3);
  auto produced = testing::make_batch(4, clock.now_ms());
  leader->append(produced.bytes, produced.batches, 3);
  leader->assign_leader_epoch(5);
  auto more = testing::make_batch(2, clock.now_ms(), "w");
  leader->append(more.bytes, more.batches, 5);

  auto follower = open_log("follower-0");
  auto bytes = leader_bytes(*leader, 0);
  auto validated = protocol::validate_batches(bytes, {});
  ASSERT_EQ(validated.error, ErrorCode::kNone);
  auto appended = follower->append_replicated(bytes, validated.batches);
  ASSERT_EQ(appended.error, ErrorCode::kNone);
  EXPECT_EQ(appended.last_offset, 5);
  EXPECT_EQ(follower->log_end_offset(), 6);
  EXPECT_EQ(follower->latest_leader_epoch(), 5);
  EXPECT_EQ(follower->end_offset_for_epoch(3).end_offset, 4);

  // The same batches again do not continue the log: refused, nothing written.
  auto again = follower->append_replicated(bytes, validated.batches);
  EXPECT_EQ(again.error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(follower->log_end_offset(), 6);

  // Truncating into epoch 5's range forgets it; the history survives a reopen.
  follower->truncate_to(4);
  EXPECT_EQ(follower->latest_leader_epoch(), 3);
  follower->close();
  follower.reset();
  auto reopened = open_log("follower-0");
  EXPECT_EQ(reopened->log_end_offset(), 4);
  EXPECT_EQ(reopened->latest_leader_epoch(), 3);
  EXPECT_EQ(reopened->end_offset_for_epoch(3).end_offset, 4);
}

}  // namespace
}  // namespace fjord::storage
