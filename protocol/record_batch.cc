#include "protocol/record_batch.h"

#include <algorithm>
#include <limits>

#include "protocol/crc32c.h"

namespace fjord::protocol {
namespace {

template <typename T>
T load(const uint8_t* p) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | p[i]);
  return static_cast<T>(v);
}

template <typename T>
void store(uint8_t* p, T value) {
  using U = std::make_unsigned_t<T>;
  auto v = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i) p[sizeof(T) - 1 - i] = static_cast<uint8_t>(v >> (8 * i));
}

constexpr size_t kOffsetBaseOffset = 0;
constexpr size_t kOffsetBatchLength = 8;
constexpr size_t kOffsetLeaderEpoch = 12;
constexpr size_t kOffsetMagic = 16;
constexpr size_t kOffsetCrc = 17;
constexpr size_t kOffsetAttributes = 21;
constexpr size_t kOffsetLastOffsetDelta = 23;
constexpr size_t kOffsetBaseTimestamp = 27;
constexpr size_t kOffsetMaxTimestamp = 35;
constexpr size_t kOffsetProducerId = 43;
constexpr size_t kOffsetProducerEpoch = 51;
constexpr size_t kOffsetBaseSequence = 53;
constexpr size_t kOffsetRecordCount = 57;

// A record without a key where the topic is compacted (keys_required).
struct MissingKey {};

Reader reader_over(std::span<const uint8_t> bytes) {
  return Reader(std::span<uint8_t>(const_cast<uint8_t*>(bytes.data()), bytes.size()));
}

// Steps over the records of an uncompressed records section without copying them, checking each record's framing
// and offset delta: consecutive from 0 as a producer writes them, or (a compacted batch from a leader) rising and
// within the batch's last offset delta. Returns the largest timestamp delta.
int64_t walk_records(std::span<const uint8_t> section, int32_t count, BatchOrigin origin, int32_t last_offset_delta,
                     bool keys_required) {
  Reader r = reader_over(section);
  int64_t max_delta = std::numeric_limits<int64_t>::min();
  int32_t previous_offset_delta = -1;
  for (int32_t i = 0; i < count; ++i) {
    int32_t length = r.read_varint();
    if (length < 0) throw DecodeError("negative record length");
    Reader rec = reader_over(r.read_span(static_cast<size_t>(length)));
    rec.read_int8();  // attributes, unused in v2
    max_delta = std::max(max_delta, rec.read_varlong());
    const int32_t offset_delta = rec.read_varint();
    if (origin == BatchOrigin::kProducer && offset_delta != i) {
      throw DecodeError("record offset deltas are not consecutive from 0");
    }
    if (offset_delta <= previous_offset_delta || offset_delta > last_offset_delta) {
      throw DecodeError("record offset deltas do not rise within the batch");
    }
    previous_offset_delta = offset_delta;
    for (int field = 0; field < 2; ++field) {  // key, value
      int32_t n = rec.read_varint();
      if (n < -1) throw DecodeError("negative key or value length");
      if (field == 0 && n == -1 && keys_required) throw MissingKey();
      if (n > 0) rec.read_span(static_cast<size_t>(n));
    }
    int32_t headers = rec.read_varint();
    if (headers < 0) throw DecodeError("negative header count");
    for (int32_t h = 0; h < headers; ++h) {
      int32_t key_length = rec.read_varint();
      if (key_length < 0) throw DecodeError("null header key");
      rec.read_span(static_cast<size_t>(key_length));
      int32_t value_length = rec.read_varint();
      if (value_length < -1) throw DecodeError("negative header value length");
      if (value_length > 0) rec.read_span(static_cast<size_t>(value_length));
    }
    if (rec.remaining() != 0) throw DecodeError("record length disagrees with its contents");
  }
  if (r.remaining() != 0) throw DecodeError("bytes after the last record of a batch");
  return count == 0 ? 0 : max_delta;
}

std::optional<Bytes> read_nullable_varbytes(Reader& r) {
  int32_t n = r.read_varint();
  if (n < -1) throw DecodeError("negative length");
  if (n == -1) return std::nullopt;
  auto s = r.read_span(static_cast<size_t>(n));
  return Bytes(s.begin(), s.end());
}

