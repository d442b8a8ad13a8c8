// Every message of every API, in every version Fjord implements: encode random contents, decode, compare. A field
// read or written in the wrong version, or a tagged field lost, fails here.
#include <gtest/gtest.h>

#include "protocol/messages/all_messages.h"
#include "protocol/messages/all_random.h"
#include "protocol/messages/api_catalog.h"

namespace fjord::protocol {
namespace {

template <typename Message>
void round_trip_every_version(const char* name) {
  for (int16_t version = Message::kMinVersion; version <= Message::kMaxVersion; ++version) {
    for (uint32_t seed = 0; seed < 40; ++seed) {
      testing::RandomValues rnd(seed * 7919 + static_cast<uint32_t>(version));
      Message original;
      testing::randomize(rnd, original, version);
      Writer w;
      original.encode(w, version);
      Bytes bytes = w.take().bytes;
      Reader r(bytes);
      Message decoded;
      decoded.decode(r, version);
      EXPECT_EQ(r.remaining(), 0u) << name << " v" << version << " seed " << seed;
      EXPECT_TRUE(decoded == original) << name << " v" << version << " seed " << seed;
      // Encoding what was decoded gives the same bytes again.
      Writer again;
      decoded.encode(again, version);
      EXPECT_EQ(again.take().bytes, bytes) << name << " v" << version << " seed " << seed;
    }
  }
}

#define FJORD_ROUND_TRIP_TEST(Request, Response)                            \
  TEST(RoundTrip, Request) { round_trip_every_version<Request>(#Request); } \
  TEST(RoundTrip, Response) { round_trip_every_version<Response>(#Response); }
FJORD_FOR_EACH_API(FJORD_ROUND_TRIP_TEST)

TEST(RoundTrip, TruncatedInputNeverDecodes) {
  // Every proper prefix of a valid encoding must be refused with DecodeError, never read past its end.
  for (int16_t version = MetadataResponse::kMinVersion; version <= MetadataResponse::kMaxVersion; ++version) {
    testing::RandomValues rnd(version);
    MetadataResponse original;
    testing::randomize(rnd, original, version);
    Writer w;
    original.encode(w, version);
    Bytes bytes = w.take().bytes;
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      Bytes prefix(bytes.begin(), bytes.begin() + static_cast<long>(cut));
      Reader r(prefix);
      MetadataResponse decoded;
      EXPECT_THROW(decoded.decode(r, version), DecodeError) << "v" << version << " cut " << cut;
    }
  }
}

}  // namespace
}  // namespace fjord::protocol
