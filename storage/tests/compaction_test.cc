// Log compaction on a simulated disk: what survives a pass (the latest record of each key, offsets and timestamps
// unchanged, tombstones until delete.retention.ms after their first cleaning, producers' last batches), what a
// read inside a compacted gap returns, and that a power loss at any step of the segment swap leaves either the
// old segments or the cleaned ones, never a mix.
#include "storage/compaction.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "model/testing/manual_scheduler.h"
#include "storage/log_cleaner.h"
#include "storage/tests/log_test_support.h"

namespace fjord::storage {
namespace {

using testing::read_all;
using testing::value_of;

struct KeyedRecord {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
};

struct Producer {
  int64_t id = -1;
  int16_t epoch = 0;
  int32_t sequence = 0;
};

class CompactionTest : public ::testing::Test {
 protected:
  CompactionTest() {
    fs.create_directories("/data");
    config.compact = true;
    config.segment_bytes = 400;  // a few batches per segment
    config.retention_ms = -1;
    config.delete_retention_ms = 1000;
    config.file_delete_delay_ms = 0;
  }
  LogContext context() { return LogContext{fs, io, syncs, loop, clock, nullptr, nullptr, &timers}; }
  std::shared_ptr<Log> open_log() { return Log::open(context(), "/data/t-0", config); }

  AppendResult append(Log& log, const std::vector<KeyedRecord>& records, Producer* producer = nullptr,
                      protocol::Compression compression = protocol::Compression::kNone, bool transactional = false) {
    std::vector<protocol::Record> built;
    for (const auto& r : records) {
      protocol::Record record;
      record.timestamp = clock.now_ms();
      record.key = std::vector<uint8_t>(r.key.begin(), r.key.end());
      if (r.value) record.value = std::vector<uint8_t>(r.value->begin(), r.value->end());
      built.push_back(std::move(record));
    }
    protocol::BatchBuildOptions options;
    options.compression = compression;
    if (producer) {
      options.producer_id = producer->id;
      options.producer_epoch = producer->epoch;
      options.base_sequence = producer->sequence;
      options.transactional = transactional;
    }
    auto bytes = protocol::build_batch(built, options);
    auto validated = protocol::validate_batches(bytes, {});
    EXPECT_EQ(validated.error, ErrorCode::kNone) << validated.message;
    auto result = log.append(bytes, validated.batches, 0);
    if (producer && result.error == ErrorCode::kNone) producer->sequence += static_cast<int32_t>(records.size());
    clock.advance(1);
    return result;
  }
  void settle(Log& log) {
    log.sync();
    io.run_all();
  }
  // One whole pass, as the cleaner runs it. Returns whether it was swapped in.
  bool clean(Log& log) {
    settle(log);
    auto input = log.prepare_compaction();
    if (!input) return false;
    auto result = compact(fs, *input, {});
    const bool swapped = log.finish_compaction(std::move(result));
    settle(log);
    return swapped;
  }
  // key -> value of every record readable from the start, in offset order (checked rising, no duplicates).
  std::vector<std::pair<std::string, std::string>> contents(const Log& log) {
    std::vector<std::pair<std::string, std::string>> out;
    int64_t previous = -1;
    for (const auto& r : read_all(fs, log, 0)) {
      EXPECT_GT(r.offset, previous) << "offsets must rise and never repeat";
      previous = r.offset;
      out.emplace_back(std::string(r.key->begin(), r.key->end()), r.value ? value_of(r) : "(tombstone)");
    }
    return out;
  }