void write_varbytes(Writer& w, const std::optional<Bytes>& b) {
  if (!b) {
    w.write_varint(-1);
    return;
  }
  w.write_varint(static_cast<int32_t>(b->size()));
  w.write_raw(*b);
}

}  // namespace

BatchHeader parse_batch_header(std::span<const uint8_t> b) {
  const uint8_t* p = b.data();
  BatchHeader h;
  h.base_offset = load<int64_t>(p + kOffsetBaseOffset);
  h.batch_length = load<int32_t>(p + kOffsetBatchLength);
  h.partition_leader_epoch = load<int32_t>(p + kOffsetLeaderEpoch);
  h.magic = static_cast<int8_t>(p[kOffsetMagic]);
  h.crc = load<uint32_t>(p + kOffsetCrc);
  h.attributes = load<int16_t>(p + kOffsetAttributes);
  h.last_offset_delta = load<int32_t>(p + kOffsetLastOffsetDelta);
  h.base_timestamp = load<int64_t>(p + kOffsetBaseTimestamp);
  h.max_timestamp = load<int64_t>(p + kOffsetMaxTimestamp);
  h.producer_id = load<int64_t>(p + kOffsetProducerId);
  h.producer_epoch = load<int16_t>(p + kOffsetProducerEpoch);
  h.base_sequence = load<int32_t>(p + kOffsetBaseSequence);
  h.record_count = load<int32_t>(p + kOffsetRecordCount);
  return h;
}

BatchPrefix parse_batch_prefix(std::span<const uint8_t> b) {
  return {load<int64_t>(b.data() + kOffsetBaseOffset), load<int32_t>(b.data() + kOffsetBatchLength)};
}

uint32_t compute_batch_crc(std::span<const uint8_t> batch) { return crc32c(batch.subspan(kBatchCrcStart)); }

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  store(batch.data() + kOffsetBaseOffset, base_offset);
}

void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  store(batch.data() + kOffsetLeaderEpoch, epoch);
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
  auto attributes = load<int16_t>(batch.data() + kOffsetAttributes);
  store(batch.data() + kOffsetAttributes, static_cast<int16_t>(attributes | kAttributeLogAppendTime));
  store(batch.data() + kOffsetMaxTimestamp, timestamp_ms);
  store(batch.data() + kOffsetCrc, compute_batch_crc(batch));
}

