// Recovery after a stop that was not clean: power loss (the simulated disk forgets what was not synced) and a
// killed process (the page cache survives, a write may be torn). In every case no batch that was durable when
// acknowledged may be lost, and the log must come back consistent.
#include <gtest/gtest.h>

#include <random>

#include "storage/tests/log_test_support.h"

namespace fjord::storage {
namespace {

using testing::append_batch;
using testing::read_all;
using testing::value_of;

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() { fs.create_directories("/data"); }
  std::shared_ptr<Log> open_log(LogConfig config = {}) {
    return Log::open(LogContext{fs, io, syncs, loop, clock}, "/data/t-0", config);
  }
  std::string active_log_path(const Log& log) {
    int64_t base = 0;
    for (const auto& name : fs.list("/data/t-0")) {
      if (name.size() == 24 && name.substr(20) == ".log")
        base = std::max<int64_t>(base, std::stoll(name.substr(0, 20)));
    }
    (void)log;
    return "/data/t-0/" + Segment::log_name(base);
  }
  testing::SimulatedFileSystem fs;
  testing::ManualIoPool io;
  InlineExecutor loop;
  SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
};

TEST_F(RecoveryTest, PowerLossKeepsEverySyncedBatchAndOnlyThose) {
  LogConfig config;
  config.segment_bytes = 3000;
  auto log = open_log(config);
  int64_t acknowledged = 0;
  log->set_listeners([&](int64_t offset) { acknowledged = offset; }, {});
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    append_batch(*log, 1 + static_cast<int>(rng() % 4), clock.now_ms(), "r" + std::to_string(i) + "-");
    log->sync();
    // I/O completes at random moments relative to appends.
    while (io.pending() > 0 && rng() % 3 == 0) io.run_one();
  }
  int64_t end_before_crash = log->log_end_offset();
  ASSERT_GT(acknowledged, 0);
  fs.crash();
  log.reset();

  auto recovered = open_log(config);
  EXPECT_GE(recovered->log_end_offset(), acknowledged) << "an acknowledged batch was lost";
  // The crash did forget the unsynced tail; otherwise this test would prove nothing.
  EXPECT_LT(recovered->log_end_offset(), end_before_crash);
  auto records = read_all(fs, *recovered, 0);
  ASSERT_EQ(static_cast<int64_t>(records.size()), recovered->log_end_offset());
  for (size_t i = 0; i < records.size(); ++i) ASSERT_EQ(records[i].offset, static_cast<int64_t>(i));
  // Appends continue right after what survived.
  auto next = append_batch(*recovered, 1, clock.now_ms());
  EXPECT_EQ(next.base_offset, static_cast<int64_t>(records.size()));
}

TEST_F(RecoveryTest, TornTailIsTruncated) {
  auto log = open_log();
  for (int i = 0; i < 5; ++i) append_batch(*log, 3, clock.now_ms());
  std::string path = active_log_path(*log);
  // A killed process left half a batch at the end of the file.
  auto half = testing::make_batch(3, 0);
  fs.open(path, false)->append(std::span(half.bytes).first(half.bytes.size() / 2));
  log.reset();

  auto recovered = open_log();
  EXPECT_EQ(recovered->log_end_offset(), 15);
  EXPECT_EQ(read_all(fs, *recovered, 0).size(), 15u);
  EXPECT_EQ(append_batch(*recovered, 1, 0).base_offset, 15);
}

TEST_F(RecoveryTest, CorruptBatchTruncatesTheLogAtIt) {
  auto log = open_log();
  for (int i = 0; i < 5; ++i) append_batch(*log, 2, clock.now_ms());
  int64_t batch_size = log->read(0, 2, 1, true).bytes;
  std::string path = active_log_path(*log);
  log.reset();
  fs.flip_byte(path, batch_size * 2 + 70);  // inside the third batch's records

  auto recovered = open_log();
  EXPECT_EQ(recovered->log_end_offset(), 4);
  auto records = read_all(fs, *recovered, 0);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(value_of(records[3]), "v1");
}

TEST_F(RecoveryTest, DamagedIndexFilesAreRebuilt) {
  LogConfig config;
  config.segment_bytes = 2000;
  config.index_interval_bytes = 100;
  auto log = open_log(config);
  for (int i = 0; i < 100; ++i) append_batch(*log, 2, clock.now_ms());
  io.run_all();
  log->close();
  log.reset();
  // Garbage in the first segment's offset index: a length that is not a whole number of entries.
  fs.open("/data/t-0/" + Segment::index_name(0), false)->append(std::vector<uint8_t>{1, 2, 3});

  auto recovered = open_log(config);
  auto records = read_all(fs, *recovered, 0);
  ASSERT_EQ(records.size(), 200u);
  for (int64_t offset : {0, 5, 31, 100, 199}) {
    auto result = recovered->read(offset, 200, 1, true);
    ASSERT_EQ(result.owned.size(), 1u);
    auto h = protocol::parse_batch_header(result.owned[0]);
    EXPECT_LE(h.base_offset, offset);
    EXPECT_GE(h.last_offset(), offset);
  }
}

TEST_F(RecoveryTest, IndexFilesDoNotVouchForAGarbageTail) {
  // Found by fuzzing: valid (empty) index files beside a .log whose tail is not a batch. The tail must be checked
  // and dropped, not served.
  auto log = open_log();
  append_batch(*log, 3, 0);
  log->close();
  log.reset();
  std::vector<uint8_t> garbage(61, 0);
  fs.open("/data/t-0/" + Segment::log_name(0), false)->append(garbage);
  auto recovered = open_log();
  EXPECT_EQ(recovered->log_end_offset(), 3);
  EXPECT_EQ(read_all(fs, *recovered, 0).size(), 3u);
  EXPECT_EQ(append_batch(*recovered, 1, 0).base_offset, 3);
  EXPECT_EQ(read_all(fs, *recovered, 0).size(), 4u);
}

TEST_F(RecoveryTest, SegmentRolledButNotSealedIsScannedAndSealed) {
  LogConfig config;
  config.segment_bytes = 1000;
  auto log = open_log(config);
  for (int i = 0; i < 40; ++i) append_batch(*log, 2, clock.now_ms());
  ASSERT_GT(io.pending(), 0u);  // seal jobs never ran: the process was killed
  log.reset();

  auto recovered = open_log(config);
  EXPECT_EQ(recovered->log_end_offset(), 80);
  EXPECT_EQ(read_all(fs, *recovered, 0).size(), 80u);
  EXPECT_TRUE(fs.exists("/data/t-0/" + Segment::index_name(0)));
}

TEST_F(RecoveryTest, CleanStopKeepsIndexesAndUncleanStopRemovesTheActiveOnes) {
  auto log = open_log();
  append_batch(*log, 2, 0);
  log->close();
  EXPECT_TRUE(fs.exists("/data/t-0/" + Segment::index_name(0)));
  log.reset();
  auto reopened = open_log();
  // The active segment's index files are gone once it may change again.
  EXPECT_FALSE(fs.exists("/data/t-0/" + Segment::index_name(0)));
  EXPECT_EQ(reopened->log_end_offset(), 2);
}

}  // namespace
}  // namespace fjord::storage
