#include "protocol/codec_runtime.h"

#include <gtest/gtest.h>

namespace fjord::protocol {
namespace {

TEST(Varint, RoundTripsEdgeValues) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{63}, int64_t{-64}, int64_t{64}, int64_t{300},
                    int64_t{INT32_MAX}, int64_t{INT32_MIN}, INT64_MAX, INT64_MIN}) {
    Writer w;
    w.write_varlong(v);
    Bytes b = w.take().bytes;
    Reader r(b);
    EXPECT_EQ(r.read_varlong(), v);
    EXPECT_EQ(r.remaining(), 0u);
  }
}

TEST(Varint, ZigZagMatchesProtocolExamples) {
  // zig-zag: 0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3
  Writer w;
  w.write_varint(-1);
  w.write_varint(1);
  w.write_varint(-2);
  EXPECT_EQ(w.take().bytes, (Bytes{1, 2, 3}));
}

TEST(Varint, OverlongIsRefused) {
  Bytes b(6, 0xFF);
  Reader r(b);
  EXPECT_THROW(r.read_uvarint(), DecodeError);
}

TEST(Reader, StringLengthBeyondInputIsRefused) {
  Bytes b{0x7F, 0xFF, 'a'};
  Reader r(b);
  EXPECT_THROW(r.read_string(false), DecodeError);
}

TEST(Reader, HugeArrayCountIsRefusedBeforeAllocation) {
  Bytes b{0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3};
  Reader r(b);
  EXPECT_THROW(r.read_array_length(false, 1), DecodeError);
}

TEST(Reader, CompactNullString) {
  Bytes b{0x00};
  Reader r(b);
  EXPECT_TRUE(r.next_string_is_null(true));
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Reader, TaggedFieldsOutOfOrderAreRefused) {
  Bytes b{2, 5, 0, 3, 0};
  Reader r(b);
  TaggedFields unknown;
  EXPECT_THROW(r.read_tagged_fields([](uint32_t, Reader&) { return false; }, unknown), DecodeError);
}

TEST(Uuid, PrintsUrlSafeBase64) {
  Uuid u;
  for (size_t i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(0xF0 + i);
  EXPECT_EQ(u.to_string().size(), 22u);
  EXPECT_EQ(Uuid{}.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
}

TEST(Records, FileSlicesArePlacedAmongBytes) {
  Records r = Records::own(Bytes{1, 2, 3});
  r.append_file(FileSlice{7, 100, 50, nullptr});
  Writer w;
  w.write_int8(9);
  w.write_records(r, false);
  auto out = w.take();
  EXPECT_EQ(out.bytes.size(), 1u + 4u + 3u);
  ASSERT_EQ(out.file_slices.size(), 1u);
  EXPECT_EQ(out.file_slices[0].first, 8u);
  EXPECT_EQ(out.total_size(), 58u);
  EXPECT_EQ(out.bytes[4], 53);  // length prefix covers the file bytes too
}

}  // namespace
}  // namespace fjord::protocol