ValidationResult validate_batches(std::span<uint8_t> records, const BatchLimits& limits, BatchOrigin origin) {
  ValidationResult result;
  auto fail = [&](ErrorCode code, std::string message) {
    result.error = code;
    result.message = std::move(message);
    result.batches.clear();
    return result;
  };
  if (records.empty()) return fail(ErrorCode::kInvalidRecord, "no record batch in the request");
  size_t position = 0;
  while (position < records.size()) {
    size_t left = records.size() - position;
    if (left < kBatchHeaderSize) return fail(ErrorCode::kCorruptMessage, "truncated record batch header");
    auto bytes = records.subspan(position);
    BatchHeader h = parse_batch_header(bytes);
    if (h.magic != kMagicV2) {
      return fail(ErrorCode::kUnsupportedForMessageFormat, "only record batch format v2 (magic 2) is accepted");
    }
    if (h.batch_length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix)) {
      return fail(ErrorCode::kCorruptMessage, "record batch length smaller than its header");
    }
    if (h.total_size() > left) return fail(ErrorCode::kCorruptMessage, "record batch longer than the bytes sent");
    if (h.total_size() > limits.max_batch_bytes) {
      return fail(ErrorCode::kMessageTooLarge,
                  "record batch of " + std::to_string(h.total_size()) + " bytes exceeds max.message.bytes");
    }
    auto batch = bytes.first(h.total_size());
    if (compute_batch_crc(batch) != h.crc) return fail(ErrorCode::kCorruptMessage, "record batch CRC mismatch");
    const bool from_leader = origin == BatchOrigin::kLeader;
    if (h.record_count < 0 || (h.record_count == 0 && !from_leader)) {
      return fail(ErrorCode::kInvalidRecord, "record batch without records");
    }
    if (h.last_offset_delta < 0 && from_leader) {
      return fail(ErrorCode::kCorruptMessage, "record batch with a negative last offset delta");
    }
    if (h.compression() > Compression::kZstd) {
      return fail(ErrorCode::kUnsupportedCompressionType, "unknown compression codec");
    }
    int64_t max_delta = 0;
    try {
      auto section = batch.subspan(kBatchHeaderSize);
      // A leader's records are stored as it has them (some may predate the topic's compaction).
      const bool keys_required = limits.keys_required && !from_leader;
      // A producer's last_offset_delta may be wrong (corrected below); a leader's is what the batch covers.
      const int32_t offset_limit = from_leader ? h.last_offset_delta : std::numeric_limits<int32_t>::max();
      if (h.compression() == Compression::kNone || h.record_count == 0) {
        max_delta = walk_records(section, h.record_count, origin, offset_limit, keys_required);
      } else {
        Bytes plain = decompress(h.compression(), section, limits.max_decompressed_bytes);
        max_delta = walk_records(plain, h.record_count, origin, offset_limit, keys_required);
      }
    } catch (const MissingKey&) {
      return fail(ErrorCode::kInvalidRecord, "Compacted topic cannot accept message without key");
    } catch (const DecodeError& e) {
      return fail(ErrorCode::kCorruptMessage, std::string("invalid records: ") + e.what());
    }
    if (from_leader) {
      // As the leader wrote it (a compacted batch keeps its header though records went): nothing is rewritten.
      result.batches.push_back({position, h});
      result.record_count += h.record_count;
      position += h.total_size();
      continue;
    }
    bool rewrite = false;
    if (h.last_offset_delta != h.record_count - 1) {
      store(batch.data() + kOffsetLastOffsetDelta, h.record_count - 1);
      h.last_offset_delta = h.record_count - 1;
      rewrite = true;
    }
    int64_t max_timestamp = h.base_timestamp + max_delta;
    if (!h.is_log_append_time() && h.max_timestamp != max_timestamp) {
      store(batch.data() + kOffsetMaxTimestamp, max_timestamp);
      h.max_timestamp = max_timestamp;
      rewrite = true;
    }
    if (rewrite) {
      h.crc = compute_batch_crc(batch);
      store(batch.data() + kOffsetCrc, h.crc);
    }
    result.batches.push_back({position, h});
    result.record_count += h.record_count;
    position += h.total_size();
  }
  return result;
}

std::vector<Record> decode_records(std::span<const uint8_t> batch, size_t max_decompressed_bytes) {
  if (batch.size() < kBatchHeaderSize) throw DecodeError("truncated record batch");
  BatchHeader h = parse_batch_header(batch);
  if (h.total_size() > batch.size() || h.total_size() < kBatchHeaderSize) throw DecodeError("truncated record batch");
  auto section = batch.subspan(kBatchHeaderSize, h.total_size() - kBatchHeaderSize);
  Bytes plain;
  if (h.compression() != Compression::kNone) {
    plain = decompress(h.compression(), section, max_decompressed_bytes);
    section = plain;
  }
  if (h.record_count < 0 || static_cast<size_t>(h.record_count) > section.size()) {
    throw DecodeError("record count larger than the batch");
  }
  Reader r = reader_over(section);
  std::vector<Record> out;
  // A record takes at least 7 bytes (length, attributes, timestamp and offset deltas, key, value, headers): the
  // count alone is not believed for the allocation.
  out.reserve(std::min(static_cast<size_t>(h.record_count), section.size() / 7));
  for (int32_t i = 0; i < h.record_count; ++i) {
    int32_t length = r.read_varint();
    if (length < 0) throw DecodeError("negative record length");
    Reader rec = reader_over(r.read_span(static_cast<size_t>(length)));
    Record record;
    rec.read_int8();
    int64_t timestamp_delta = rec.read_varlong();
    record.timestamp = h.is_log_append_time() ? h.max_timestamp : h.base_timestamp + timestamp_delta;
    record.offset = h.base_offset + rec.read_varint();
    record.key = read_nullable_varbytes(rec);
    record.value = read_nullable_varbytes(rec);
    int32_t headers = rec.read_varint();
    if (headers < 0 || static_cast<size_t>(headers) > rec.remaining()) throw DecodeError("bad header count");
    for (int32_t j = 0; j < headers; ++j) {
      RecordHeader header;
      int32_t key_length = rec.read_varint();
      if (key_length < 0) throw DecodeError("null header key");
      auto key = rec.read_span(static_cast<size_t>(key_length));
      header.key.assign(key.begin(), key.end());
      header.value = read_nullable_varbytes(rec);
      record.headers.push_back(std::move(header));
    }
    out.push_back(std::move(record));
  }
  return out;
}

