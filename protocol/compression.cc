#include "protocol/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>

namespace fjord::protocol {
namespace {

// Java producers frame snappy the way snappy-java's stream does: a magic header, then length-prefixed raw blocks.
constexpr uint8_t kSnappyJavaMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

void check_growth(size_t have, size_t max_output) {
  if (have > max_output) throw DecodeError("compressed batch inflates past " + std::to_string(max_output) + " bytes");
}

Bytes gunzip(std::span<const uint8_t> input, size_t max_output) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw DecodeError("zlib init failed");
  std::unique_ptr<z_stream, decltype(&inflateEnd)> guard(&zs, inflateEnd);
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  Bytes out;
  uint8_t chunk[64 * 1024];
  for (;;) {
    zs.next_out = chunk;
    zs.avail_out = sizeof(chunk);
    int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) throw DecodeError("invalid gzip data");
    out.insert(out.end(), chunk, chunk + (sizeof(chunk) - zs.avail_out));
    check_growth(out.size(), max_output);
    if (rc == Z_STREAM_END) return out;
    if (zs.avail_in == 0 && zs.avail_out != 0) throw DecodeError("truncated gzip data");
  }
}

void unsnappy_block(std::span<const uint8_t> block, Bytes& out, size_t max_output) {
  size_t length = 0;
  auto* p = reinterpret_cast<const char*>(block.data());
  if (!snappy::GetUncompressedLength(p, block.size(), &length)) throw DecodeError("invalid snappy data");
  check_growth(out.size() + length, max_output);
  size_t at = out.size();
  out.resize(at + length);
  if (!snappy::RawUncompress(p, block.size(), reinterpret_cast<char*>(out.data() + at))) {
    throw DecodeError("invalid snappy data");
  }
}

Bytes unsnappy(std::span<const uint8_t> input, size_t max_output) {
  Bytes out;
  if (input.size() >= 16 && std::memcmp(input.data(), kSnappyJavaMagic, 8) == 0) {
    Reader r(std::span<uint8_t>(const_cast<uint8_t*>(input.data()), input.size()));
    r.read_span(16);  // magic, version, compatible version
    while (r.remaining() > 0) {
      int32_t n = r.read_int32();
      if (n < 0) throw DecodeError("invalid snappy block length");
      unsnappy_block(r.read_span(static_cast<size_t>(n)), out, max_output);
    }
    return out;
  }
  unsnappy_block(input, out, max_output);
  return out;
}

Bytes unlz4(std::span<const uint8_t> input, size_t max_output) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) throw DecodeError("lz4 init failed");
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> guard(ctx, LZ4F_freeDecompressionContext);
  Bytes out;
  uint8_t chunk[64 * 1024];
  const uint8_t* in = input.data();
  size_t left = input.size();
  // LZ4F_decompress returns 0 once a whole frame is decoded; it may still emit output after the input is used up.
  for (;;) {
    size_t out_size = sizeof(chunk);
    size_t in_size = left;
    size_t hint = LZ4F_decompress(ctx, chunk, &out_size, in, &in_size, nullptr);
    if (LZ4F_isError(hint)) throw DecodeError("invalid lz4 data");
    out.insert(out.end(), chunk, chunk + out_size);
    check_growth(out.size(), max_output);
    in += in_size;
    left -= in_size;
    if (hint == 0) break;
    if (in_size == 0 && out_size == 0) throw DecodeError("truncated lz4 frame");
  }
  return out;
}

Bytes unzstd(std::span<const uint8_t> input, size_t max_output) {
  std::unique_ptr<ZSTD_DStream, decltype(&ZSTD_freeDStream)> ds(ZSTD_createDStream(), ZSTD_freeDStream);
  if (!ds) throw DecodeError("zstd init failed");
  ZSTD_initDStream(ds.get());
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  Bytes out;
  uint8_t chunk[64 * 1024];
  size_t rc = 1;
  while (in.pos < in.size || rc != 0) {
    ZSTD_outBuffer ob{chunk, sizeof(chunk), 0};
    size_t before = in.pos;
    rc = ZSTD_decompressStream(ds.get(), &ob, &in);
    if (ZSTD_isError(rc)) throw DecodeError("invalid zstd data");
    out.insert(out.end(), chunk, chunk + ob.pos);
    check_growth(out.size(), max_output);
    if (ob.pos == 0 && in.pos == before) {
      if (rc != 0) throw DecodeError("truncated zstd frame");
      break;
    }
  }
  return out;
}

}  // namespace

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

bool parse_compression(std::string_view name, Compression& out) {
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    if (compression_name(c) == name) {
      out = c;
      return true;
    }
  }
  return false;
}

Bytes decompress(Compression codec, std::span<const uint8_t> input, size_t max_output) {
  switch (codec) {
    case Compression::kNone:
      check_growth(input.size(), max_output);
      return Bytes(input.begin(), input.end());
    case Compression::kGzip:
      return gunzip(input, max_output);
    case Compression::kSnappy:
      return unsnappy(input, max_output);
    case Compression::kLz4:
      return unlz4(input, max_output);
    case Compression::kZstd:
      return unzstd(input, max_output);
  }
  throw DecodeError("unknown compression codec");
}

Bytes compress(Compression codec, std::span<const uint8_t> input) {
  Bytes out;
  switch (codec) {
    case Compression::kNone:
      return Bytes(input.begin(), input.end());
    case Compression::kGzip: {
      z_stream zs{};
      if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw EncodeError("zlib init failed");
      }
      out.resize(deflateBound(&zs, static_cast<uLong>(input.size())) + 32);
      zs.next_in = const_cast<Bytef*>(input.data());
      zs.avail_in = static_cast<uInt>(input.size());
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&zs, Z_FINISH);
      out.resize(zs.total_out);
      deflateEnd(&zs);
      if (rc != Z_STREAM_END) throw EncodeError("gzip compression failed");
      return out;
    }
    case Compression::kSnappy: {
      std::string s;
      snappy::Compress(reinterpret_cast<const char*>(input.data()), input.size(), &s);
      return Bytes(s.begin(), s.end());
    }
    case Compression::kLz4: {
      out.resize(LZ4F_compressFrameBound(input.size(), nullptr));
      size_t n = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), nullptr);
      if (LZ4F_isError(n)) throw EncodeError("lz4 compression failed");
      out.resize(n);
      return out;
    }
    case Compression::kZstd: {
      out.resize(ZSTD_compressBound(input.size()));
      size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), 3);
      if (ZSTD_isError(n)) throw EncodeError("zstd compression failed");
      out.resize(n);
      return out;
    }
  }
  throw EncodeError("unknown compression codec");
}

}  // namespace fjord::protocol
