// Hostile input: garbage, oversized frames, truncated requests, absurd counts and lengths. Each closes only the
// connection that sent it; the broker keeps serving the next normal client, and its memory does not grow.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <random>
#include <thread>

#include "protocol/messages/api_versions.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"
#include "tests/support/scale.h"

namespace fjord::testing {
namespace {

using protocol::Writer;

std::vector<uint8_t> header(int16_t api_key, int16_t version) {
  Writer w;
  w.write_int16(api_key);
  w.write_int16(version);
  w.write_int32(1);
  w.write_string("hostile", false);
  return w.take().bytes;
}

// Every kind of bad request, as raw bytes.
std::vector<std::vector<uint8_t>> hostile_inputs(std::mt19937& rng) {
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint8_t> garbage(512);
  for (auto& b : garbage) b = static_cast<uint8_t>(rng());
  out.push_back(garbage);
  out.push_back({0x7F, 0xFF, 0xFF, 0xFF, 0, 3, 0, 1});  // a 2 GiB frame
  out.push_back({0xFF, 0xFF, 0xFF, 0xFF});              // a negative size
  out.push_back({0x00, 0x00, 0x00, 0x02, 0x00, 0x03});  // too short for a header
  {
    // Claims 100 MB, sends a few bytes, then the connection ends.
    auto h = header(3, 1);
    std::vector<uint8_t> frame{0x05, 0xF5, 0xE1, 0x00};
    frame.insert(frame.end(), h.begin(), h.end());
    out.push_back(frame);
  }
  {
    // Metadata v1 claiming 2^31-1 topics in a 20-byte body.
    auto body = header(3, 1);
    for (uint8_t b : std::initializer_list<uint8_t>{0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 'a'}) body.push_back(b);
    std::vector<uint8_t> frame;
    auto n = static_cast<uint32_t>(body.size());
    for (int i = 3; i >= 0; --i) frame.push_back(static_cast<uint8_t>(n >> (8 * i)));
    frame.insert(frame.end(), body.begin(), body.end());
    out.push_back(frame);
  }
  {
    // Flexible Metadata v12 with a compact array count of 2^32-2 and a string length far past the end.
    auto body = header(3, 12);
    body.push_back(0);  // header tagged fields
    for (uint8_t b : std::initializer_list<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01}) body.push_back(b);
    std::vector<uint8_t> frame;
    auto n = static_cast<uint32_t>(body.size());
    for (int i = 3; i >= 0; --i) frame.push_back(static_cast<uint8_t>(n >> (8 * i)));
    frame.insert(frame.end(), body.begin(), body.end());
    out.push_back(frame);
  }
  {
    // Produce v7 whose records claim 1 GB.
    auto body = header(0, 7);
    Writer w;
    w.write_null_string(false);
    w.write_int16(-1);
    w.write_int32(1000);
    w.write_int32(1);
    w.write_string("victim", false);
    w.write_int32(1);
    w.write_int32(0);
    w.write_int32(1 << 30);
    auto rest = w.take().bytes;
    body.insert(body.end(), rest.begin(), rest.end());
    std::vector<uint8_t> frame;
    auto n = static_cast<uint32_t>(body.size());
    for (int i = 3; i >= 0; --i) frame.push_back(static_cast<uint8_t>(n >> (8 * i)));
    frame.insert(frame.end(), body.begin(), body.end());
    out.push_back(frame);
  }
  return out;
}

bool normal_client_works(const BrokerProcess& broker) {
  Admin admin(broker.bootstrap());
  auto topics = admin.list_topics();
  return std::find(topics.begin(), topics.end(), "victim") != topics.end();
}

TEST(HostileInput, EachBadRequestClosesOnlyItsConnection) {
  BrokerProcess broker;
  broker.start();
  Admin(broker.bootstrap()).create_topic("victim", 1);
  // A well-behaved connection open through it all.
  RawClient bystander(broker.port());
  std::mt19937 rng(1);
  for (const auto& input : hostile_inputs(rng)) {
    RawClient attacker(broker.port());
    attacker.send_bytes(input);
    if (input.size() > 4 && input[0] == 0x05) {
      // The truncated request: the client goes away; nothing is left waiting for its bytes.
      continue;
    }
    EXPECT_TRUE(attacker.closed_by_broker()) << "input of " << input.size() << " bytes was not refused";
    ASSERT_TRUE(normal_client_works(broker)) << "a normal client failed after input of " << input.size() << " bytes";
  }
  bystander.send(protocol::MetadataRequest{}, 1, 5);
  EXPECT_TRUE(bystander.receive()) << "an unrelated connection was disturbed";
  EXPECT_GT(broker.metric("fjord_connections_closed_bad_input_total"), 5);
}

TEST(HostileInput, MemoryDoesNotGrowUnderABarrage) {
#ifdef FJORD_SANITIZED
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine, so resident memory says nothing here; the "
                  "release run checks it, and protocol/tests/allocation_test.cc bounds allocation per request";
#endif
  BrokerProcess broker;
  broker.start();
  Admin(broker.bootstrap()).create_topic("victim", 1);
  std::mt19937 rng(2);
  auto inputs = hostile_inputs(rng);
  auto barrage = [&](int rounds) {
    for (int round = 0; round < rounds; ++round) {
      for (const auto& input : inputs) {
        RawClient attacker(broker.port());
        attacker.send_bytes(input);
        attacker.closed_by_broker(std::chrono::milliseconds(200));
      }
    }
  };
  barrage(20);  // warm up allocator pools
  long before = broker.resident_kb();
  barrage(static_cast<int>(scaled(200, 1000)));
  long after = broker.resident_kb();
  std::printf("resident memory: %ld kB before the barrage, %ld kB after\n", before, after);
  EXPECT_LT(after - before, 8 * 1024) << "resident memory grew from " << before << " kB to " << after << " kB";
  EXPECT_TRUE(normal_client_works(broker));
}

TEST(IdleConnections, CostAFewKilobytesEach) {
#ifdef FJORD_SANITIZED
  GTEST_SKIP() << "resident memory is not meaningful under AddressSanitizer";
#endif
  // Each connection needs a descriptor here and one in the broker, which inherits this limit.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  const int count = static_cast<int>(std::min<rlim_t>(2000, files.rlim_cur / 3));
  BrokerProcess broker;
  broker.start();
  long before = broker.resident_kb();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<RawClient>(broker.port()));
    clients.back()->send(protocol::ApiVersionsRequest{}, 0, i);
    ASSERT_TRUE(clients.back()->receive()) << "connection " << i;
  }
  long after = broker.resident_kb();
  std::printf("%d idle connections: resident memory %ld kB -> %ld kB\n", count, before, after);
  EXPECT_LT((after - before) * 1024 / count, 8 * 1024) << "more than 8 KiB per idle connection";
}