Bytes build_batch(const std::vector<Record>& records, const BatchBuildOptions& options) {
  if (records.empty()) throw EncodeError("a batch needs at least one record");
  int64_t base_timestamp = records.front().timestamp;
  int64_t max_timestamp = base_timestamp;
  Writer body;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& rec = records[i];
    max_timestamp = std::max(max_timestamp, rec.timestamp);
    Writer w;
    w.write_int8(0);
    w.write_varlong(rec.timestamp - base_timestamp);
    w.write_varint(static_cast<int32_t>(i));
    write_varbytes(w, rec.key);
    write_varbytes(w, rec.value);
    w.write_varint(static_cast<int32_t>(rec.headers.size()));
    for (const auto& header : rec.headers) {
      w.write_varint(static_cast<int32_t>(header.key.size()));
      w.write_raw(std::span(reinterpret_cast<const uint8_t*>(header.key.data()), header.key.size()));
      write_varbytes(w, header.value);
    }
    body.write_varint(static_cast<int32_t>(w.size()));
    body.write_raw(w.output().bytes);
  }
  Bytes section = compress(options.compression, body.output().bytes);

  Bytes batch(kBatchHeaderSize + section.size());
  uint8_t* p = batch.data();
  store(p + kOffsetBaseOffset, options.base_offset);
  store(p + kOffsetBatchLength, static_cast<int32_t>(batch.size() - kBatchLengthPrefix));
  store(p + kOffsetLeaderEpoch, int32_t{-1});
  p[kOffsetMagic] = static_cast<uint8_t>(kMagicV2);
  int16_t attributes = static_cast<int16_t>(options.compression);
  if (options.transactional) attributes |= kAttributeTransactional;
  if (options.control) attributes |= kAttributeControl;
  store(p + kOffsetAttributes, attributes);
  store(p + kOffsetLastOffsetDelta, static_cast<int32_t>(records.size() - 1));
  store(p + kOffsetBaseTimestamp, base_timestamp);
  store(p + kOffsetMaxTimestamp, max_timestamp);
  store(p + kOffsetProducerId, options.producer_id);
  store(p + kOffsetProducerEpoch, options.producer_epoch);
  store(p + kOffsetBaseSequence, options.base_sequence);
  store(p + kOffsetRecordCount, static_cast<int32_t>(records.size()));
  std::copy(section.begin(), section.end(), batch.begin() + kBatchHeaderSize);
  store(p + kOffsetCrc, compute_batch_crc(batch));
  return batch;
}

}  // namespace fjord::protocol

