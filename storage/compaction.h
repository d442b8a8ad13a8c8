// Log compaction (cleanup.policy=compact): which records of a log survive a cleaning pass, and the pass itself,
// which reads sealed segments and writes cleaned ones beside them. A pass runs on a cleaner thread; the Log picks
// what it may clean and swaps the result in on its loop (Log::prepare_compaction / finish_compaction). The swap
// protocol and the checkpoint are in storage/FORMAT.md, "Compaction".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/file_system.h"
#include "storage/producer_state.h"
#include "storage/segment.h"

namespace fjord::storage {

// What the cleaner has done to one log, kept in the log's directory: where the records not yet cleaned begin,
// and when earlier passes cleaned up to where. A tombstone must stay delete.retention.ms after the pass that first
// cleaned it (so that a consumer reading from the start sees the deletion); the passes say when that was.
struct CleanerCheckpoint {
  struct Pass {
    int64_t end_offset;  // the pass cleaned everything below this offset
    int64_t time_ms;     // wall-clock time of the pass
    bool operator==(const Pass&) const = default;
  };
  int64_t first_dirty_offset = 0;
  std::vector<Pass> passes;  // rising end offsets

  // Tombstones below the returned offset were first cleaned at least delete.retention.ms ago: they may go.
  int64_t tombstone_horizon(int64_t now_ms, int64_t delete_retention_ms) const;
  // A pass cleaned everything below end_offset at now_ms. Passes older than one whose tombstones may all go are
  // forgotten (the newest such pass says as much as they did), so the list stays short.
  void record_pass(int64_t end_offset, int64_t now_ms, int64_t delete_retention_ms);
  // The log was cut back to log_end (a follower's truncation): nothing past it was cleaned.
  void truncate(int64_t log_end);

  std::vector<uint8_t> serialize() const;
  // nullopt for anything damaged (the log is then cleaned again from its start, which is safe).
  static std::optional<CleanerCheckpoint> parse(std::span<const uint8_t> bytes);
  bool operator==(const CleanerCheckpoint&) const = default;
};

// Paces the cleaner's reads and writes to log.cleaner.io.max.bytes.per.second, shared by its threads. Time and
// sleeping are injected so that a test can check the pacing without waiting.
class IoThrottle {
 public:
  using Nanos = std::chrono::nanoseconds;
  struct Time {
    std::function<Nanos()> now;
    std::function<void(Nanos)> sleep;
  };
  // bytes_per_second <= 0: no limit.
  explicit IoThrottle(double bytes_per_second, Time time = system_time());
  // Waits as long as needed for `bytes` more to stay within the rate on average. Thread-safe.
  void acquire(int64_t bytes);
  static Time system_time();

 private:
  double bytes_per_second_;
  Time time_;
  std::mutex mutex_;
  Nanos next_free_{0};
};

struct CompactionSegment {
  // The segment as the log held it when the pass was planned, to recognise it when swapping (the loop may still
  // change a segment's memory, so the pass reads only through `file`, up to `size`).
  std::shared_ptr<Segment> segment;
  std::shared_ptr<File> file;
  int64_t base_offset;
  int64_t next_offset;
  int64_t size;
};

// Everything a pass needs, taken on the log's loop.
struct CompactionInput {
  std::string directory;
  // Sealed, durable segments from the log's first, in order: the part of the log this pass may rewrite.
  std::vector<CompactionSegment> segments;
  int64_t end_offset = 0;          // the first offset after them (the base of the segment that follows)
  int64_t first_dirty_offset = 0;  // records from here on were never cleaned
  int64_t tombstone_horizon = 0;   // tombstones below this offset go
  // Every producer the log knows, with the last offset of its last batch: that batch is kept (emptied of its
  // records if they all go), so that the producer's sequence survives for its next write.
  std::map<int64_t, int64_t> producer_last_offsets;
  // The aborted transactions whose records lie in the segments (every transaction there has ended: the segments
  // stop at the last stable offset). Their batches go; a marker goes once its transaction has no batch left and it
  // is below the tombstone horizon.
  std::vector<AbortedTransaction> aborted;
  int64_t segment_bytes = 0;  // a cleaned segment replaces consecutive segments up to this many bytes
  int64_t index_interval_bytes = 4096;
  size_t max_decompressed_bytes = 256 * 1024 * 1024;
  int64_t now_ms = 0;
};

// A cleaned segment, staged beside the log, and the segments it replaces.
struct CleanedGroup {
  std::shared_ptr<Segment> cleaned;
  int64_t base_offset;
  int64_t replaced_until;  // it replaces every segment with a base offset in [base_offset, replaced_until)
  std::vector<std::shared_ptr<Segment>> replaced;
};

struct CompactionResult {
  std::vector<CleanedGroup> groups;
  int64_t cleaned_until = 0;  // the next pass's first dirty offset
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
  int64_t bytes_replaced = 0;  // bytes of the segments the groups replace
  int64_t records_removed = 0;
  int64_t tombstones_removed = 0;
  int64_t aborted_records_removed = 0;  // also counted in records_removed
  int64_t markers_removed = 0;
  int64_t records_without_key = 0;  // written before the topic was compacted: they go too, as in Kafka
};

struct CompactionLimits {
  // Memory for the map from each key in the dirty part to its latest offset (log.cleaner.dedupe.buffer.size per
  // thread). When the dirty part holds more keys, the pass cleans up to the segment where the map filled.
  size_t key_map_bytes = 128 * 1024 * 1024;
  IoThrottle* throttle = nullptr;
  const std::atomic<bool>* stop = nullptr;  // set: the pass gives up (its staged files are removed)
};

// Thrown by compact() when limits.stop was set.
struct CompactionStopped : std::runtime_error {
  CompactionStopped() : std::runtime_error("the log cleaner is stopping") {}
};

// One cleaning pass: keeps the latest record of every key (offsets and timestamps unchanged), drops tombstones
// below the horizon, records without a key and the batches of aborted transactions (which shadow nothing), drops
// a transaction's marker once no batch of it is left and it is below the horizon, and writes each group of
// segments it changed as a staged segment, synced, with its index files. Blocking; any thread.
CompactionResult compact(FileSystem& fs, const CompactionInput& input, const CompactionLimits& limits);

// Removes a pass's staged files (a pass the log could not swap in).
void remove_staged(FileSystem& fs, const CompactionResult& result);

}  // namespace fjord::storage
