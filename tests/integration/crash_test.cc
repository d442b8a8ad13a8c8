// The broker SIGKILLed in the middle of an acks=all produce stream and restarted: every acknowledged record is
// there, at the offset it was acknowledged with. And a restart, clean or not, keeps topics, configs and offsets,
// with ListOffsets (earliest, latest, by timestamp) right before and after.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/scale.h"

namespace fjord::testing {
namespace {

TEST(Crash, KillDuringAcksAllStreamLosesNoAcknowledgedRecord) {
  BrokerProcess broker;
  broker.start();
  Admin(broker.bootstrap()).create_topic("ledger", 2);
  const int rounds = static_cast<int>(scaled(3, 20));
  const uint64_t seed = 9;
  std::map<int64_t, Delivery> acknowledged;
  int64_t next_index = 0;
  size_t in_flight_at_kill = 0;
  for (int round = 0; round < rounds; ++round) {
    TestProducer producer(
        broker.bootstrap(),
        {{"acks", "all"}, {"linger.ms", "1"}, {"message.timeout.ms", "5000"}, {"reconnect.backoff.max.ms", "100"}});
    const size_t acked_before = acknowledged.size();
    std::atomic<bool> stop{false};
    std::thread killer([&] {
      // Kill once this round has had at least 2000 acknowledgements, while writes are still in flight.
      while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      broker.kill();
    });
    while (true) {
      producer.produce("ledger", static_cast<int32_t>(next_index % 2), seed, next_index);
      ++next_index;
      producer.handle().poll(0);
      if (producer.deliveries.size() >= 2000) break;
    }
    stop = true;
    killer.join();
    producer.flush(6000);  // whatever was in flight now fails
    for (const auto& [index, d] : producer.deliveries) {
      if (d.error == RdKafka::ERR_NO_ERROR) {
        acknowledged[index] = d;
      } else {
        ++in_flight_at_kill;
      }
    }
    ASSERT_GT(acknowledged.size(), acked_before);
    broker.start();
  }

  std::map<std::pair<int32_t, int64_t>, ConsumedRecord> stored;
  for (auto& r : consume(broker.bootstrap(), "ledger", {0, 1}, RdKafka::Topic::OFFSET_BEGINNING,
                         static_cast<size_t>(next_index), 30000)) {
    stored[{r.partition, r.offset}] = r;
  }
  for (const auto& [index, d] : acknowledged) {
    auto it = stored.find({d.partition, d.offset});
    ASSERT_NE(it, stored.end()) << "acknowledged record " << index << " at " << d.partition << "/" << d.offset
                                << " is gone";
    auto expected = generate_record(seed, index);
    ASSERT_EQ(it->second.value, expected.value) << "another record sits at record " << index << "'s offset";
    ASSERT_EQ(it->second.key, expected.key);
  }
  EXPECT_GT(in_flight_at_kill, 0u) << "no kill landed while writes were in flight; the test proved nothing";
}

class RestartTest : public ::testing::TestWithParam<bool> {};

TEST_P(RestartTest, KeepsTopicsConfigsOffsetsAndTimestamps) {
  const bool clean = GetParam();
  BrokerProcess broker;
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("kept", 2, {{"retention.ms", "86400000"}, {"segment.bytes", "1048576"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before_second_half = 0;
  {
    TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < 3000; ++i) producer.produce("kept", 0, 11, i);
    ASSERT_TRUE(producer.flush(20000));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    before_second_half = now_ms();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (int i = 3000; i < 6000; ++i) producer.produce("kept", 0, 11, i);
    ASSERT_TRUE(producer.flush(20000));
  }
  auto check_offsets = [&](const char* when) {
    std::string error;
    std::unique_ptr<RdKafka::Consumer> consumer(
        RdKafka::Consumer::create(client_conf(broker.bootstrap()).get(), error));
    int64_t low = -1, high = -1;
    ASSERT_EQ(consumer->query_watermark_offsets("kept", 0, &low, &high, 10000), RdKafka::ERR_NO_ERROR) << when;
    EXPECT_EQ(low, 0) << when;
    EXPECT_EQ(high, 6000) << when;
    std::vector<RdKafka::TopicPartition*> wanted = {RdKafka::TopicPartition::create("kept", 0, before_second_half)};
    ASSERT_EQ(consumer->offsetsForTimes(wanted, 10000), RdKafka::ERR_NO_ERROR) << when;
    EXPECT_EQ(wanted[0]->offset(), 3000) << when << ": first record at or after the timestamp";
    RdKafka::TopicPartition::destroy(wanted);
    wanted = {RdKafka::TopicPartition::create("kept", 0, now_ms() + 3600 * 1000)};
    consumer->offsetsForTimes(wanted, 10000);
    EXPECT_EQ(wanted[0]->offset(), -1) << when << ": no record that late";
    RdKafka::TopicPartition::destroy(wanted);
    ASSERT_EQ(consumer->query_watermark_offsets("kept", 1, &low, &high, 10000), RdKafka::ERR_NO_ERROR);
    EXPECT_EQ(high, 0) << when;
  };
  check_offsets("before restart");
  if (clean) {
    EXPECT_EQ(broker.stop(), 0);
  } else {
    broker.kill();
  }
  broker.start();
  check_offsets("after restart");
  Admin after(broker.bootstrap());
  EXPECT_EQ(after.partition_count("kept"), 2);
  auto configs = after.describe_topic_configs("kept");
  EXPECT_EQ(configs["retention.ms"].first, "86400000");
  EXPECT_EQ(configs["segment.bytes"].first, "1048576");
  auto records = consume(broker.bootstrap(), "kept", {0}, RdKafka::Topic::OFFSET_BEGINNING, 6000, 30000);
  ASSERT_EQ(records.size(), 6000u);
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(records[i].offset, static_cast<int64_t>(i));
    ASSERT_EQ(records[i].value, generate_record(11, static_cast<int64_t>(i)).value);
  }
  // Writing continues at the right offset.
  TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
  producer.produce("kept", 0, 11, 6000);
  ASSERT_TRUE(producer.flush(10000));
  EXPECT_EQ(producer.deliveries.at(6000).offset, 6000);
}

INSTANTIATE_TEST_SUITE_P(CleanAndKilled, RestartTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? std::string("Clean") : std::string("Killed"); });

}  // namespace
}  // namespace fjord::testing
