// A long poll registers a waiter on every partition it asks for. Over months of uptime, every one of them must go
// when the poll ends, however it ends: timed out, answered because one partition got data, or abandoned because
// the client's connection closed mid-poll. The broker's live-waiter gauge (fjord_fetch_waiters) says how many
// there are.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "protocol/messages/fetch.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"

namespace fjord::testing {
namespace {

using namespace protocol;
using namespace std::chrono_literals;

constexpr int kPartitions = 5;
constexpr int16_t kFetchVersion = 12;  // topic names, which is what this test knows

class FetchWaiters : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker = new BrokerProcess();
    broker->start();
    Admin(broker->bootstrap()).create_topic("idle", kPartitions);
  }
  static void TearDownTestSuite() { delete broker; }

  static FetchRequest long_poll(int32_t max_wait_ms) {
    FetchRequest request;
    request.replica_id = -1;
    request.max_wait_ms = max_wait_ms;
    request.min_bytes = 1;
    request.max_bytes = 1 << 20;
    auto& topic = request.topics.emplace_back();
    topic.topic = "idle";
    for (int p = 0; p < kPartitions; ++p) {
      auto& wanted = topic.partitions.emplace_back();
      wanted.partition = p;
      wanted.fetch_offset = broker_end(p);
      wanted.partition_max_bytes = 1 << 20;
    }
    return request;
  }
  // Each partition's end, so that the poll waits for new data (kept by the test as it produces).
  static int64_t broker_end(int p) { return ends[p]; }

  // Waits until the gauge reads `expected`; returns the last reading.
  static double waiters_become(double expected, std::chrono::milliseconds within = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    double value = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      value = broker->metric("fjord_fetch_waiters");
      if (value == expected) return value;
      std::this_thread::sleep_for(20ms);
    }
    return value;
  }

  static BrokerProcess* broker;
  static int64_t ends[kPartitions];
};
BrokerProcess* FetchWaiters::broker = nullptr;
int64_t FetchWaiters::ends[kPartitions] = {};

TEST_F(FetchWaiters, ALongPollThatTimesOutTakesItsWaitersAlong) {
  RawClient client(broker->port());
  client.send(long_poll(1500), kFetchVersion, 1);
  EXPECT_EQ(waiters_become(kPartitions), kPartitions) << "one waiter per partition while the poll waits";
  auto frame = client.receive(5s);
  ASSERT_TRUE(frame) << "the poll was not answered at its deadline";
  EXPECT_EQ(waiters_become(0), 0) << "a timed-out poll left waiters behind";
}

TEST_F(FetchWaiters, ALongPollAnsweredByOnePartitionTakesTheOthersAlong) {
  RawClient client(broker->port());
  client.send(long_poll(60'000), kFetchVersion, 2);
  EXPECT_EQ(waiters_become(kPartitions), kPartitions);
  {
    TestProducer producer(broker->bootstrap(), {{"acks", "all"}});
    producer.produce("idle", 3, 1, 1);
    ASSERT_TRUE(producer.flush(10'000));
  }
  ++ends[3];
  auto frame = client.receive(10s);
  ASSERT_TRUE(frame) << "new data did not end the poll";
  int32_t id = 0;
  auto response = RawClient::decode<FetchResponse>(*frame, kFetchVersion, true, &id);
  EXPECT_EQ(id, 2);
  ASSERT_EQ(response.responses.size(), 1u);
  EXPECT_EQ(response.responses[0].partitions.size(), static_cast<size_t>(kPartitions));
  EXPECT_EQ(waiters_become(0), 0) << "the partitions that got nothing kept their waiters";
}

TEST_F(FetchWaiters, ALongPollWhoseConnectionClosesTakesItsWaitersAlong) {
  {
    RawClient client(broker->port());
    client.send(long_poll(60'000), kFetchVersion, 3);
    EXPECT_EQ(waiters_become(kPartitions), kPartitions);
  }  // the client goes away mid-poll
  EXPECT_EQ(waiters_become(0), 0) << "a poll whose client left kept its waiters until its deadline (a minute)";
}

TEST_F(FetchWaiters, ManyShortPollsLeaveNothingBehind) {
  // The pattern that grew a broker's memory without bound: consumers polling idle partitions every few ms.
  RawClient client(broker->port());
  for (int i = 0; i < 200; ++i) {
    client.send(long_poll(5), kFetchVersion, 100 + i);
    ASSERT_TRUE(client.receive(5s));
  }
  EXPECT_EQ(waiters_become(0), 0);
}

}  // namespace
}  // namespace fjord::testing
