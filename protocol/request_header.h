// Request and response headers. A request header is v1 (api key, version, correlation id, client id) or, for a
// flexible request version, v2 (the same plus tagged fields); client_id keeps its classic int16-length encoding in
// both. A response header is v0 (correlation id) or v1 for flexible versions (plus tagged fields), except that
// ApiVersions always answers with v0 so that a client can parse it before it knows which versions the broker has.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

// A request as a client sends it: size, header, body.
template <typename Request>
std::vector<uint8_t> encode_request_frame(const Request& request, int16_t version, int32_t correlation_id,
                                          const std::string& client_id) {
  Writer writer;
  RequestHeader header;
  header.api_key = Request::kApiKey;
  header.api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = client_id;
  encode_request_header(writer, header, *find_api_spec(Request::kApiKey));
  request.encode(writer, version);
  auto body = writer.take().bytes;
  std::vector<uint8_t> frame(4 + body.size());
  const auto size = static_cast<uint32_t>(body.size());
  for (size_t i = 0; i < 4; ++i) frame[i] = static_cast<uint8_t>(size >> (24 - 8 * i));
  std::copy(body.begin(), body.end(), frame.begin() + 4);
  return frame;
}

// A response as a client reads it (the frame without its size): the correlation id must be `correlation_id`, the
// header's tagged fields (flexible versions) are skipped. Throws DecodeError.
template <typename Response>
Response decode_response_frame(std::span<uint8_t> frame, int16_t version, int32_t correlation_id) {
  Reader reader(frame);
  if (reader.read_int32() != correlation_id) throw DecodeError("response out of order");
  if (is_flexible(*find_api_spec(Response::kApiKey), version)) {
    TaggedFields ignored;
    reader.read_tagged_fields([](uint32_t, Reader&) { return false; }, ignored);
  }
  Response response;
  response.decode(reader, version);
  return response;
}

}  // namespace fjord::protocol
