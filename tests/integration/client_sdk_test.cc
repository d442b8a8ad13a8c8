// The C++ SDK (client/) against a real broker: deliveries as futures and callbacks, commit only after a batch
// succeeded (a failed batch comes again), revoked partitions committed before they are handed over, and a clean
// stop on SIGTERM that commits what was processed.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/consumer.h"
#include "client/producer.h"
#include "client/shutdown.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"

namespace fjord::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The group's committed offset per partition, as a new member would see it.
std::map<int32_t, int64_t> committed_offsets(const std::string& bootstrap, const std::string& group,
                                             const std::string& topic, int partitions) {
  auto conf = client_conf(bootstrap, {{"group.id", group}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  std::vector<RdKafka::TopicPartition*> list;
  for (int p = 0; p < partitions; ++p) list.push_back(RdKafka::TopicPartition::create(topic, p));
  consumer->committed(list, 10000);
  std::map<int32_t, int64_t> out;
  for (auto* tp : list) out[tp->partition()] = tp->offset();
  RdKafka::TopicPartition::destroy(list);
  consumer->close();
  return out;
}

class ClientSdk : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.start();
    ASSERT_EQ(Admin(broker_.bootstrap()).create_topic(topic_, 4), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  void produce(int count) {
    client::Producer producer({.bootstrap_servers = broker_.bootstrap()});
    for (int i = 0; i < count; ++i) producer.send(topic_, std::to_string(i), "v" + std::to_string(i), nullptr);
    ASSERT_TRUE(producer.flush(std::chrono::seconds(30)));
    ASSERT_EQ(producer.metrics().delivered, static_cast<uint64_t>(count));
  }

  client::ConsumerSettings consumer_settings(bool static_membership = false) {
    return {.bootstrap_servers = broker_.bootstrap(),
            .group_id = group_,
            .topics = {topic_},
            .properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}},
            .static_membership = static_membership};
  }

  BrokerProcess broker_;
  std::string topic_ = "sdk-topic";
  std::string group_ = "sdk-group";
};

TEST_F(ClientSdk, ProducerDeliversWithFuturesAndCallbacks) {
  client::Producer producer({.bootstrap_servers = broker_.bootstrap()});
  auto first = producer.send(topic_, "k", "one", 2);
  auto report = first.get();
  ASSERT_TRUE(report.ok()) << report.error_text;
  EXPECT_EQ(report.partition, 2);
  EXPECT_EQ(report.offset, 0);
  std::promise<client::DeliveryReport> second;
  producer.send(
      topic_, "k", "two", [&](const client::DeliveryReport& r) { second.set_value(r); }, 2);
  auto r2 = second.get_future().get();
  EXPECT_TRUE(r2.ok());
  EXPECT_EQ(r2.offset, 1);
  auto metrics = producer.metrics();
  EXPECT_EQ(metrics.delivered, 2u);
  EXPECT_EQ(metrics.failed, 0u);
  EXPECT_GT(metrics.latency_max_ms, 0.0);
  // A record for a partition the topic does not have fails through the same path, counted as an error.
  auto bad = producer.send(topic_, "k", "x", 99).get();
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(producer.metrics().failed, 1u);
}

TEST_F(ClientSdk, UnsafeProducerNeedsAnOptIn) {
  EXPECT_THROW(client::Producer({.bootstrap_servers = broker_.bootstrap(), .properties = {{"acks", "1"}}}),
               client::ClientError);
  client::Producer unsafe(
      {.bootstrap_servers = broker_.bootstrap(), .properties = {{"acks", "1"}}, .allow_unsafe = true});
  EXPECT_TRUE(unsafe.send(topic_, "k", "v").get().ok());
}

TEST_F(ClientSdk, AFailedBatchIsNotCommittedAndComesAgain) {
  produce(200);
  std::map<std::pair<int32_t, int64_t>, int> seen;
  bool failed_once = false;
  client::Consumer consumer(consumer_settings(), {.max_batch = 30, .retry_backoff = std::chrono::milliseconds(100)});
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  consumer.run([&](const client::Batch& batch) {
    if (!failed_once) {
      failed_once = true;
      for (const auto& r : batch) ++seen[{r.partition(), -1 - r.offset()}];  // the failed attempt, apart
      return client::BatchResult::kRetry;
    }
    for (const auto& r : batch) ++seen[{r.partition(), r.offset()}];
    size_t done = 0;
    for (const auto& [key, n] : seen) done += key.second >= 0 ? 1 : 0;
    if (done >= 200 || Clock::now() > deadline) consumer.stop();
    return client::BatchResult::kDone;
  });
  // Every record processed successfully exactly once, the failed batch's records among them.
  size_t succeeded = 0, failed_records = 0;
  for (const auto& [key, n] : seen) {
    if (key.second >= 0) {
      ++succeeded;
      EXPECT_EQ(n, 1) << "partition " << key.first << " offset " << key.second << " processed " << n << " times";
    } else {
      ++failed_records;
      EXPECT_EQ(seen.count({key.first, -1 - key.second}), 1u) << "a record of the failed batch never came again";
    }
  }
  EXPECT_EQ(succeeded, 200u);
  EXPECT_GT(failed_records, 0u);
  auto metrics = consumer.metrics();
  EXPECT_EQ(metrics.retried_batches, 1u);
  EXPECT_GT(metrics.async_commits + metrics.sync_commits, 0u);
  int64_t total = 0;
  for (const auto& [partition, offset] : committed_offsets(broker_.bootstrap(), group_, topic_, 4)) total += offset;
  EXPECT_EQ(total, 200) << "the group's committed offsets should cover exactly what was processed";
}