  AppendResult append_in_transaction(Log& log, const std::vector<KeyedRecord>& records, Producer& producer) {
    return append(log, records, &producer, protocol::Compression::kNone, true);
  }
  AppendResult end_transaction(Log& log, const Producer& producer, bool commit) {
    auto result = log.append_marker(producer.id, producer.epoch,
                                    {commit ? protocol::ControlType::kCommit : protocol::ControlType::kAbort, 0}, 0);
    clock.advance(1);
    return result;
  }
  // Every batch readable from the start, in offset order: "commit@N" / "abort@N" for markers, else key=value
  // per record.
  std::vector<std::string> batches(const Log& log) {
    std::vector<std::string> out;
    for (int64_t offset = 0; offset < log.log_end_offset();) {
      auto result = log.read(offset, log.log_end_offset(), 1 << 20, true);
      if (result.bytes == 0) break;
      for (const auto& chunk : result.owned) {
        for (size_t position = 0; position < chunk.size();) {
          auto header = protocol::parse_batch_header(std::span(chunk).subspan(position));
          auto bytes = std::span(chunk).subspan(position, header.total_size());
          position += header.total_size();
          if (header.last_offset() < offset) continue;
          if (auto marker = protocol::parse_control_marker(bytes)) {
            out.push_back(std::string(marker->type == protocol::ControlType::kCommit ? "commit@" : "abort@") +
                          std::to_string(header.base_offset));
          } else {
            for (const auto& r : protocol::decode_records(bytes, 1 << 26)) {
              out.push_back(std::string(r.key->begin(), r.key->end()) + "=" + value_of(r));
            }
          }
          offset = header.last_offset() + 1;
        }
      }
    }
    return out;
  }

  // Offsets held more than once across the segment files on disk (a swap that left old and cleaned copies).
  int offsets_on_disk_twice() {
    std::set<int64_t> seen;
    int twice = 0;
    for (const auto& name : fs.list("/data/t-0")) {
      if (!name.ends_with(".log")) continue;
      auto bytes = *fs.read_all("/data/t-0/" + name);
      size_t position = 0;
      while (position + protocol::kBatchHeaderSize <= bytes.size()) {
        auto header = protocol::parse_batch_header(std::span(bytes).subspan(position));
        for (const auto& r :
             protocol::decode_records(std::span(bytes).subspan(position, header.total_size()), 1 << 26)) {
          twice += !seen.insert(r.offset).second;
        }
        position += header.total_size();
      }
    }
    return twice;
  }

