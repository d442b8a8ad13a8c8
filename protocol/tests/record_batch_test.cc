#include "protocol/record_batch.h"

#include <gtest/gtest.h>

namespace fjord::protocol {
namespace {

std::vector<Record> sample_records(int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.timestamp = 1'700'000'000'000 + i * 10;
    r.key = Bytes{static_cast<uint8_t>('k'), static_cast<uint8_t>(i)};
    r.value = Bytes(static_cast<size_t>(i * 3), static_cast<uint8_t>(i));
    if (i % 2) r.headers.push_back({"h", Bytes{1, 2}});
    if (i == 1) r.key.reset();
    out.push_back(std::move(r));
  }
  return out;
}

class EveryCodec : public ::testing::TestWithParam<Compression> {};

TEST_P(EveryCodec, BuildValidateDecode) {
  auto records = sample_records(20);
  BatchBuildOptions options;
  options.compression = GetParam();
  options.base_offset = 0;
  Bytes batch = build_batch(records, options);
  auto result = validate_batches(batch, BatchLimits{});
  ASSERT_EQ(result.error, ErrorCode::kNone) << result.message;
  ASSERT_EQ(result.batches.size(), 1u);
  EXPECT_EQ(result.record_count, 20);
  EXPECT_EQ(result.batches[0].header.compression(), GetParam());
  EXPECT_EQ(result.batches[0].header.max_timestamp, records.back().timestamp);
  set_base_offset(batch, 1000);
  auto decoded = decode_records(batch, 1 << 20);
  ASSERT_EQ(decoded.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(decoded[i].offset, 1000 + static_cast<int64_t>(i));
    EXPECT_EQ(decoded[i].key, records[i].key);
    EXPECT_EQ(decoded[i].value, records[i].value);
    EXPECT_EQ(decoded[i].headers, records[i].headers);
    EXPECT_EQ(decoded[i].timestamp, records[i].timestamp);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, EveryCodec,
                         ::testing::Values(Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd));

TEST(Validate, CrcMismatchIsCorruptMessage) {
  Bytes batch = build_batch(sample_records(3), {});
  batch.back() ^= 0x01;
  EXPECT_EQ(validate_batches(batch, {}).error, ErrorCode::kCorruptMessage);
}

TEST(Validate, TruncatedBatchIsCorruptMessage) {
  Bytes batch = build_batch(sample_records(3), {});
  batch.pop_back();
  EXPECT_EQ(validate_batches(batch, {}).error, ErrorCode::kCorruptMessage);
}

TEST(Validate, OldMagicIsRefused) {
  Bytes batch = build_batch(sample_records(1), {});
  batch[16] = 1;
  EXPECT_EQ(validate_batches(batch, {}).error, ErrorCode::kUnsupportedForMessageFormat);
}

TEST(Validate, OversizedBatchIsMessageTooLarge) {
  Bytes batch = build_batch(sample_records(10), {});
  BatchLimits limits;
  limits.max_batch_bytes = batch.size() - 1;
  EXPECT_EQ(validate_batches(batch, limits).error, ErrorCode::kMessageTooLarge);
}

TEST(Validate, WrongLastOffsetDeltaIsCorrectedAndRechecksummed) {
  Bytes batch = build_batch(sample_records(5), {});
  // A producer that wrote last_offset_delta = 0 (as old clients did), with a CRC over that value.
  batch[23] = batch[24] = batch[25] = batch[26] = 0;
  uint32_t crc = compute_batch_crc(batch);
  for (int i = 0; i < 4; ++i) batch[17 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  auto result = validate_batches(batch, {});
  ASSERT_EQ(result.error, ErrorCode::kNone) << result.message;
  EXPECT_EQ(result.batches[0].header.last_offset_delta, 4);
  EXPECT_EQ(parse_batch_header(batch).last_offset_delta, 4);
  EXPECT_EQ(parse_batch_header(batch).crc, compute_batch_crc(batch));
}

TEST(Validate, RecordCountLargerThanRecordsIsRefused) {
  Bytes batch = build_batch(sample_records(2), {});
  batch[57] = 0x7F;  // record_count = huge
  uint32_t crc = compute_batch_crc(batch);
  for (int i = 0; i < 4; ++i) batch[17 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  EXPECT_EQ(validate_batches(batch, {}).error, ErrorCode::kCorruptMessage);
}

TEST(Validate, SeveralBatchesInOneRequest) {
  Bytes a = build_batch(sample_records(2), {});
  Bytes b = build_batch(sample_records(3), {});
  a.insert(a.end(), b.begin(), b.end());
  auto result = validate_batches(a, {});
  ASSERT_EQ(result.error, ErrorCode::kNone);
  ASSERT_EQ(result.batches.size(), 2u);
  EXPECT_EQ(result.batches[1].position, a.size() - b.size());
  EXPECT_EQ(result.record_count, 5);
}

TEST(LogAppendTime, SetsAttributeAndMaxTimestamp) {
  Bytes batch = build_batch(sample_records(2), {});
  set_log_append_time(batch, 42);
  auto h = parse_batch_header(batch);
  EXPECT_TRUE(h.is_log_append_time());
  EXPECT_EQ(h.max_timestamp, 42);
  EXPECT_EQ(h.crc, compute_batch_crc(batch));
  for (const auto& r : decode_records(batch, 1 << 20)) EXPECT_EQ(r.timestamp, 42);
}

}  // namespace
}  // namespace fjord::protocol