namespace fjord::protocol {

FilteredBatch filter_batch(std::span<const uint8_t> batch, const std::function<bool(const RecordView&)>& keep,
                           size_t max_decompressed_bytes) {
  if (batch.size() < kBatchHeaderSize) throw DecodeError("truncated record batch");
  const BatchHeader h = parse_batch_header(batch);
  if (h.total_size() > batch.size() || h.total_size() < kBatchHeaderSize) throw DecodeError("truncated record batch");
  auto section = batch.subspan(kBatchHeaderSize, h.total_size() - kBatchHeaderSize);
  Bytes plain;
  if (h.compression() != Compression::kNone && h.record_count > 0) {
    plain = decompress(h.compression(), section, max_decompressed_bytes);
    section = plain;
  }
  if (h.record_count < 0 || static_cast<size_t>(h.record_count) > section.size()) {
    throw DecodeError("record count larger than the batch");
  }
  FilteredBatch result;
  Bytes kept_records;
  Reader r = reader_over(section);
  for (int32_t i = 0; i < h.record_count; ++i) {
    const size_t start = r.position();
    int32_t length = r.read_varint();
    if (length < 0) throw DecodeError("negative record length");
    Reader rec = reader_over(r.read_span(static_cast<size_t>(length)));
    RecordView view;
    rec.read_int8();
    const int64_t timestamp_delta = rec.read_varlong();
    view.timestamp = h.is_log_append_time() ? h.max_timestamp : h.base_timestamp + timestamp_delta;
    view.offset = h.base_offset + rec.read_varint();
    int32_t key_length = rec.read_varint();
    if (key_length < -1) throw DecodeError("negative key length");
    if (key_length >= 0) view.key = rec.read_span(static_cast<size_t>(key_length));
    view.tombstone = rec.read_varint() == -1;
    if (keep(view)) {
      auto whole = section.subspan(start, r.position() - start);
      kept_records.insert(kept_records.end(), whole.begin(), whole.end());
      ++result.kept;
    }
  }
  result.dropped = h.record_count - result.kept;
  if (result.dropped == 0 || result.kept == 0) return result;
  result.rebuilt = rebuild_batch(batch.first(kBatchHeaderSize), kept_records, result.kept);
  return result;
}

Bytes rebuild_batch(std::span<const uint8_t> header, std::span<const uint8_t> records, int32_t record_count) {
  const BatchHeader h = parse_batch_header(header);
  Compression codec = h.compression();
  int16_t attributes = h.attributes;
  if (record_count == 0) {
    // Nothing to compress: an empty batch is stored plain, as Kafka writes one.
    codec = Compression::kNone;
    attributes = static_cast<int16_t>(attributes & ~kAttributeCompressionMask);
  }
  Bytes section = codec == Compression::kNone ? Bytes(records.begin(), records.end()) : compress(codec, records);
  Bytes out(kBatchHeaderSize + section.size());
  std::copy(header.begin(), header.begin() + kBatchHeaderSize, out.begin());
  std::copy(section.begin(), section.end(), out.begin() + kBatchHeaderSize);
  uint8_t* p = out.data();
  store(p + kOffsetBatchLength, static_cast<int32_t>(out.size() - kBatchLengthPrefix));
  store(p + kOffsetAttributes, attributes);
  store(p + kOffsetRecordCount, record_count);
  store(p + kOffsetCrc, compute_batch_crc(out));
  return out;
}

Bytes build_control_batch(int64_t producer_id, int16_t producer_epoch, ControlMarker marker, int64_t timestamp_ms) {
  Writer key;
  key.write_int16(0);
  key.write_int16(static_cast<int16_t>(marker.type));
  Writer value;
  value.write_int16(0);
  value.write_int32(marker.coordinator_epoch);
  Record record;
  record.timestamp = timestamp_ms;
  record.key = key.take().bytes;
  record.value = value.take().bytes;
  BatchBuildOptions options;
  options.producer_id = producer_id;
  options.producer_epoch = producer_epoch;
  options.transactional = true;
  options.control = true;
  return build_batch({record}, options);
}

std::optional<ControlMarker> parse_control_marker(std::span<const uint8_t> batch) {
  try {
    if (batch.size() < kBatchHeaderSize) return std::nullopt;
    const auto header = parse_batch_header(batch);
    // A marker is one small, uncompressed record.
    if (!header.is_control() || header.record_count != 1 || header.compression() != Compression::kNone) {
      return std::nullopt;
    }
    auto records = decode_records(batch, 1 << 20);
    if (records.empty() || !records.front().key || records.front().key->size() < 4) return std::nullopt;
    Reader key(std::span<uint8_t>(records.front().key->data(), records.front().key->size()));
    key.read_int16();  // version
    const int16_t type = key.read_int16();
    if (type != static_cast<int16_t>(ControlType::kAbort) && type != static_cast<int16_t>(ControlType::kCommit)) {
      return std::nullopt;
    }
    ControlMarker marker{static_cast<ControlType>(type), -1};
    if (records.front().value && records.front().value->size() >= 6) {
      Reader value(std::span<uint8_t>(records.front().value->data(), records.front().value->size()));
      value.read_int16();
      marker.coordinator_epoch = value.read_int32();
    }
    return marker;
  } catch (const DecodeError&) {
    return std::nullopt;
  }
}

}  // namespace fjord::protocol
