// Record batches, message format v2 (magic 2): the unit producers send, the log stores and consumers fetch.
//
// A batch, big-endian, as it travels and as it is stored:
//
//   offset  size  field
//        0     8  base_offset              first offset of the batch (assigned by the broker)
//        8     4  batch_length             bytes that follow this field
//       12     4  partition_leader_epoch   leader epoch when the batch was appended (set by the broker)
//       16     1  magic                    2
//       17     4  crc                      CRC-32C of every byte from `attributes` to the end
//       21     2  attributes               bits 0-2 compression, 3 log-append-time, 4 transactional, 5 control
//       23     4  last_offset_delta        offset of the last record minus base_offset
//       27     8  base_timestamp           timestamp of the first record
//       35     8  max_timestamp            largest record timestamp (or the append time with bit 3 set)
//       43     8  producer_id              -1 unless idempotent/transactional
//       51     2  producer_epoch
//       53     4  base_sequence            sequence number of the first record, -1 if none
//       57     4  record_count
//       61     …  records                  compressed as a whole when bits 0-2 say so
//
// A record: varint length, int8 attributes, varlong timestamp_delta, varint offset_delta, varint key length (-1:
// null) and key, varint value length (-1: null) and value, varint header count, then per header varint key length,
// key, varint value length (-1: null), value.
//
// base_offset and partition_leader_epoch lie outside the CRC, so the broker assigns them without recomputing it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/error_codes.h"
#include "protocol/codec_runtime.h"
#include "protocol/compression.h"

namespace fjord::protocol {

inline constexpr size_t kBatchHeaderSize = 61;
inline constexpr size_t kBatchLengthPrefix = 12;  // base_offset + batch_length, not counted by batch_length
inline constexpr size_t kBatchCrcStart = 21;
inline constexpr int8_t kMagicV2 = 2;

inline constexpr int16_t kAttributeCompressionMask = 0x07;
inline constexpr int16_t kAttributeLogAppendTime = 0x08;
inline constexpr int16_t kAttributeTransactional = 0x10;
inline constexpr int16_t kAttributeControl = 0x20;

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  size_t total_size() const { return kBatchLengthPrefix + static_cast<size_t>(batch_length); }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  int64_t next_offset() const { return last_offset() + 1; }
  Compression compression() const { return static_cast<Compression>(attributes & kAttributeCompressionMask); }
  bool is_log_append_time() const { return attributes & kAttributeLogAppendTime; }
  bool is_transactional() const { return attributes & kAttributeTransactional; }
  bool is_control() const { return attributes & kAttributeControl; }
};

// Reads the fixed header; `bytes` must hold at least kBatchHeaderSize bytes (the caller checks).
BatchHeader parse_batch_header(std::span<const uint8_t> bytes);

// Reads just base_offset and batch_length, the 12 bytes a log scan needs to step from batch to batch.
struct BatchPrefix {
  int64_t base_offset;
  int32_t batch_length;
};
BatchPrefix parse_batch_prefix(std::span<const uint8_t> bytes);

struct RecordHeader {
  std::string key;
  std::optional<Bytes> value;
  bool operator==(const RecordHeader&) const = default;
};

struct Record {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<RecordHeader> headers;
  bool operator==(const Record&) const = default;
};

struct BatchLimits {
  size_t max_batch_bytes = 1024 * 1024 + 12;  // max.message.bytes
  bool keys_required = false;                 // a compacted topic: a record without a key is refused
  size_t max_decompressed_bytes = 256 * 1024 * 1024;
};

// What validation learned about one batch of a produce request.
struct ValidatedBatch {
  size_t position = 0;  // within the request's records
  BatchHeader header;
};

struct ValidationResult {
  ErrorCode error = ErrorCode::kNone;
  std::string message;
  std::vector<ValidatedBatch> batches;
  int64_t record_count = 0;
};

// Validates the records of one partition of a produce request: whole v2 batches, each within the limits, with a
// correct CRC and records whose count and offset deltas agree with the header. Where a producer left
// last_offset_delta or max_timestamp wrong (some clients do), the header is corrected in place and its CRC
// recomputed; nothing else is changed.
//
// Batches a leader sends its followers are stored as they come (kLeader): a compacted batch keeps its header's
// offsets and sequence though some of its records, or all, are gone, so its record count may be 0 and its offset
// deltas may skip; they must still rise within the batch, and nothing is rewritten.
enum class BatchOrigin { kProducer, kLeader };
ValidationResult validate_batches(std::span<uint8_t> records, const BatchLimits& limits,
                                  BatchOrigin origin = BatchOrigin::kProducer);

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
// Marks the batch as stamped with the broker's append time (message.timestamp.type=LogAppendTime).
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);
uint32_t compute_batch_crc(std::span<const uint8_t> batch);

// Decodes every record of one whole batch (decompressing if needed). Throws DecodeError on malformed input.
std::vector<Record> decode_records(std::span<const uint8_t> batch, size_t max_decompressed_bytes);

// One record of a stored batch, as the log cleaner judges it (the spans point into the batch being filtered).
struct RecordView {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::span<const uint8_t>> key;  // nullopt: a record without a key
  bool tombstone = false;                       // a null value: the key is deleted
};

// The records of one stored batch that `keep` selects. When some go and some stay, `rebuilt` is the batch with
// only those: its header kept as it was (base offset, last offset delta, timestamps, producer id, epoch and base
// sequence, so that offsets and an idempotent producer's sequence survive compaction), the kept records' bytes
// unchanged (compressed again with the batch's codec), and its length, record count and CRC recomputed.
struct FilteredBatch {
  int32_t kept = 0;
  int32_t dropped = 0;
  Bytes rebuilt;  // only when both kept and dropped are above 0
};
FilteredBatch filter_batch(std::span<const uint8_t> batch, const std::function<bool(const RecordView&)>& keep,
                           size_t max_decompressed_bytes);
// A batch with this header and these (uncompressed, whole) records. With no records it is an empty batch: a header
// that only keeps a producer's last sequence and the offsets it covered.
Bytes rebuild_batch(std::span<const uint8_t> header, std::span<const uint8_t> records, int32_t record_count);

// Builds one batch; for clients the broker contains (the CLI) and for tests.
struct BatchBuildOptions {
  Compression compression = Compression::kNone;
  int64_t base_offset = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
};
Bytes build_batch(const std::vector<Record>& records, const BatchBuildOptions& options);

// Transaction markers: a control batch (transactional and control attributes, no sequence) of one record whose
// key is int16 version (0) + int16 type and whose value is int16 version (0) + int32 coordinator epoch.
enum class ControlType : int16_t { kAbort = 0, kCommit = 1 };
struct ControlMarker {
  ControlType type = ControlType::kAbort;
  int32_t coordinator_epoch = -1;
};
Bytes build_control_batch(int64_t producer_id, int16_t producer_epoch, ControlMarker marker, int64_t timestamp_ms);
// The marker of a control batch; nullopt when the batch is not one or its record does not read as a marker.
std::optional<ControlMarker> parse_control_marker(std::span<const uint8_t> batch);

}  // namespace fjord::protocol