  testing::SimulatedFileSystem fs;
  testing::ManualIoPool io;
  InlineExecutor loop;
  SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
  fjord::testing::ManualScheduler timers{clock};
  LogConfig config;
};

TEST_F(CompactionTest, ThePassKeepsTheLatestRecordOfEachKeyWithItsOffsetAndTimestamp) {
  auto log = open_log();
  std::map<std::string, std::pair<int64_t, int64_t>> latest;  // key -> offset, timestamp
  for (int version = 0; version < 5; ++version) {
    for (const std::string key : {"a", "b", "c", "d"}) {
      const int64_t timestamp = clock.now_ms();
      auto appended = append(*log, {{key, key + std::to_string(version)}});
      latest[key] = {appended.base_offset, timestamp};
    }
  }
  append(*log, {{"z", "filler"}});  // the active segment, which is never cleaned
  const int64_t before = log->size_bytes();
  const size_t segments_before = log->segment_count();
  ASSERT_GT(segments_before, 3u);

  ASSERT_TRUE(clean(*log));
  auto records = read_all(fs, *log, 0);
  ASSERT_EQ(records.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    const std::string key(records[i].key->begin(), records[i].key->end());
    EXPECT_EQ(value_of(records[i]), key + "4");
    EXPECT_EQ(records[i].offset, latest[key].first);
    EXPECT_EQ(records[i].timestamp, latest[key].second);
  }
  EXPECT_EQ(value_of(records[4]), "filler");
  EXPECT_LT(log->size_bytes(), before / 3) << "bytes on disk must shrink";
  // Groups are formed from the segments' sizes before cleaning: full segments are cleaned one by one, and the
  // small segments that leaves merge at the next pass.
  append(*log, {{"y", std::string(300, 'y')}});
  ASSERT_TRUE(clean(*log));
  EXPECT_LT(log->segment_count(), segments_before);
  EXPECT_EQ(log->log_start_offset(), 0);
  EXPECT_EQ(log->cleaner_checkpoint().first_dirty_offset, log->cleanable().end_offset);

  // The same after a restart (the cleaned segments' files and the checkpoint are what they say).
  log->close();
  log = open_log();
  EXPECT_EQ(contents(*log).size(), 6u);
  EXPECT_EQ(log->cleanable().dirty_bytes, 0);
}

TEST_F(CompactionTest, RecordsOfOneBatchGoIndividuallyAndTheBatchKeepsItsOffsets) {
  for (auto codec : {protocol::Compression::kNone, protocol::Compression::kZstd}) {
    fs.remove_all("/data/t-0");
    auto log = open_log();
    auto first = append(*log, {{"a", "a0"}, {"b", "b0"}, {"c", "c0"}, {"d", "d0"}}, nullptr, codec);
    append(*log, {{"b", "b1"}, {"d", "d1"}}, nullptr, codec);
    for (int i = 0; i < 10; ++i) append(*log, {{"pad" + std::to_string(i), std::string(60, 'x')}});
    ASSERT_TRUE(clean(*log));
    auto records = read_all(fs, *log, 0);
    ASSERT_GE(records.size(), 4u);
    EXPECT_EQ(value_of(records[0]), "a0");
    EXPECT_EQ(records[0].offset, first.base_offset);
    EXPECT_EQ(value_of(records[1]), "c0");
    EXPECT_EQ(records[1].offset, first.base_offset + 2);
    EXPECT_EQ(value_of(records[2]), "b1");
    EXPECT_EQ(value_of(records[3]), "d1");
    // The rebuilt batch still covers offsets 0-3, so the next batch starts where it did.
    EXPECT_EQ(log->leader_epoch_at(3), 0);
  }
}

TEST_F(CompactionTest, AReadInsideACompactedGapReturnsTheNextSurvivingBatch) {
  auto log = open_log();
  for (int i = 0; i < 6; ++i) append(*log, {{"k", "v" + std::to_string(i)}});
  append(*log, {{"other", "o"}});
  for (int i = 0; i < 6; ++i) append(*log, {{"pad" + std::to_string(i), std::string(80, 'x')}});
  ASSERT_TRUE(clean(*log));
  // Offsets 0-4 held older versions of k; a consumer whose committed offset is 2 reads on from k's latest.
  auto from_gap = read_all(fs, *log, 2);
  ASSERT_FALSE(from_gap.empty());
  EXPECT_EQ(value_of(from_gap.front()), "v5");
  EXPECT_EQ(from_gap.front().offset, 5);
}

TEST_F(CompactionTest, TombstonesStayDeleteRetentionAfterTheirFirstCleaningThenGo) {
  auto log = open_log();
  append(*log, {{"gone", "1"}});
  append(*log, {{"kept", "1"}});
  append(*log, {{"gone", std::nullopt}});
  for (int i = 0; i < 6; ++i) append(*log, {{"pad" + std::to_string(i), std::string(80, 'x')}});
  ASSERT_TRUE(clean(*log));
  auto after_first = contents(*log);
  EXPECT_EQ(std::count(after_first.begin(), after_first.end(),
                       std::make_pair(std::string("gone"), std::string("(tombstone)"))),
            1)
      << "the tombstone is kept after the pass that first cleaned it";
  EXPECT_EQ(std::count(after_first.begin(), after_first.end(), std::make_pair(std::string("gone"), std::string("1"))),
            0);

  // Half delete.retention.ms later, another pass (new dirty records) keeps it still.
  clock.advance(500);
  for (int i = 0; i < 6; ++i) append(*log, {{"more" + std::to_string(i), std::string(80, 'y')}});
  ASSERT_TRUE(clean(*log));
  auto middle = contents(*log);
  EXPECT_EQ(std::count_if(middle.begin(), middle.end(), [](const auto& kv) { return kv.first == "gone"; }), 1);

  // Past it, the tombstone goes and the key is simply absent.
  clock.advance(600);
  for (int i = 0; i < 6; ++i) append(*log, {{"last" + std::to_string(i), std::string(80, 'z')}});
  ASSERT_TRUE(clean(*log));
  auto final_contents = contents(*log);
  EXPECT_EQ(
      std::count_if(final_contents.begin(), final_contents.end(), [](const auto& kv) { return kv.first == "gone"; }),
      0);
  EXPECT_EQ(
      std::count_if(final_contents.begin(), final_contents.end(), [](const auto& kv) { return kv.first == "kept"; }),
      1);
}

TEST_F(CompactionTest, AbortedTransactionsGoAndTheirMarkersFollowOnceNothingOfThemIsLeft) {
  auto log = open_log();
  Producer committing{7}, aborting{8}, open{9};
  append_in_transaction(*log, {{"k1", "c1"}, {"k2", "c2"}}, committing);  // 0-1
  append_in_transaction(*log, {{"k1", "a1"}, {"k3", "a3"}}, aborting);    // 2-3
  ASSERT_EQ(end_transaction(*log, committing, true).base_offset, 4);
  ASSERT_EQ(end_transaction(*log, aborting, false).base_offset, 5);
  append(*log, {{"k2", "plain"}});  // 6: shadows c2
  for (int i = 0; i < 4; ++i) append(*log, {{"pad" + std::to_string(i), std::string(80, 'x')}});
  const int64_t open_at = append_in_transaction(*log, {{"k4", "o4"}}, open).base_offset;
  for (int i = 0; i < 4; ++i) append(*log, {{"more" + std::to_string(i), std::string(80, 'y')}});
  ASSERT_EQ(log->producers().aborted_count(), 1u);

  ASSERT_TRUE(clean(*log));
  auto after = batches(*log);
  auto has = [&](const std::vector<std::string>& all, const std::string& one) {
    return std::find(all.begin(), all.end(), one) != all.end();
  };
  EXPECT_FALSE(has(after, "k1=a1")) << "the aborted transaction's records go";
  EXPECT_FALSE(has(after, "k3=a3"));
  EXPECT_TRUE(has(after, "k1=c1")) << "an aborted record shadows nothing";
  EXPECT_FALSE(has(after, "k2=c2")) << "a committed record goes like any other";
  EXPECT_TRUE(has(after, "commit@4")) << "its transaction still has a record here";
  EXPECT_TRUE(has(after, "abort@5")) << "markers stay delete.retention.ms after their first cleaning";
  EXPECT_TRUE(has(after, "k4=o4"));
  EXPECT_EQ(log->producers().aborted_count(), 0u) << "no aborted record is left for a fetch to skip";
  EXPECT_LE(log->cleaner_checkpoint().first_dirty_offset, open_at) << "nothing of an open transaction is cleaned";

  // Past delete.retention.ms the records are gone, but each marker stays while anything of its transaction does:
  // both transactions' batches were their producers' last, kept empty (for the producers' sequences), and without
  // its marker a replay of the log would take such a batch for a transaction still open.
  clock.advance(1100);
  append(*log, {{"k1", "plain"}});
  for (int i = 0; i < 4; ++i) append(*log, {{"last" + std::to_string(i), std::string(80, 'z')}});
  ASSERT_EQ(end_transaction(*log, open, true).error, ErrorCode::kNone);
  for (int i = 0; i < 4; ++i) append(*log, {{"end" + std::to_string(i), std::string(80, 'w')}});
  ASSERT_TRUE(clean(*log));
  after = batches(*log);
  EXPECT_FALSE(has(after, "k1=c1"));
  EXPECT_TRUE(has(after, "commit@4"));
  EXPECT_TRUE(has(after, "abort@5"));
  // Once the producers have written again, their emptied batches go, and then the markers.
  append_in_transaction(*log, {{"k6", "c6"}}, committing);
  const int64_t next_commit = end_transaction(*log, committing, true).base_offset;
  append_in_transaction(*log, {{"k7", "c7"}}, aborting);
  end_transaction(*log, aborting, true);
  for (int i = 0; i < 4; ++i) append(*log, {{"final" + std::to_string(i), std::string(80, 'v')}});
  ASSERT_TRUE(clean(*log));
  after = batches(*log);
  EXPECT_FALSE(has(after, "commit@4"));
  EXPECT_FALSE(has(after, "abort@5"));
  EXPECT_TRUE(has(after, "commit@" + std::to_string(next_commit)));
  EXPECT_TRUE(has(after, "k4=o4")) << "the later transaction committed";

  // What the producer state makes of the cleaned log after a restart: nothing open, nothing aborted.
  log->close();
  log = open_log();
  EXPECT_EQ(log->last_stable_offset(log->log_end_offset()), log->log_end_offset());
  EXPECT_EQ(log->producers().aborted_between(0, log->log_end_offset()).size(), 0u);
}

TEST_F(CompactionTest, AProducersLastBatchIsKeptEmptySoItsSequenceSurvivesARestart) {
  auto log = open_log();
  Producer producer{42, 0, 0};
  ASSERT_EQ(append(*log, {{"k", "old"}}, &producer).error, ErrorCode::kNone);
  append(*log, {{"k", "new"}});  // supersedes the producer's only record
  for (int i = 0; i < 6; ++i) append(*log, {{"pad" + std::to_string(i), std::string(80, 'x')}});
  ASSERT_TRUE(clean(*log));
  auto records = contents(*log);
  EXPECT_EQ(std::count(records.begin(), records.end(), std::make_pair(std::string("k"), std::string("old"))), 0);
  // Restarted without its snapshots, the state is rebuilt from the log alone: the empty batch carries it.
  log->close();
  log.reset();
  for (const auto& name : fs.list("/data/t-0")) {
    if (name.ends_with(".snapshot")) fs.remove("/data/t-0/" + name);
  }
  log = open_log();
  ASSERT_NE(log->producers().find(42), nullptr) << "the producer's last batch went with its records";
  EXPECT_EQ(log->producers().find(42)->batches.back().last_sequence, 0);
  EXPECT_EQ(append(*log, {{"k", "again"}}, &producer).error, ErrorCode::kNone)
      << "the producer's next sequence must be accepted";
}

TEST_F(CompactionTest, ALogTruncatedOrChangedDuringAPassKeepsItsSegments) {
  auto log = open_log();
  for (int i = 0; i < 12; ++i) append(*log, {{"k", std::string(60, static_cast<char>('a' + i))}});
  settle(*log);
  auto input = log->prepare_compaction();
  ASSERT_TRUE(input);
  auto result = compact(fs, *input, {});
  ASSERT_FALSE(result.groups.empty());
  log->truncate_to(3);  // a follower's truncation while the pass ran
  settle(*log);
  EXPECT_FALSE(log->finish_compaction(std::move(result)));
  io.run_all();
  auto records = contents(*log);
  EXPECT_EQ(records.size(), 3u);
  for (const auto& name : fs.list("/data/t-0")) EXPECT_FALSE(name.ends_with(".cleaned")) << name;
}

// Power loss after each directory operation of the swap: the log comes back either as it was or as cleaned.
TEST_F(CompactionTest, APowerLossAtEveryStepOfTheSwapLeavesTheOldSegmentsOrTheCleanedOnes) {
  auto fill = [&](Log& log) {
    for (int version = 0; version < 4; ++version) {
      for (const std::string key : {"a", "b", "c"}) append(log, {{key, key + std::to_string(version)}});
    }
    append(log, {{"b", std::nullopt}});
    append(log, {{"z", "active"}});
    // Cleaned segments may be larger than the rolled ones: one cleaned segment then replaces several.
    auto larger = config;
    larger.segment_bytes = 1 << 20;
    log.set_config(larger);
  };
  // The expected contents before and after, and how many directory operations the swap makes.
  std::vector<std::pair<std::string, std::string>> before, after;
  size_t operations = 0;
  {
    auto log = open_log();
    fill(*log);
    settle(*log);
    before = contents(*log);
    auto result = compact(fs, *log->prepare_compaction(), {});
    const size_t journal_before = fs.undurable_directory_operations();
    ASSERT_TRUE(log->finish_compaction(std::move(result)));
    operations = fs.undurable_directory_operations() - journal_before;
    settle(*log);
    after = contents(*log);
    ASSERT_NE(before, after);
    log.reset();
    fs.remove_all("/data/t-0");
  }
  ASSERT_GE(operations, 4u);
  for (size_t kept = 0; kept <= operations; ++kept) {
    SCOPED_TRACE("directory operations kept: " + std::to_string(kept));
    auto log = open_log();
    fill(*log);
    settle(*log);
    auto result = compact(fs, *log->prepare_compaction(), {});
    const size_t journal_before = fs.undurable_directory_operations();
    ASSERT_TRUE(log->finish_compaction(std::move(result)));
    fs.crash(journal_before + kept);
    io.discard();  // the process died with its pending syncs
    log.reset();
    log = open_log();
    auto recovered = contents(*log);
    // Groups swap in offset order; each swap is whole or absent. So every surviving record is there, nothing
    // that was not in the log appears, and each key's latest value (or tombstone) is what it was.
    auto subset = [](const auto& small, const auto& large) {
      size_t i = 0;
      for (const auto& r : large) i += i < small.size() && small[i] == r;
      return i == small.size();
    };
    EXPECT_TRUE(subset(after, recovered)) << "a record that survives compaction is missing";
    EXPECT_TRUE(subset(recovered, before)) << "a record that was never written appears";
    auto latest = [](const auto& records) {
      std::map<std::string, std::string> last;
      for (const auto& [key, value] : records) last[key] = value;
      return last;
    };
    EXPECT_EQ(latest(recovered), latest(before));
    EXPECT_EQ(offsets_on_disk_twice(), 0) << "old and cleaned copies of the same records are both on disk";
    if (kept == 0) {
      EXPECT_EQ(recovered, before);
    }
    if (kept == operations) {
      EXPECT_EQ(recovered, after);
    }
    for (const auto& name : fs.list("/data/t-0")) {
      EXPECT_FALSE(name.ends_with(".cleaned") || name.ends_with(".swap")) << name << " left after recovery";
    }
    // And it cleans again, to the same result.
    append(*log, {{"z2", "active"}});
    clean(*log);
    auto again = contents(*log);
    again.pop_back();
    EXPECT_EQ(again, after);
    log.reset();
    io.run_all();
    fs.remove_all("/data/t-0");
  }
}

TEST_F(CompactionTest, CheckpointsRoundTripAndTombstoneHorizonsFollowThePasses) {
  CleanerCheckpoint checkpoint;
  checkpoint.record_pass(100, 1000, 500);
  checkpoint.record_pass(200, 1400, 500);
  EXPECT_EQ(checkpoint.tombstone_horizon(1500, 500), 100);
  EXPECT_EQ(checkpoint.tombstone_horizon(1900, 500), 200);
  EXPECT_EQ(checkpoint.tombstone_horizon(1000, 500), 0);
  auto parsed = CleanerCheckpoint::parse(checkpoint.serialize());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, checkpoint);
  auto bytes = checkpoint.serialize();
  bytes.resize(bytes.size() - 6);
  EXPECT_FALSE(CleanerCheckpoint::parse(bytes));
  checkpoint.record_pass(300, 5000, 500);  // both earlier passes are past their horizon: one is enough
  EXPECT_EQ(checkpoint.passes.size(), 2u);
  EXPECT_EQ(checkpoint.tombstone_horizon(5000, 500), 200);
  checkpoint.truncate(250);
  EXPECT_EQ(checkpoint.first_dirty_offset, 250);
  EXPECT_EQ(checkpoint.tombstone_horizon(9000, 500), 200);
}

TEST_F(CompactionTest, TheThrottlePacesBytesToTheRate) {
  IoThrottle::Nanos now{0};
  IoThrottle::Nanos slept{0};
  IoThrottle throttle(1000.0, {[&] { return now; },
                               [&](IoThrottle::Nanos d) {
                                 slept += d;
                                 now += d;
                               }});
  for (int i = 0; i < 10; ++i) throttle.acquire(500);  // 5,000 bytes at 1,000 bytes/s
  EXPECT_GE(slept, std::chrono::milliseconds(4400));
  EXPECT_LE(slept, std::chrono::milliseconds(4600));
}

TEST_F(CompactionTest, TheCleanerRunsPassesOnItsThreadsWhenTheDirtyRatioIsReached) {
  config.min_cleanable_dirty_ratio = 0.5;
  auto log = open_log();
  testing::ManualIoPool cleaner_threads;
  LogCleanerSettings settings;
  settings.backoff_ms = 100;
  LogCleaner cleaner(loop, timers, cleaner_threads, fs, clock, settings, [&] { return std::vector{log}; });
  cleaner.start();
  EXPECT_EQ(cleaner_threads.pending(), 0u) << "an empty log is not cleaned";
  for (int i = 0; i < 20; ++i) append(*log, {{"k" + std::to_string(i % 3), std::string(50, 'v')}});
  settle(*log);
  timers.advance(100);
  ASSERT_EQ(cleaner_threads.pending(), 1u);
  EXPECT_EQ(cleaner.passes_running(), 1u);
  cleaner_threads.run_all();
  settle(*log);
  EXPECT_EQ(cleaner.totals().passes, 1u);
  EXPECT_GT(cleaner.totals().bytes_reclaimed, 0);
  EXPECT_EQ(cleaner.passes_running(), 0u);
  // Clean now: nothing due until enough new dirty bytes.
  timers.advance(100);
  EXPECT_EQ(cleaner_threads.pending(), 0u);
}

}  // namespace
}  // namespace fjord::storage
