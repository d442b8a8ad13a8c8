// Records of mixed sizes, keys and headers, in every codec, produced with acks=all by librdkafka and consumed
// back byte-identical and in order; fetch behaviour that clients depend on (long poll, zero copy, group commit).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/scale.h"

namespace fjord::testing {
namespace {

class EveryCodec : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    broker = new BrokerProcess();
    broker->start();
  }
  static void TearDownTestSuite() {
    delete broker;
    broker = nullptr;
  }
  static BrokerProcess* broker;
};
BrokerProcess* EveryCodec::broker = nullptr;

TEST_P(EveryCodec, RecordsComeBackByteIdenticalAndInOrder) {
  const std::string codec = GetParam();
  const std::string topic = "codec-" + codec;
  const int partitions = 3;
  const long count = scaled(20'000, 1'000'000);
  const uint64_t seed = 42;
  Admin admin(broker->bootstrap());
  ASSERT_EQ(admin.create_topic(topic, partitions), RD_KAFKA_RESP_ERR_NO_ERROR);
  {
    TestProducer producer(
        broker->bootstrap(),
        {{"acks", "all"}, {"compression.codec", codec}, {"linger.ms", "5"}, {"queue.buffering.max.kbytes", "65536"}});
    for (long i = 0; i < count; ++i) producer.produce(topic, static_cast<int32_t>(i % partitions), seed, i);
    ASSERT_TRUE(producer.flush(120000));
    ASSERT_EQ(static_cast<long>(producer.deliveries.size()), count);
    for (const auto& [index, d] : producer.deliveries) {
      ASSERT_EQ(d.error, RdKafka::ERR_NO_ERROR) << "record " << index;
      ASSERT_EQ(d.offset, index / partitions) << "record " << index << " acknowledged at another offset";
    }
  }
  auto records = consume(broker->bootstrap(), topic, {0, 1, 2}, RdKafka::Topic::OFFSET_BEGINNING,
                         static_cast<size_t>(count), 180000);
  ASSERT_EQ(static_cast<long>(records.size()), count);
  std::vector<int64_t> next_offset(partitions, 0);
  for (const auto& r : records) {
    ASSERT_EQ(r.offset, next_offset[static_cast<size_t>(r.partition)]) << "out of order in partition " << r.partition;
    ++next_offset[static_cast<size_t>(r.partition)];
    const int64_t index = r.offset * partitions + r.partition;
    const auto expected = generate_record(seed, index);
    ASSERT_EQ(r.key, expected.key) << "record " << index;
    ASSERT_EQ(r.value, expected.value) << "record " << index;
    ASSERT_EQ(r.headers, expected.headers) << "record " << index;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, EveryCodec, ::testing::Values("none", "gzip", "snappy", "lz4", "zstd"));

class FetchBehaviour : public ::testing::Test {
 protected:
  void SetUp() override { broker.start(); }
  BrokerProcess broker;
};

TEST_F(FetchBehaviour, RecordDataLeavesThroughSendfile) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("zero-copy", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
  for (int i = 0; i < 500; ++i) producer.produce("zero-copy", 0, 3, i);
  ASSERT_TRUE(producer.flush(10000));
  double before = broker.metric("fjord_fetch_sendfile_bytes_total");
  auto records = consume(broker.bootstrap(), "zero-copy", {0}, RdKafka::Topic::OFFSET_BEGINNING, 500, 10000);
  ASSERT_EQ(records.size(), 500u);
  EXPECT_GT(broker.metric("fjord_fetch_sendfile_bytes_total") - before, 100'000);
  EXPECT_GT(broker.metric("fjord_fetch_sendfile_calls_total"), 0);
  EXPECT_EQ(broker.metric("fjord_fetch_copied_bytes_total"), 0) << "record data was copied through user space";
}

TEST_F(FetchBehaviour, OneFsyncCoversManyConcurrentWrites) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("group-commit", 4), RD_KAFKA_RESP_ERR_NO_ERROR);
  double appends_before = broker.metric("fjord_log_appends_total");
  double fsyncs_before = broker.metric("fjord_log_fsyncs_total");
  // Several producers, each with several requests in flight and small batches: many appends at once.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      TestProducer producer(broker.bootstrap(), {{"acks", "all"}, {"linger.ms", "0"}, {"batch.num.messages", "1"}});
      for (int i = 0; i < 2000; ++i) producer.produce("group-commit", t, 5, i);
      producer.flush(30000);
    });
  }
  for (auto& t : threads) t.join();
  double appends = broker.metric("fjord_log_appends_total") - appends_before;
  double fsyncs = broker.metric("fjord_log_fsyncs_total") - fsyncs_before;
  EXPECT_GE(appends, 8000 / 10) << "the producers did not write";
  ASSERT_GT(fsyncs, 0) << "acknowledged without any fsync";
  EXPECT_GT(appends / fsyncs, 1.5) << appends << " appends took " << fsyncs << " fsyncs: no group commit";
}

TEST_F(FetchBehaviour, LogAppendTimeTopicsCarryTheBrokersClock) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("append-time", 1, {{"message.timestamp.type", "LogAppendTime"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  auto before =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
  for (int i = 0; i < 10; ++i) producer.produce("append-time", 0, 6, i);
  ASSERT_TRUE(producer.flush(10000));
  auto records = consume(broker.bootstrap(), "append-time", {0}, RdKafka::Topic::OFFSET_BEGINNING, 10, 10000);
  ASSERT_EQ(records.size(), 10u);
  for (const auto& r : records) EXPECT_GE(r.timestamp, before);
}

}  // namespace
}  // namespace fjord::testing
