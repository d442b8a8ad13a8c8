// Any bytes as a request frame, decoded the way the broker's connection decodes one: header first, then the
// body of whichever API and version the header names, in every version of every API with a spec. Decoding may
// refuse with DecodeError; it must never crash, read out of bounds or allocate beyond what the input holds.
#include <cstdint>
#include <vector>

#include "protocol/messages/all_messages.h"
#include "protocol/messages/api_catalog.h"
#include "protocol/request_header.h"

namespace {

using namespace fjord::protocol;

template <typename Request, typename Response>
void decode_both(int16_t key, int16_t version, std::span<uint8_t> body) {
  if (key != Request::kApiKey) return;
  try {
    Reader r(body);
    Request request;
    request.decode(r, version);
    // What decodes must encode again.
    Writer w;
    request.encode(w, version);
  } catch (const DecodeError&) {
  }
  try {
    Reader r(body);
    Response response;
    response.decode(r, version);
  } catch (const DecodeError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  std::vector<uint8_t> frame(data, data + size);
  auto prefix = peek_request_prefix(frame);
  const ApiSpec* spec = find_api_spec(prefix.api_key);
  if (!spec) {
    // Steer unknown keys onto real APIs so every decoder gets fuzzed: key and version picked from the bytes.
    spec = &kApiSpecs[static_cast<uint16_t>(prefix.api_key) % kApiSpecs.size()];
    int span = spec->max_version - spec->min_version + 1;
    prefix.api_version = static_cast<int16_t>(spec->min_version + static_cast<uint16_t>(prefix.api_version) % span);
    frame[0] = static_cast<uint8_t>(spec->key >> 8);
    frame[1] = static_cast<uint8_t>(spec->key);
    frame[2] = static_cast<uint8_t>(prefix.api_version >> 8);
    frame[3] = static_cast<uint8_t>(prefix.api_version);
  }
  if (prefix.api_version < spec->min_version || prefix.api_version > spec->max_version) return 0;
  Reader reader(frame);
  try {
    decode_request_header(reader, *spec);
  } catch (const DecodeError&) {
    return 0;
  }
  auto body = std::span<uint8_t>(frame).subspan(reader.position());
#define FJORD_DECODE(Request, Response) decode_both<Request, Response>(spec->key, prefix.api_version, body);
  FJORD_FOR_EACH_API(FJORD_DECODE)
#undef FJORD_DECODE
  return 0;
}