// connections.max.idle.ms: a connection silent that long is closed, one that keeps asking is not, and neither is
// one whose long poll outlasts the limit (a request in progress is not idleness).
TEST(IdleConnections, AreClosedAfterConnectionsMaxIdleMsButNotWhileARequestWaits) {
  BrokerProcess broker({"--set", "connections.max.idle.ms=1000"});
  broker.start();
  ASSERT_EQ(Admin(broker.bootstrap()).create_topic("quiet", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  RawClient silent(broker.port());
  RawClient chatty(broker.port());
  RawClient polling(broker.port());
  const auto started = std::chrono::steady_clock::now();

  polling.send(single_partition_fetch("quiet", 0, 0, 2500), 11, 1);

  for (int i = 0; i < 8; ++i) {
    chatty.send(protocol::ApiVersionsRequest{}, 0, i);
    ASSERT_TRUE(chatty.receive(std::chrono::seconds(2))) << "request " << i << " of a client that keeps asking";
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  // 2.4 s in: the silent one is gone, the long poll is still waiting and then answered.
  EXPECT_FALSE(silent.receive(std::chrono::milliseconds(100)).has_value());
  EXPECT_TRUE(silent.closed_by_broker());
  EXPECT_TRUE(polling.receive(std::chrono::seconds(3)).has_value()) << "the long poll was cut off";
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2400));
  // And once the poll was answered, that connection too is idle and closed.
  EXPECT_FALSE(polling.receive(std::chrono::seconds(3)).has_value());
  EXPECT_TRUE(polling.closed_by_broker());
}

}  // namespace
}  // namespace fjord::testing
