// What a partition log needs to know of its topic's configuration. The cluster layer maps Kafka's topic
// properties (segment.bytes, retention.ms, flush.messages, ...) onto this.
#pragma once

#include <cstdint>
#include <limits>

namespace fjord::storage {

enum class TimestampType { kCreateTime, kLogAppendTime };

struct LogConfig {
  int64_t segment_bytes = 1024 * 1024 * 1024;      // segment.bytes
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;     // segment.ms
  int64_t segment_jitter_ms = 0;                   // segment.jitter.ms: up to this much less, per segment
  int64_t segment_index_bytes = 10 * 1024 * 1024;  // segment.index.bytes: a full offset index rolls the segment
  int64_t file_delete_delay_ms = 60000;            // file.delete.delay.ms: removed segments' files linger
  int64_t index_interval_bytes = 4096;             // index.interval.bytes
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;   // retention.ms; -1: no limit
  int64_t retention_bytes = -1;                    // retention.bytes; -1: no limit
  // flush.messages: a write is acknowledged only once synced when this is 1 (Fjord's default; Kafka's default
  // never syncs). Above 1, writes are acknowledged from the page cache and synced every that many messages.
  int64_t flush_messages = 1;
  int64_t flush_ms = std::numeric_limits<int64_t>::max();     // flush.ms: sync at least this often
  int64_t max_message_bytes = 1024 * 1024 + 12;               // max.message.bytes
  TimestampType timestamp_type = TimestampType::kCreateTime;  // message.timestamp.type

  // Compaction (cleanup.policy contains compact): the log cleaner keeps the latest record of every key.
  bool compact = false;
  double min_cleanable_dirty_ratio = 0.5;                               // min.cleanable.dirty.ratio
  int64_t min_compaction_lag_ms = 0;                                    // min.compaction.lag.ms
  int64_t max_compaction_lag_ms = std::numeric_limits<int64_t>::max();  // max.compaction.lag.ms
  int64_t delete_retention_ms = 24LL * 3600 * 1000;                     // delete.retention.ms: tombstones

  bool sync_before_acknowledge() const { return flush_messages <= 1; }
};

}  // namespace fjord::storage
