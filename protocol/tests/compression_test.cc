#include "protocol/compression.h"

#include <gtest/gtest.h>

namespace fjord::protocol {
namespace {

TEST(Compression, ZipBombIsRefused) {
  Bytes zeros(10 * 1024 * 1024, 0);
  for (auto codec : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    Bytes packed = compress(codec, zeros);
    EXPECT_THROW(decompress(codec, packed, 1024 * 1024), DecodeError) << compression_name(codec);
    EXPECT_EQ(decompress(codec, packed, zeros.size()), zeros) << compression_name(codec);
  }
}

TEST(Compression, GarbageIsRefused) {
  Bytes garbage{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
  for (auto codec : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    EXPECT_THROW(decompress(codec, garbage, 1 << 20), DecodeError) << compression_name(codec);
  }
}

TEST(Compression, SnappyJavaFramingIsRead) {
  Bytes plain(5000, 'x');
  Bytes raw = compress(Compression::kSnappy, plain);
  Bytes framed{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  auto n = static_cast<uint32_t>(raw.size());
  for (int i = 0; i < 4; ++i) framed.push_back(static_cast<uint8_t>(n >> (24 - 8 * i)));
  framed.insert(framed.end(), raw.begin(), raw.end());
  EXPECT_EQ(decompress(Compression::kSnappy, framed, 1 << 20), plain);
}

}  // namespace
}  // namespace fjord::protocol
