// Idempotent producers: each record written once per partition whatever the retries. Real clients write through
// a proxy that loses produce responses (so they retry batches the broker already has) or refuses their first
// request (while the next is in flight), and outlive the broker forgetting them; raw requests stage each outcome:
// the same batch twice, a first batch not at 0, a gap, a stale epoch, a new epoch, and a retry across a restart.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"
#include "tests/support/broker_process.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"
#include "tests/support/scale.h"

namespace fjord::testing {
namespace {

using namespace protocol;

TEST(Idempotence, LibrdkafkaRetriesThroughLostResponsesWriteEachRecordOnce) {
  BrokerProcess broker;
  broker.start();
  Admin(broker.bootstrap()).create_topic("exactly-once", 3);
  FaultProxy proxy(broker.bootstrap(), 7);
  const long count = scaled(20'000, 1'000'000);
  {
    TestProducer producer(proxy.bootstrap(), {{"enable.idempotence", "true"},
                                              {"acks", "all"},
                                              {"linger.ms", "2"},
                                              {"batch.num.messages", "200"},
                                              {"message.timeout.ms", "60000"},
                                              // Each lost response costs a connection; the default backoff would
                                              // grow to 10 s between them and the test would only measure waiting.
                                              {"reconnect.backoff.ms", "10"},
                                              {"reconnect.backoff.max.ms", "100"}});
    for (long i = 0; i < count; ++i) producer.produce("exactly-once", static_cast<int32_t>(i % 3), 31, i);
    ASSERT_TRUE(producer.flush(120000));
    for (const auto& [index, d] : producer.deliveries) ASSERT_EQ(d.error, RdKafka::ERR_NO_ERROR) << index;
  }
  ASSERT_GT(proxy.dropped(), 0) << "no response was lost: nothing was retried";
  EXPECT_GT(broker.metric("fjord_idempotent_duplicates_suppressed_total"), 0)
      << "responses were lost but the broker never saw a retry";
  auto records = consume(broker.bootstrap(), "exactly-once", {0, 1, 2}, RdKafka::Topic::OFFSET_BEGINNING,
                         static_cast<size_t>(count) + 1, 30000);
  ASSERT_EQ(static_cast<long>(records.size()), count) << "some record is missing or duplicated";
  std::vector<int64_t> next_index = {0, 1, 2};
  for (const auto& r : records) {
    auto& expected = next_index[static_cast<size_t>(r.partition)];
    auto sent = generate_record(31, expected);
    ASSERT_EQ(r.key, sent.key) << "partition " << r.partition << " offset " << r.offset << ": not record " << expected;
    ASSERT_EQ(r.value, sent.value) << "partition " << r.partition << " offset " << r.offset;
    expected += 3;
  }
}

// A producer's first request refused while its second is already on its way (a leader whose in-sync replicas
// were short for a moment). A broker that accepts the second batch from a producer it holds no state for tells
// librdkafka that the first one was written too (a later sequence succeeded): it reports those records delivered
// although they were never written. Fjord refuses the second batch (UNKNOWN_PRODUCER_ID); the client starts a new
// epoch and resends everything in order.
TEST(Idempotence, AFirstRequestRefusedWhileTheNextIsInFlightIsNotAcknowledgedUnwritten) {
  BrokerProcess broker;
  broker.start();
  // librdkafka 2.0.2 does not always put a second request in flight before its first is answered (it depends on
  // the order in which it learns the partition's leader and its producer id): such an attempt stages nothing and
  // is abandoned; a fresh producer and topic try again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::string topic = "first-refused-" + std::to_string(attempt);
    Admin(broker.bootstrap()).create_topic(topic, 1);
    FaultProxy proxy(broker.bootstrap(), /*drop_every=*/0, /*refuse_first=*/1);
    TestProducer producer(proxy.bootstrap(), {{"enable.idempotence", "true"},
                                              {"acks", "all"},
                                              {"linger.ms", "0"},
                                              {"batch.num.messages", "10"},
                                              {"message.timeout.ms", "30000"}});
    // Records keep coming until the refusal went out (the proxy sends it once the next request arrived): each
    // one wakes the client's sender, which then puts its next request in flight.
    long count = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((count < 300 || proxy.dropped() == 0) && std::chrono::steady_clock::now() < deadline) {
      producer.produce(topic, 0, 47, count++);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (proxy.dropped() == 0) continue;
    producer.flush(60000);
    // The request after the refused one reached the broker before the client resent the first: the case staged.
    EXPECT_GE(broker.metric("fjord_idempotent_sequence_errors_total{kind=\"unknown_producer_id\"}"), 1)
        << "the second request did not reach the broker without producer state: nothing was tested";
    long acknowledged = 0;
    std::optional<int64_t> misplaced;  // the first record acknowledged at another offset than its own
    for (const auto& [index, d] : producer.deliveries) {
      if (d.error != RdKafka::ERR_NO_ERROR) continue;
      ++acknowledged;
      if (d.offset >= 0 && d.offset != index && !misplaced) misplaced = index;
    }
    auto records =
        consume(broker.bootstrap(), topic, {0}, RdKafka::Topic::OFFSET_BEGINNING, static_cast<size_t>(count) + 1, 5000);
    ASSERT_EQ(static_cast<long>(records.size()), acknowledged)
        << acknowledged << " records acknowledged, " << records.size() << " in the log";
    EXPECT_EQ(acknowledged, count) << "every record should get through on the retries";
    EXPECT_FALSE(misplaced) << "record " << *misplaced << " was acknowledged at offset "
                            << producer.deliveries[*misplaced].offset;
    for (size_t i = 0; i < records.size(); ++i) {
      auto sent = generate_record(47, static_cast<int64_t>(i));
      ASSERT_EQ(records[i].key, sent.key) << "offset " << i << " is not record " << i;
      ASSERT_EQ(records[i].value, sent.value) << "offset " << i;
    }
    return;
  }
  FAIL() << "in five attempts the client never had a second request in flight while its first was refused";
}

// A producer whose state the broker forgot (expired after producer.id.expiration.ms) carries on where it was, as
// against Kafka: only a producer never seen here must start at sequence 0.
TEST(Idempotence, AProducerWhoseStateExpiredCarriesOn) {
  BrokerProcess broker({"--set", "producer.id.expiration.ms=3000", "--set", "log.retention.check.interval.ms=200"});
  broker.start();
  Admin(broker.bootstrap()).create_topic("idle", 1);
  TestProducer producer(broker.bootstrap(), {{"enable.idempotence", "true"}, {"acks", "all"}});
  for (long i = 0; i < 10; ++i) producer.produce("idle", 0, 53, i);
  ASSERT_TRUE(producer.flush(10000));
  // The gauge is refreshed every second: seen at 1, then back at 0 once the producer is forgotten.
  auto active_producers_become = [&](double value) {
    for (int i = 0; i < 100; ++i) {
      if (broker.metric("fjord_idempotent_producers_active") == value) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  ASSERT_TRUE(active_producers_become(1));
  ASSERT_TRUE(active_producers_become(0)) << "the broker never forgot the producer: nothing was tested";
  for (long i = 10; i < 20; ++i) producer.produce("idle", 0, 53, i);
  ASSERT_TRUE(producer.flush(30000));
  for (const auto& [index, d] : producer.deliveries) {
    EXPECT_EQ(d.error, RdKafka::ERR_NO_ERROR) << "record " << index << ": " << RdKafka::err2str(d.error);
  }
  auto records = consume(broker.bootstrap(), "idle", {0}, RdKafka::Topic::OFFSET_BEGINNING, 21, 5000);
  ASSERT_EQ(records.size(), 20u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].key, generate_record(53, static_cast<int64_t>(i)).key) << "offset " << i;
  }
}

class RawIdempotence : public ::testing::Test {
 protected:
  void SetUp() override {
    broker.start();
    Admin(broker.bootstrap()).create_topic("seq", 1);
  }

  std::pair<int64_t, int16_t> init_producer_id() {
    RawClient c(broker.port());
    InitProducerIdRequest request;
    request.transactional_id = std::nullopt;
    request.transaction_timeout_ms = 60000;
    c.send(request, 4, 1);
    auto frame = c.receive();
    EXPECT_TRUE(frame);
    auto response = RawClient::decode<InitProducerIdResponse>(*frame, 4, true, nullptr);
    EXPECT_EQ(response.error_code, 0);
    return {response.producer_id, response.producer_epoch};
  }

  // Produces one batch of `records` records; returns (error, base offset).
  std::pair<int16_t, int64_t> produce(int64_t producer_id, int16_t epoch, int32_t sequence, int records = 5) {
    std::vector<Record> rs(static_cast<size_t>(records));
    for (size_t i = 0; i < rs.size(); ++i) {
      rs[i].timestamp =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      rs[i].value = Bytes{static_cast<uint8_t>(sequence + static_cast<int32_t>(i))};
    }
    BatchBuildOptions options;
    options.producer_id = producer_id;
    options.producer_epoch = epoch;
    options.base_sequence = sequence;
    ProduceRequest request;
    request.acks = -1;
    request.timeout_ms = 10000;
    auto& t = request.topic_data.emplace_back();
    t.name = "seq";
    auto& p = t.partition_data.emplace_back();
    p.records = Records::own(build_batch(rs, options));
    RawClient c(broker.port());
    c.send(request, 9, 2);
    auto frame = c.receive();
    EXPECT_TRUE(frame);
    auto response = RawClient::decode<ProduceResponse>(*frame, 9, true, nullptr);
    const auto& part = response.responses[0].partition_responses[0];
    return {part.error_code, part.base_offset};
  }

  int64_t end_offset() {
    std::string error;
    std::unique_ptr<RdKafka::Consumer> c(RdKafka::Consumer::create(client_conf(broker.bootstrap()).get(), error));
    int64_t low = 0, high = 0;
    c->query_watermark_offsets("seq", 0, &low, &high, 10000);
    return high;
  }

  BrokerProcess broker;
};

TEST_F(RawIdempotence, ProducerIdsAreNewEachTime) {
  auto a = init_producer_id();
  auto b = init_producer_id();
  EXPECT_GE(a.first, 0);
  EXPECT_EQ(a.second, 0);
  EXPECT_NE(a.first, b.first);
}

TEST_F(RawIdempotence, SameBatchTwiceIsWrittenOnceAndAnsweredWithItsOffset) {
  auto [id, epoch] = init_producer_id();
  EXPECT_EQ(produce(id, epoch, 0), std::make_pair(int16_t{0}, int64_t{0}));
  EXPECT_EQ(produce(id, epoch, 5), std::make_pair(int16_t{0}, int64_t{5}));
  EXPECT_EQ(produce(id, epoch, 0), std::make_pair(int16_t{0}, int64_t{0})) << "a retry of the first batch";
  EXPECT_EQ(produce(id, epoch, 5), std::make_pair(int16_t{0}, int64_t{5})) << "a retry of the second batch";
  EXPECT_EQ(end_offset(), 10);
  EXPECT_EQ(broker.metric("fjord_idempotent_duplicates_suppressed_total"), 2);
}

TEST_F(RawIdempotence, AProducersFirstBatchHereMustStartAtSequenceZero) {
  auto [id, epoch] = init_producer_id();
  EXPECT_EQ(produce(id, epoch, 5).first, 59) << "no state here: a first batch must start at 0";
  EXPECT_EQ(end_offset(), 0);
  EXPECT_EQ(produce(id, epoch, 0), std::make_pair(int16_t{0}, int64_t{0}));
  EXPECT_EQ(produce(id, epoch, 5), std::make_pair(int16_t{0}, int64_t{5}));
}

TEST_F(RawIdempotence, GapIsOutOfOrder) {
  auto [id, epoch] = init_producer_id();
  produce(id, epoch, 0);
  EXPECT_EQ(produce(id, epoch, 7).first, 45);
  EXPECT_EQ(end_offset(), 5);
}

TEST_F(RawIdempotence, StaleEpochIsRefusedAndANewEpochStartsAtZero) {
  auto [id, epoch] = init_producer_id();
  produce(id, epoch, 0);
  EXPECT_EQ(produce(id, static_cast<int16_t>(epoch + 1), 3).first, 45) << "a new epoch must start at 0";
  EXPECT_EQ(produce(id, static_cast<int16_t>(epoch + 1), 0).first, 0);
  EXPECT_EQ(produce(id, epoch, 5).first, 47) << "the old epoch is fenced";
  EXPECT_EQ(end_offset(), 10);
  EXPECT_GE(broker.metric("fjord_idempotent_sequence_errors_total"), 2);
}

class RetryAcrossRestart : public RawIdempotence, public ::testing::WithParamInterface<bool> {};

TEST_P(RetryAcrossRestart, IsStillRecognised) {
  auto [id, epoch] = init_producer_id();
  produce(id, epoch, 0);
  produce(id, epoch, 5);
  if (GetParam()) {
    ASSERT_EQ(broker.stop(), 0);
  } else {
    broker.kill();
  }
  broker.start();
  EXPECT_EQ(produce(id, epoch, 5), std::make_pair(int16_t{0}, int64_t{5}));
  EXPECT_EQ(end_offset(), 10);
  EXPECT_EQ(produce(id, epoch, 10).first, 0);
  EXPECT_EQ(produce(id, epoch, 20).first, 45);
  // A new producer id is not one handed out before the restart.
  EXPECT_NE(init_producer_id().first, id);
}

INSTANTIATE_TEST_SUITE_P(CleanAndKilled, RetryAcrossRestart, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? std::string("Clean") : std::string("Killed"); });

}  // namespace
}  // namespace fjord::testing
