// Requests captured from real clients (protocol/tests/fixtures/capture.py): each must decode with Fjord's codec
// for its API and version and encode back to exactly the bytes the client sent. A field in the wrong place, a
// wrong type or a lost tagged field in a spec fails here, for the versions real clients negotiate.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "protocol/messages/all_messages.h"
#include "protocol/messages/api_catalog.h"
#include "protocol/request_header.h"

namespace fjord::protocol {
namespace {

struct Fixture {
  std::string name;
  Bytes frame;
};

std::vector<Fixture> load_fixtures() {
  std::vector<Fixture> out;
  std::string directory = std::string(FJORD_PROTOCOL_FIXTURES) + "/requests";
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() != ".bin") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    Bytes frame((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    out.push_back({entry.path().filename().string(), std::move(frame)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

template <typename Request>
bool reencode_if(int16_t key, int16_t version, std::span<uint8_t> body, Bytes& reencoded) {
  if (key != Request::kApiKey) return false;
  Reader r(body);
  Request request;
  request.decode(r, version);
  EXPECT_EQ(r.remaining(), 0u) << "bytes left after decoding";
  Writer w;
  request.encode(w, version);
  reencoded = w.take().bytes;
  return true;
}

TEST(Golden, ClientRequestsDecodeAndReencodeByteForByte) {
  auto fixtures = load_fixtures();
  ASSERT_GE(fixtures.size(), 20u) << "the captured fixtures are missing";
  for (auto& fixture : fixtures) {
    SCOPED_TRACE(fixture.name);
    auto prefix = peek_request_prefix(fixture.frame);
    const ApiSpec* spec = find_api_spec(prefix.api_key);
    ASSERT_NE(spec, nullptr);
    Reader reader(fixture.frame);
    decode_request_header(reader, *spec);
    auto body = std::span<uint8_t>(fixture.frame).subspan(reader.position());
    Bytes reencoded;
    bool known = false;
#define FJORD_REENCODE(Request, Response) \
  known = known || reencode_if<Request>(prefix.api_key, prefix.api_version, body, reencoded);
    FJORD_FOR_EACH_API(FJORD_REENCODE)
#undef FJORD_REENCODE
    ASSERT_TRUE(known);
    EXPECT_EQ(reencoded, Bytes(body.begin(), body.end()));
  }
}

}  // namespace
}  // namespace fjord::protocol
