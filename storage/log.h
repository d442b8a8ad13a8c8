// A partition's log: an ordered list of segments, the offsets in them, and the rules that add, find, age out and
// sync record batches. Used on one event loop only. Everything that waits on the device (fsync, checkpoint and
// index files, removing files, directory syncs) goes to the IoPool; the loop only appends to the page cache,
// creates and renames directory entries, and reads. What is durable when is in storage/DURABILITY.md.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
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
#include "storage/compaction.h"
#include "storage/directory_health.h"
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
  int64_t next_offset = -1;  // the offset after the last batch returned
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
  StorageProbe* probe = nullptr;      // optional: metrics
  DirectoryHealth* health = nullptr;  // the data directory's; without one, a failing log goes offline alone
  Scheduler* timers = nullptr;        // file.delete.delay.ms; without one, removed files go at once
};

class Log : public std::enable_shared_from_this<Log> {
 public:
  // Opens (creating when absent) the log in `directory`. Segments without index files (an unclean stop) are
  // scanned and repaired; see storage/FORMAT.md. Blocking for an existing log (recovery, at start); a new one
  // only creates its directory and first segment, whose entries its first sync makes durable.
  static std::shared_ptr<Log> open(LogContext context, std::string directory, LogConfig config);
  ~Log();

  const std::string& directory() const { return directory_; }
  const LogConfig& config() const { return config_; }
  void set_config(const LogConfig& config) { config_ = config; }

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return active().next_offset(); }
  int64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  // Offsets below this are on stable storage.
  int64_t durable_offset() const { return durable_offset_; }
  // A write or sync of this log (or of another log in its directory) failed: nothing is written, synced or
  // acknowledged any more, and every operation that would is refused with KAFKA_STORAGE_ERROR.
  bool failed() const { return failed_; }
  // Takes the log offline; the first reason is kept. The directory's health hears of it.
  void fail(const std::string& reason);

  // Appends batches that validate_batches accepted (`records` is the request's buffer; base offsets, the leader
  // epoch and, for LogAppendTime topics, the timestamp are written into it first). A failed log, or a write that
  // fails now, answers kKafkaStorageError.
  // `check_sequences` false: a coordinator's transactional write (no sequence numbers; a fenced epoch is still
  // refused).
  AppendResult append(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches,
                      int32_t leader_epoch, bool check_sequences = true);

  // A transaction marker for `producer_id`, written by the transaction coordinator's request (WriteTxnMarkers):
  // ends the producer's open transaction here, committed or aborted. Refused (nothing written) when the producer
  // has since moved to a newer epoch, or a newer coordinator wrote its last marker.
  AppendResult append_marker(int64_t producer_id, int16_t producer_epoch, protocol::ControlMarker marker,
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

  // Where the batches from the one holding `offset` on lie in its segment: about `max_bytes` of the segment (at
  // least that first batch), as a file range, nothing read. Another thread reads it (a coordinator loading its
  // state off the loop), stopping at a batch the range cuts and at the offset it wants to stop at; the file stays
  // readable while the range is held. nullopt at the log end.
  struct FileRange {
    std::shared_ptr<File> file;
    int64_t position;
    int64_t length;
  };
  std::optional<FileRange> range_from(int64_t offset, int64_t max_bytes) const;

  // The timestamp of the next record a consumer positioned at `offset` reads (the first record at or after it
  // below `end_offset`, markers skipped), from the batch that holds it; nullopt when there is none. Reads at most
  // a few batches from the page cache.
  std::optional<int64_t> timestamp_at(int64_t offset, int64_t end_offset) const;

  // When retention would delete the record at `offset` (a consumer's next record), as apply_retention() decides:
  // retention.ms removes segments oldest first once their newest timestamp is older than it, so the segment
  // holding `offset` goes at the latest newest-timestamp of it and every segment before it, plus retention.ms;
  // retention.bytes removes it once the segments after it hold that many bytes. Both nullopt when unlimited.
  // Deletion itself happens at the next retention check after the deadline.
  struct RetentionOutlook {
    std::optional<int64_t> deletable_at_ms;      // by retention.ms (wall clock)
    std::optional<int64_t> bytes_until_deleted;  // by retention.bytes: appended bytes until it goes (0: due now)
  };
  RetentionOutlook retention_outlook(int64_t offset) const;

  // The first record with timestamp >= `timestamp`, below `end_offset`.
  std::optional<OffsetAndTimestamp> offset_for_timestamp(int64_t timestamp, int64_t end_offset) const;
  // The record with the largest timestamp, below `end_offset`.
  std::optional<OffsetAndTimestamp> offset_of_max_timestamp(int64_t end_offset) const;
  // Leader epoch of the batch holding `offset`, or -1.
  int32_t leader_epoch_at(int64_t offset) const;

  // Starts a sync of everything appended so far unless one is running, in which case another follows it: one
  // fsync covers every append made while the previous one ran (group commit). The same job writes pending
  // checkpoints (leader epochs, log start) and syncs new directory entries first, so what it makes durable is
  // whole. `done` (optional) runs on the loop once everything appended before this call is durable (true), or
  // when it never will be (false: the log failed or went away). A failed sync is never retried: the log fails.
  using SyncDone = std::function<void(bool durable)>;
  void sync(SyncDone done = {});
  // Set once: `durable` hears each new durable offset, `failed` that the log failed; both on the loop.
  void set_listeners(std::function<void(int64_t durable_offset)> durable, std::function<void()> failed) {
    durable_listener_ = std::move(durable);
    failure_listener_ = std::move(failed);
  }
  int64_t unsynced_messages() const { return log_end_offset() - durable_offset_; }

  // Raises the log start offset (DeleteRecords). Returns the new log start, which the next sync persists (wait
  // for it with sync(done)).
  int64_t delete_records_before(int64_t offset);
  // Removes segments that retention.ms / retention.bytes no longer keep. Returns how many went.
  int apply_retention();
  // Drops every offset at or above `offset` (a follower whose tail diverged from its leader's). Bounded work: no
  // segment is scanned again in full, and removed files go in the background.
  void truncate_to(int64_t offset);
  // Drops everything and starts again, empty, at `offset` (a follower whose position fell below its leader's
  // log start: what it would need next was deleted there).
  void reset_to(int64_t offset);

  // Compaction. The work is done off the loop by compact() (storage/compaction.h); the log says what may be
  // cleaned and swaps the cleaned segments in. Never the active segment, nor one not yet durable and sealed, nor
  // one holding records newer than min.compaction.lag.ms.
  struct Cleanable {
    int64_t clean_bytes = 0;  // cleanable segments cleaned before
    int64_t dirty_bytes = 0;  // cleanable segments holding records never cleaned
    int64_t first_dirty_offset = 0;
    int64_t end_offset = 0;              // the first offset no pass may clean yet
    int64_t first_dirty_timestamp = -1;  // the first dirty batch's timestamp (max.compaction.lag.ms)
    double dirty_ratio() const {
      return clean_bytes + dirty_bytes == 0
                 ? 0.0
                 : static_cast<double>(dirty_bytes) / static_cast<double>(clean_bytes + dirty_bytes);
    }
  };
  Cleanable cleanable() const;
  // What a pass needs; nullopt when nothing dirty may be cleaned.
  std::optional<CompactionInput> prepare_compaction() const;
  // Swaps a pass's cleaned segments in when every segment they replace is still as the pass saw it (sealed, not
  // truncated or removed meanwhile); otherwise removes them. Returns whether it swapped. Only renames happen on
  // the loop (storage/FORMAT.md, "Compaction"); the next sync makes them durable.
  bool finish_compaction(CompactionResult result);
  const CleanerCheckpoint& cleaner_checkpoint() const { return cleaner_checkpoint_; }

  // Idempotent and transactional producers' state in this partition.
  const ProducerStateManager& producers() const { return producers_; }
  // The last stable offset given the high watermark: nothing at or past the first batch of an open transaction
  // is stable (a read_committed consumer reads up to here).
  int64_t last_stable_offset(int64_t high_watermark) const {
    return std::min(high_watermark, producers_.first_unstable_offset().value_or(high_watermark));
  }
  // Forgets producers idle for longer than producer.id.expiration.ms. Returns how many.
  size_t expire_producers(int64_t expiration_ms);

  // Clean stop: syncs, writes index files for the active segment and pending checkpoints. Blocking. A failed log
  // is left as it is (syncing it again could report success over lost pages); the next start recovers it.
  void close();
  // Removes the log's directory in the background (deleted topic).
  void destroy();

 private:
  Log(LogContext context, std::string directory, LogConfig config);
  void load();
  // Assigns offsets and the leader epoch to batches already checked, and writes them.
  AppendResult write(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches,
                     int32_t leader_epoch, AppendResult result);
  // Tells the producer state about a batch written (or read back): `batch` is its bytes, needed for markers only.
  void record_batch(std::span<const uint8_t> batch, const protocol::BatchHeader& header, int64_t now_ms);
  Segment& active() const { return *segments_.rbegin()->second; }
  void roll(int64_t now_ms);
  bool should_roll(int64_t incoming_bytes, int64_t now_ms) const;
  void start_sync();
  void on_sync_done(std::exception_ptr error, int64_t target, std::vector<int64_t> sealed_bases,
                    const std::shared_ptr<std::vector<SyncDone>>& callbacks);
  void seal(int64_t base_offset);
  bool sync_pending_work() const;
  void remove_segment(int64_t base_offset);
  // Renames the files to *.deleted now and removes them later (file.delete.delay.ms), off the loop.
  void delete_files(std::vector<std::string> renamed);
  void delete_segment_files(const Segment& segment);
  void arm_deletion_timer();
  void remove_files_now(std::vector<std::string> paths);
  void load_leader_epochs();
  // A cleaning pass that a crash interrupted: staged files go; a committed swap is finished.
  void recover_compaction();
  std::string cleaner_checkpoint_path() const;
  std::string log_start_path() const;
  std::string leader_epochs_path() const;
  // Rebuilds producer state: the latest usable snapshot, then every batch written after it.
  void load_producer_state();
  std::string snapshot_path(int64_t offset) const;
  std::vector<int64_t> snapshot_offsets() const;
  // Runs `work` on the loop's behalf: a write error takes the log offline and is answered kKafkaStorageError.
  template <typename Work>
  bool guarded(const char* what, Work&& work);

  LogContext ctx_;
  std::string directory_;
  LogConfig config_;
  std::map<int64_t, std::shared_ptr<Segment>> segments_;
  int64_t log_start_offset_ = 0;
  int64_t durable_offset_ = 0;
  // Rolled segments whose .log the next sync makes durable, after which their index files and the producer
  // snapshot of the roll are written; they are never removed before that is done.
  struct Sealing {
    std::shared_ptr<Segment> segment;
    std::shared_ptr<std::vector<uint8_t>> producer_snapshot;
    bool indexing = false;
  };
  std::map<int64_t, Sealing> sealing_;
  // What the next sync job makes durable besides the files' bytes.
  bool log_start_dirty_ = false;
  bool leader_epochs_dirty_ = false;
  bool cleaner_checkpoint_dirty_ = false;
  CleanerCheckpoint cleaner_checkpoint_;
  std::vector<std::string> directories_to_sync_;
  // The sync job in flight: the log end it covers, the callbacks it answers, and how far its target can still
  // be trusted (a truncation while it runs cuts it: the bytes past the cut may be new and not covered).
  bool sync_running_ = false;
  bool sync_wanted_ = false;
  int64_t running_target_ = 0;
  int64_t running_valid_until_ = 0;
  std::shared_ptr<std::vector<SyncDone>> running_callbacks_;
  std::vector<SyncDone> next_callbacks_;
  // Files renamed *.deleted, removed once file.delete.delay.ms has passed (monotonic due time, oldest first).
  struct PendingDeletion {
    int64_t due_ms;
    std::vector<std::string> paths;
  };
  std::deque<PendingDeletion> pending_deletions_;
  std::unique_ptr<TimerHandle> deletion_timer_;
  bool destroyed_ = false;
  bool failed_ = false;
  std::function<void(int64_t)> durable_listener_;
  std::function<void()> failure_listener_;
  ProducerStateManager producers_;
  LeaderEpochs leader_epochs_;
};

}  // namespace fjord::storage