// Exactly-once processing: what a batch's handler sends through the transactional producer and the batch's
// offsets commit together. A batch that failed after sending is aborted: a read_uncommitted reader sees its
// records, a read_committed one never does, and the batch comes again. The layer commits no offsets of its own.
TEST_F(ClientSdk, ExactlyOnceProcessingCommitsOutputAndOffsetsTogether) {
  const std::string output = "sdk-output";
  ASSERT_EQ(Admin(broker_.bootstrap()).create_topic(output, 2), RD_KAFKA_RESP_ERR_NO_ERROR);
  produce(200);
  client::Producer producer({.bootstrap_servers = broker_.bootstrap(), .transactional_id = "sdk-eos"});
  client::ConsumerOptions options{.max_batch = 30, .retry_backoff = std::chrono::milliseconds(100)};
  options.transactional_producer = &producer;
  client::Consumer consumer(consumer_settings(), options);
  std::set<std::pair<int32_t, int64_t>> done;
  bool failed_once = false;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  consumer.run([&](const client::Batch& batch) {
    for (const auto& r : batch) {
      producer.send(output, std::to_string(r.partition()) + ":" + std::to_string(r.offset()), r.value(), nullptr);
    }
    if (!failed_once) {
      failed_once = true;
      producer.flush(std::chrono::seconds(10));  // written to the log, then aborted
      throw std::runtime_error("the batch failed after its output was sent");
    }
    for (const auto& r : batch) done.insert({r.partition(), r.offset()});
    if (done.size() >= 200 || Clock::now() > deadline) consumer.stop();
    return client::BatchResult::kDone;
  });
  const auto metrics = consumer.metrics();
  EXPECT_EQ(metrics.aborted_transactions, 1u);
  EXPECT_GT(metrics.transactions, 0u);
  EXPECT_EQ(metrics.async_commits + metrics.sync_commits, 0u) << "offsets went outside the transactions";

  auto committed = consume(broker_.bootstrap(), output, {0, 1}, RdKafka::Topic::OFFSET_BEGINNING, 200, 10000,
                           {{"isolation.level", "read_committed"}});
  std::map<std::string, int> copies;
  for (const auto& r : committed) ++copies[r.key.value_or("")];
  EXPECT_EQ(committed.size(), 200u);
  EXPECT_EQ(copies.size(), 200u);
  for (const auto& [key, n] : copies) EXPECT_EQ(n, 1) << key;
  auto everything = consume(broker_.bootstrap(), output, {0, 1}, RdKafka::Topic::OFFSET_BEGINNING, 1000, 5000,
                            {{"isolation.level", "read_uncommitted"}});
  EXPECT_GT(everything.size(), 200u) << "the failed batch's output was never written, so the abort proved nothing";
  int64_t total = 0;
  for (const auto& [partition, offset] : committed_offsets(broker_.bootstrap(), group_, topic_, 4)) total += offset;
  EXPECT_EQ(total, 200) << "the transactions committed the group's offsets";
}

TEST_F(ClientSdk, ABatchThatNeverSucceedsIsNeverCommitted) {
  produce(40);
  std::set<int32_t> failed_partitions;
  {
    client::Consumer consumer(consumer_settings(), {.max_batch = 1000, .retry_backoff = std::chrono::milliseconds(50)});
    int attempts = 0;
    consumer.run([&](const client::Batch& batch) {
      for (const auto& r : batch) failed_partitions.insert(r.partition());
      if (++attempts == 3) consumer.stop();
      throw std::runtime_error("downstream unavailable");
      return client::BatchResult::kDone;
    });
  }
  ASSERT_FALSE(failed_partitions.empty());
  for (const auto& [partition, offset] : committed_offsets(broker_.bootstrap(), group_, topic_, 4)) {
    EXPECT_LT(offset, 0) << "partition " << partition << " was committed although its batch failed";
  }
}

