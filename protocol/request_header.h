// Request and response headers. A request header is v1 (api key, version, correlation id, client id) or, for a
// flexible request version, v2 (the same plus tagged fields); client_id keeps its classic int16-length encoding in
// both. A response header is v0 (correlation id) or v1 for flexible versions (plus tagged fields), except that
// ApiVersions always answers with v0 so that a client can parse it before it knows which versions the broker has.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "protocol/codec_runtime.h"
#include "protocol/messages/api_catalog.h"

namespace fjord::protocol {

inline constexpr int16_t kApiVersionsKey = 18;

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  TaggedFields unknown_tagged_fields;
};

// The first eight bytes of every request, readable before the API and version are known to be supported.
struct RequestPrefix {
  int16_t api_key;
  int16_t api_version;
  int32_t correlation_id;
};
RequestPrefix peek_request_prefix(std::span<const uint8_t> frame);

bool is_flexible(const ApiSpec& spec, int16_t version);

// Reads the whole header of a request whose API and version `spec` supports.
RequestHeader decode_request_header(Reader& reader, const ApiSpec& spec);
void encode_request_header(Writer& writer, const RequestHeader& header, const ApiSpec& spec);

void encode_response_header(Writer& writer, int32_t correlation_id, int16_t api_key, bool flexible);

}  // namespace fjord::protocol
