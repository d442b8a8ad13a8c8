#include "protocol/request_header.h"

namespace fjord::protocol {

RequestPrefix peek_request_prefix(std::span<const uint8_t> frame) {
  Reader r(std::span<uint8_t>(const_cast<uint8_t*>(frame.data()), frame.size()));
  RequestPrefix p{};
  p.api_key = r.read_int16();
  p.api_version = r.read_int16();
  p.correlation_id = r.read_int32();
  return p;
}

bool is_flexible(const ApiSpec& spec, int16_t version) {
  return spec.first_flexible_version >= 0 && version >= spec.first_flexible_version;
}

RequestHeader decode_request_header(Reader& reader, const ApiSpec& spec) {
  RequestHeader h;
  h.api_key = reader.read_int16();
  h.api_version = reader.read_int16();
  h.correlation_id = reader.read_int32();
  if (reader.next_string_is_null(false)) {
    h.client_id.reset();
  } else {
    h.client_id = reader.read_string(false);
  }
  if (is_flexible(spec, h.api_version)) {
    reader.read_tagged_fields([](uint32_t, Reader&) { return false; }, h.unknown_tagged_fields);
  }
  return h;
}

void encode_request_header(Writer& writer, const RequestHeader& header, const ApiSpec& spec) {
  writer.write_int16(header.api_key);
  writer.write_int16(header.api_version);
  writer.write_int32(header.correlation_id);
  if (header.client_id) {
    writer.write_string(*header.client_id, false);
  } else {
    writer.write_null_string(false);
  }
  if (is_flexible(spec, header.api_version)) {
    TaggedFieldWriter tags(header.unknown_tagged_fields);
    tags.finish(writer);
  }
}

void encode_response_header(Writer& writer, int32_t correlation_id, int16_t api_key, bool flexible) {
  writer.write_int32(correlation_id);
  if (flexible && api_key != kApiVersionsKey) writer.write_uvarint(0);  // no tagged fields
}

}  // namespace fjord::protocol
