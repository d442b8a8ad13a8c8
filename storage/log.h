// A partition's log: an ordered list of segments, the offsets in them, and the rules that add, find, age out and
// sync record batches. Used on one event loop only; fsyncs and other blocking file work go to the IoPool.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/clock.h"
#include "model/error_codes.h"
#include "model/executor.h"
#include "protocol/codec_runtime.h"
#include "protocol/record_batch.h"
#include "storage/io_pool.h"
#include "storage/leader_epochs.h"
#include "storage/log_config.h"
#include "storage/probe.h"
#include "storage/producer_state.h"
#include "storage/segment.h"
#include "storage/sync_scheduler.h"

namespace fjord::storage {

struct AppendResult {
  // kInvalidProducerEpoch, kOutOfOrderSequenceNumber or kDuplicateSequenceNumber when an idempotent producer's
  // batch was refused; nothing was written then.
  ErrorCode error = ErrorCode::kNone;
  std::string message;
  // The batch had been written before (a producer's retry): nothing was written now, and the offsets are where
  // it already is.
  bool duplicate = false;
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time = -1;  // -1 unless message.timestamp.type=LogAppendTime
};

struct ReadResult {
  // Whole batches in offset order: a file slice where the file has a descriptor to sendfile from, else a copy.
  std::vector<protocol::FileSlice> slices;
  std::vector<std::vector<uint8_t>> owned;
  int64_t bytes = 0;
};

struct OffsetAndTimestamp {
  int64_t offset;
  int64_t timestamp;
  int32_t leader_epoch;
};

struct LogContext {
  FileSystem& fs;
  IoPool& io;
  SyncScheduler& syncs;
  Executor& loop;  // the loop this log lives on; I/O completions come back here
  const Clock& clock;
  StorageProbe* probe = nullptr;  // optional: metrics
};

class Log : public std::enable_shared_from_this<Log> {
 public:
  // Opens (creating when absent) the log in `directory`. After an unclean stop, segments without index files are
  // scanned and repaired; see storage/FORMAT.md.
  static std::shared_ptr<Log> open(LogContext context, std::string directory, LogConfig config, bool clean_shutdown);

  const std::string& directory() const { return directory_; }
  const LogConfig& config() const { return config_; }
  void set_config(const LogConfig& config) { config_ = config; }

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return active().next_offset(); }
  int64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  // Offsets below this are on stable storage.
  int64_t durable_offset() const { return durable_offset_; }

  // Appends batches that validate_batches accepted (`records` is the request's buffer; base offsets, the leader
  // epoch and, for LogAppendTime topics, the timestamp are written into it first).
  AppendResult append(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches,
                      int32_t leader_epoch);

  // A follower's append: batches exactly as the leader wrote them (offsets and leader epochs kept). The first
  // must start at the log end; returns kCorruptMessage (nothing written) when they do not continue the log.
  AppendResult append_replicated(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches);

  // Leader epochs: a new leader records its epoch at the log end; OffsetForLeaderEpoch reads where one ends.
  void assign_leader_epoch(int32_t epoch);
  int32_t latest_leader_epoch() const { return leader_epochs_.latest_epoch(); }
  EpochEndOffset end_offset_for_epoch(int32_t epoch) const {
    return leader_epochs_.end_offset_for(epoch, log_end_offset());
  }

  // Whole batches from the first one holding `offset` up to (not including) those at or past `end_offset`,
  // within `max_bytes` except that the first batch is returned whole when `allow_oversized_first` is set.
  ReadResult read(int64_t offset, int64_t end_offset, int64_t max_bytes, bool allow_oversized_first) const;

  // The first record with timestamp >= `timestamp`, below `end_offset`.
  std::optional<OffsetAndTimestamp> offset_for_timestamp(int64_t timestamp, int64_t end_offset) const;
  // The record with the largest timestamp, below `end_offset`.
  std::optional<OffsetAndTimestamp> offset_of_max_timestamp(int64_t end_offset) const;
  // Leader epoch of the batch holding `offset`, or -1.
  int32_t leader_epoch_at(int64_t offset) const;

  // Starts an fsync of everything appended so far unless one is running, in which case another follows it: one
  // fsync covers every append made while the previous one ran (group commit). `listener` (set once) hears each
  // new durable offset on the loop.
  void sync();
  void set_durable_listener(std::function<void(int64_t durable_offset)> listener) {
    durable_listener_ = std::move(listener);
  }
  int64_t unsynced_messages() const { return log_end_offset() - durable_offset_; }

  // Raises the log start offset (DeleteRecords); persisted before it returns. Returns the new log start.
  int64_t delete_records_before(int64_t offset);
  // Removes segments that retention.ms / retention.bytes no longer keep. Returns how many went.
  int apply_retention();
  // Drops every offset at or above `offset` (a follower whose tail diverged from its leader's).
  void truncate_to(int64_t offset);

  // Idempotent producers' state in this partition.
  const ProducerStateManager& producers() const { return producers_; }
  // Forgets producers idle for longer than producer.id.expiration.ms. Returns how many.
  size_t expire_producers(int64_t expiration_ms);

  // Clean stop: syncs, writes index files for the active segment. Blocking.
  void close();
  // Removes the log's directory in the background (deleted topic).
  void destroy();

 private:
  Log(LogContext context, std::string directory, LogConfig config);
  void load(bool clean_shutdown);
  Segment& active() const { return *segments_.rbegin()->second; }
  void roll(int64_t now_ms);
  bool should_roll(int64_t incoming_bytes, int64_t now_ms) const;
  void start_sync();
  void remove_segment(int64_t base_offset);
  void persist_log_start_offset();
  void load_leader_epochs();
  void persist_leader_epochs();
  std::string log_start_path() const;
  // Rebuilds producer state: the latest usable snapshot, then every batch written after it.
  void load_producer_state();
  std::string snapshot_path(int64_t offset) const;
  std::vector<int64_t> snapshot_offsets() const;

  LogContext ctx_;
  std::string directory_;
  LogConfig config_;
  std::map<int64_t, std::shared_ptr<Segment>> segments_;
  int64_t log_start_offset_ = 0;
  int64_t durable_offset_ = 0;
  // Sealed segments whose .log has not yet been synced and indexed; they are never removed until it is done.
  std::map<int64_t, std::shared_ptr<Segment>> sealing_;
  bool sync_running_ = false;
  bool sync_wanted_ = false;
  bool destroyed_ = false;
  std::function<void(int64_t)> durable_listener_;
  ProducerStateManager producers_;
  LeaderEpochs leader_epochs_;
};

}  // namespace fjord::storage
