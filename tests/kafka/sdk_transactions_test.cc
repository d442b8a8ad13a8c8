// The SDK's transactional producer against Apache Kafka (tests/with_kafka.sh starts it and names it in
// FJORD_KAFKA_BOOTSTRAP). Fjord has no transaction coordinator yet, so this is where begin/commit/abort are shown to
// do what they say: a read_committed consumer sees committed transactions and never an aborted one, and a producer
// fenced by a newer one with the same transactional_id is told the error is fatal.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>

#include "client/producer.h"
#include "tests/support/kafka_clients.h"

namespace fjord::testing {
namespace {

std::string kafka_bootstrap() {
  const char* bootstrap = std::getenv("FJORD_KAFKA_BOOTSTRAP");
  return bootstrap ? bootstrap : "";
}

class SdkTransactions : public ::testing::Test {
 protected:
  void SetUp() override {
    bootstrap_ = kafka_bootstrap();
    ASSERT_FALSE(bootstrap_.empty()) << "FJORD_KAFKA_BOOTSTRAP is not set: run under tests/with_kafka.sh";
    topic_ = std::string("sdk-txn-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    ASSERT_EQ(Admin(bootstrap_).create_topic(topic_, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  client::ProducerSettings transactional(const std::string& id) {
    return {.bootstrap_servers = bootstrap_, .transactional_id = id};
  }

  // The values a consumer with `isolation` reads from the topic: everything there is, within a few seconds.
  std::multiset<std::string> read(const std::string& isolation) {
    std::multiset<std::string> values;
    for (const auto& r : consume(bootstrap_, topic_, {0}, RdKafka::Topic::OFFSET_BEGINNING, 1000, 8000,
                                 {{"isolation.level", isolation}})) {
      values.insert(r.value);
    }
    return values;
  }

  static void send(client::Producer& producer, const std::string& topic, const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) producer.send(topic, "k", prefix + std::to_string(i), nullptr, 0);
  }

  static size_t count_prefix(const std::multiset<std::string>& values, const std::string& prefix) {
    size_t n = 0;
    for (const auto& v : values) n += v.starts_with(prefix) ? 1 : 0;
    return n;
  }

  std::string bootstrap_;
  std::string topic_;
};

TEST_F(SdkTransactions, ReadCommittedSeesCommittedTransactionsAndNoAbortedOne) {
  client::Producer producer(transactional("sdk-txn-commit-abort"));
  producer.begin_transaction();
  send(producer, topic_, "committed-", 10);
  producer.commit_transaction();

  producer.begin_transaction();
  send(producer, topic_, "aborted-", 10);
  ASSERT_TRUE(producer.flush(std::chrono::seconds(30)));  // written to the log, then aborted
  producer.abort_transaction();

  producer.begin_transaction();
  send(producer, topic_, "later-", 5);
  producer.commit_transaction();

  auto committed = read("read_committed");
  EXPECT_EQ(committed.size(), 15u);
  EXPECT_EQ(count_prefix(committed, "committed-"), 10u);
  EXPECT_EQ(count_prefix(committed, "later-"), 5u);
  EXPECT_EQ(count_prefix(committed, "aborted-"), 0u);
  // The aborted records are in the log: it is the abort that hides them, not their absence.
  auto everything = read("read_uncommitted");
  EXPECT_EQ(count_prefix(everything, "aborted-"), 10u);
  EXPECT_EQ(everything.size(), 25u);
}

TEST_F(SdkTransactions, AProducerFencedByANewerOneWithItsIdIsToldTheErrorIsFatal) {
  client::Producer first(transactional("sdk-txn-fenced"));
  first.close_timeout = std::chrono::seconds(5);
  first.begin_transaction();
  send(first, topic_, "first-", 5);
  first.flush(std::chrono::seconds(30));

  // A replacement instance starts with the same id (a restarted pod): the coordinator fences the first.
  client::Producer second(transactional("sdk-txn-fenced"));
  try {
    first.commit_transaction(std::chrono::seconds(10));
    FAIL() << "a fenced producer committed";
  } catch (const client::TransactionError& e) {
    EXPECT_TRUE(e.fatal()) << e.what();
  }
  second.begin_transaction();
  send(second, topic_, "second-", 5);
  second.commit_transaction();

  auto committed = read("read_committed");
  EXPECT_EQ(count_prefix(committed, "first-"), 0u);
  EXPECT_EQ(count_prefix(committed, "second-"), 5u);
}

}  // namespace
}  // namespace fjord::testing