TEST_F(ClientSdk, RevokedPartitionsAreCommittedAndDroppedFromTheBatchBeingGathered) {
  // Records trickle in while the first member gathers long batches (3 s), so the second member's arrival revokes
  // partitions in the middle of a batch being gathered: their records must be dropped from it (their new owner
  // starts from the committed offset) and what was processed of them committed before they move. Either mistake
  // processes records twice.
  std::atomic<bool> producing{true};
  std::thread producer_thread([&] {
    client::Producer producer({.bootstrap_servers = broker_.bootstrap()});
    for (int i = 0; i < 600 && producing; ++i) {
      producer.send(topic_, std::to_string(i), "v" + std::to_string(i), nullptr);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    producer.flush(std::chrono::seconds(30));
  });
  std::mutex mutex;
  std::map<std::pair<int32_t, int64_t>, int> processed;
  auto handler = [&](const client::Batch& batch) {
    std::lock_guard lock(mutex);
    for (const auto& r : batch) ++processed[{r.partition(), r.offset()}];
    return client::BatchResult::kDone;
  };
  auto total = [&] {
    std::lock_guard lock(mutex);
    return processed.size();
  };
  std::vector<client::RebalanceEvent> first_events;
  client::Consumer first(consumer_settings(), {.max_batch = 100000,
                                               .batch_wait = std::chrono::milliseconds(3000),
                                               .on_rebalance = [&](const client::RebalanceEvent& e) {
                                                 std::lock_guard lock(mutex);
                                                 first_events.push_back(e);
                                               }});
  std::thread first_thread([&] { first.run(handler); });
  while (total() < 50) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  client::Consumer second(consumer_settings(), {.max_batch = 20});
  std::thread second_thread([&] { second.run(handler); });
  producer_thread.join();
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (total() < 600 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<client::RebalanceEvent> while_running;  // not the revocation of everything as it closes
  {
    std::lock_guard lock(mutex);
    while_running = first_events;
  }
  first.stop();
  second.stop();
  first_thread.join();
  second_thread.join();
  EXPECT_EQ(processed.size(), 600u);
  for (const auto& [key, n] : processed) {
    EXPECT_EQ(n, 1) << "partition " << key.first << " offset " << key.second << " was processed " << n << " times";
  }
  bool revoked = false;
  for (const auto& e : while_running) {
    if (e.kind == client::RebalanceEvent::Kind::kRevoked && !e.partitions.empty()) {
      revoked = true;
      EXPECT_TRUE(e.cooperative);
      EXPECT_LT(e.partitions.size(), 4u) << "cooperative: only what moves is revoked";
    }
  }
  EXPECT_TRUE(revoked) << "the second member never took partitions from the first";
}

TEST_F(ClientSdk, ABatchNearingMaxPollIntervalIsWarnedAbout) {
  produce(10);
  auto settings = consumer_settings();
  settings.properties["max.poll.interval.ms"] = "6000";  // librdkafka's floor is session.timeout.ms (6 s here)
  client::Consumer consumer(settings, {.max_batch = 5});
  int batches = 0;
  consumer.run([&](const client::Batch&) {
    // The first batch takes 5 s: past 80% of the interval (4.8 s), short of leaving the group.
    if (++batches == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5000));
    if (batches == 2) consumer.stop();
    return client::BatchResult::kDone;
  });
  EXPECT_EQ(consumer.metrics().poll_interval_warnings, 1u);
}

TEST_F(ClientSdk, PauseHoldsBackRecordsUntilResume) {
  produce(50);
  client::Consumer consumer(consumer_settings(), {.max_batch = 10});
  Clock::time_point paused_at, next_batch_at;
  size_t processed = 0;
  std::thread resumer;
  consumer.run([&](const client::Batch& batch) {
    if (processed == 0) {
      consumer.pause();  // backpressure: the downstream asked us to wait
      paused_at = Clock::now();
      resumer = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        consumer.resume();
      });
    } else if (next_batch_at == Clock::time_point{}) {
      next_batch_at = Clock::now();
    }
    processed += batch.size();
    if (processed >= 50) consumer.stop();
    return client::BatchResult::kDone;
  });
  resumer.join();
  EXPECT_EQ(processed, 50u);
  EXPECT_GE(next_batch_at - paused_at, std::chrono::milliseconds(1400)) << "records arrived while paused";
}

TEST_F(ClientSdk, SigtermStopsTheLoopAndCommitsWhatWasProcessed) {
  produce(100);
  client::install_shutdown_signals();
  client::reset_shutdown();
  size_t processed = 0;
  client::Consumer consumer(consumer_settings(/*static_membership=*/true), {.max_batch = 10});
  consumer.run([&](const client::Batch& batch) {
    processed += batch.size();
    if (processed >= 50) ::raise(SIGTERM);
    return client::BatchResult::kDone;
  });
  client::reset_shutdown();
  EXPECT_GE(processed, 50u);
  EXPECT_LT(processed, 100u) << "the loop kept going after SIGTERM";
  int64_t total = 0;
  for (const auto& [partition, offset] : committed_offsets(broker_.bootstrap(), group_, topic_, 4)) {
    total += std::max<int64_t>(offset, 0);
  }
  EXPECT_EQ(total, static_cast<int64_t>(processed)) << "close committed something else than what was processed";
}

}  // namespace
}  // namespace fjord::testing
