// The four codecs a record batch may use (attributes bits 0-2). The broker stores batches as sent; it decompresses
// only to validate records and to find a record by timestamp, and compresses only for tools and tests.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "protocol/codec_runtime.h"

namespace fjord::protocol {

enum class Compression : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

std::string_view compression_name(Compression c);
// "none", "gzip", "snappy", "lz4", "zstd"; returns false for anything else.
bool parse_compression(std::string_view name, Compression& out);

// Decompresses `input`. Throws DecodeError when the input is not valid for the codec or would decompress to more
// than `max_output` bytes (a batch that inflates without bound is refused, not followed).
Bytes decompress(Compression codec, std::span<const uint8_t> input, size_t max_output);

Bytes compress(Compression codec, std::span<const uint8_t> input);

}  // namespace fjord::protocol
