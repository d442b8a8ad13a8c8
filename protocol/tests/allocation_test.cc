// Hostile input must cost no more memory than it carries: a request that claims 2^31 elements or a 2 GiB
// string allocates nothing for the claim. Counted with a replaced global operator new, not by resident memory.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"

namespace {
std::atomic<size_t> g_allocated{0};
std::atomic<bool> g_counting{false};
}  // namespace

#ifndef FJORD_SANITIZED  // the sanitizers replace operator new themselves
#if defined(__GNUC__) && !defined(__clang__)
// The replacement pairs malloc with free on purpose; GCC cannot see that operator new is malloc here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t size) {
  if (g_counting) g_allocated += size;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace fjord::protocol {
namespace {

template <typename Message>
size_t bytes_allocated_decoding(std::vector<uint8_t> input, int16_t version) {
  g_allocated = 0;
  g_counting = true;
  try {
    Reader r(input);
    Message m;
    m.decode(r, version);
  } catch (const DecodeError&) {
  }
  g_counting = false;
  return g_allocated;
}

class Allocation : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef FJORD_SANITIZED
    GTEST_SKIP() << "allocation is counted in the build without sanitizers";
#endif
  }
};

TEST_F(Allocation, ClaimedArrayCountAllocatesNothingForTheClaim) {
  // Metadata v1: topics array of 2^31-1 elements, then a few bytes.
  std::vector<uint8_t> input{0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 'a', 0, 0};
  EXPECT_LT(bytes_allocated_decoding<MetadataRequest>(input, 1), 1024u);
  // Flexible v12: compact array count of 2^32-2.
  std::vector<uint8_t> compact{0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, 0x00};
  EXPECT_LT(bytes_allocated_decoding<MetadataRequest>(compact, 12), 1024u);
}

TEST_F(Allocation, ClaimedStringAndBytesLengthsAllocateNothing) {
  // Produce v7: transactional_id null, acks, timeout, one topic whose name claims 32767 bytes.
  std::vector<uint8_t> name{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 0xFF, 'x'};
  EXPECT_LT(bytes_allocated_decoding<ProduceRequest>(name, 7), 1024u);
  // ... and records claiming 1 GiB.
  std::vector<uint8_t> records{0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0,    0, 0, 1, 0, 1, 't',
                               0,    0,    0,    1,    0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3};
  EXPECT_LT(bytes_allocated_decoding<ProduceRequest>(records, 7), 1024u);
}

TEST_F(Allocation, ValidRequestsAllocateInProportionToTheirSize) {
  MetadataRequest request;
  request.topics.emplace();
  for (int i = 0; i < 1000; ++i) request.topics->push_back({{}, "topic-" + std::to_string(i), {}});
  Writer w;
  request.encode(w, 9);
  auto bytes = w.take().bytes;
  size_t used = bytes_allocated_decoding<MetadataRequest>(bytes, 9);
  EXPECT_GT(used, 0u);
  EXPECT_LT(used, bytes.size() * 64) << "decoding allocated far more than the request holds";
}

TEST_F(Allocation, RecordCountClaimAllocatesNothing) {
  Record r;
  r.value = Bytes{1};
  Bytes batch = build_batch({r}, {});
  batch[57] = 0x7F;  // record_count = ~2^31
  g_allocated = 0;
  g_counting = true;
  auto result = validate_batches(batch, {});
  g_counting = false;
  EXPECT_NE(result.error, ErrorCode::kNone);
  EXPECT_LT(g_allocated.load(), 4096u);
}

}  // namespace
}  // namespace fjord::protocol
