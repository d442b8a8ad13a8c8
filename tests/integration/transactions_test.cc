// Transactions with librdkafka 2.0.2 (through the SDK's transactional producer, as an application uses it): a
// read_committed consumer sees committed transactions whole and never an aborted one; an open transaction holds
// back what follows it (the last stable offset) until it ends; a producer fenced by a newer instance is told the
// error is fatal; a transaction past its timeout is aborted by the broker and stops holding readers back; and
// interleaved commits and aborts across segment rolls survive a kill -9 (the aborted-transaction index); and a
// consume-transform-produce job killed at random moments writes each input record exactly once.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "client/producer.h"
#include "examples/payments/payments.h"
#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/end_txn.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace fjord::testing {
namespace {

using namespace std::chrono_literals;

class Transactions : public ::testing::Test {
 protected:
  explicit Transactions(std::vector<std::string> broker_args = {}) : broker_(std::move(broker_args)) {}

  void SetUp() override {
    broker_.start();
    topic_ = std::string("txn-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  void create(int partitions, const std::map<std::string, std::string>& configs = {}) {
    ASSERT_EQ(Admin(broker_.bootstrap()).create_topic(topic_, partitions, configs), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  client::ProducerSettings transactional(const std::string& id, client::Properties extra = {}) {
    client::ProducerSettings s{.bootstrap_servers = broker_.bootstrap(), .transactional_id = id};
    s.properties = std::move(extra);
    return s;
  }

  // The values a consumer with `isolation` reads from the topic within `timeout_ms` (or once `expected` came).
  std::vector<ConsumedRecord> read(const std::string& isolation, std::vector<int32_t> partitions = {0},
                                   size_t expected = 100000, int timeout_ms = 6000) {
    return consume(broker_.bootstrap(), topic_, partitions, RdKafka::Topic::OFFSET_BEGINNING, expected, timeout_ms,
                   {{"isolation.level", isolation}});
  }

  static std::multiset<std::string> values(const std::vector<ConsumedRecord>& records) {
    std::multiset<std::string> out;
    for (const auto& r : records) out.insert(r.value);
    return out;
  }

  static void send(client::Producer& producer, const std::string& topic, const std::string& prefix, int count,
                   int partitions = 1) {
    for (int i = 0; i < count; ++i) {
      producer.send(topic, "k" + std::to_string(i % partitions), prefix + std::to_string(i), nullptr, 0);
    }
  }

  static size_t count_prefix(const std::multiset<std::string>& values, const std::string& prefix) {
    size_t n = 0;
    for (const auto& v : values) n += v.starts_with(prefix) ? 1 : 0;
    return n;
  }

  // One request on its own connection, answered.
  template <typename Response, typename Request>
  Response call(const Request& request, int16_t version, bool flexible) {
    RawClient c(broker_.port());
    c.send(request, version, 1);
    auto frame = c.receive();
    EXPECT_TRUE(frame);
    return RawClient::decode<Response>(*frame, version, flexible, nullptr);
  }

  // The coordinator's state of a transactional id (DescribeTransactions): "Ongoing" while a transaction is open.
  std::string state(const std::string& id) {
    protocol::DescribeTransactionsRequest r;
    r.transactional_ids = {id};
    return call<protocol::DescribeTransactionsResponse>(r, 0, true).transaction_states[0].transaction_state;
  }

  BrokerProcess broker_;
  std::string topic_;
};

TEST_F(Transactions, ReadCommittedSeesCommittedTransactionsWholeAndNoAbortedOne) {
  create(3);
  client::Producer producer(transactional("commit-abort"));
  producer.begin_transaction();
  send(producer, topic_, "committed-", 30, 3);
  producer.commit_transaction();

  producer.begin_transaction();
  send(producer, topic_, "aborted-", 30, 3);
  ASSERT_TRUE(producer.flush(30s));  // in the log, then aborted
  producer.abort_transaction();

  producer.begin_transaction();
  send(producer, topic_, "later-", 15, 3);
  producer.commit_transaction();

  auto committed = values(read("read_committed", {0, 1, 2}, 45));
  EXPECT_EQ(committed.size(), 45u);
  EXPECT_EQ(count_prefix(committed, "committed-"), 30u);
  EXPECT_EQ(count_prefix(committed, "later-"), 15u);
  EXPECT_EQ(count_prefix(committed, "aborted-"), 0u);
  // The aborted records are in the log: it is the abort that hides them, not their absence.
  auto everything = values(read("read_uncommitted", {0, 1, 2}, 75));
  EXPECT_EQ(count_prefix(everything, "aborted-"), 30u);
  EXPECT_EQ(everything.size(), 75u);
}

TEST_F(Transactions, AnOpenTransactionHoldsBackReadCommittedUntilItEnds) {
  create(1);
  client::Producer open(transactional("holds-back"));
  open.begin_transaction();
  send(open, topic_, "open-", 5);
  ASSERT_TRUE(open.flush(30s));
  // Committed after the open transaction began: not readable under read_committed until it ends.
  client::Producer other(transactional("commits-later"));
  other.begin_transaction();
  send(other, topic_, "after-", 5);
  other.commit_transaction();
  EXPECT_EQ(read("read_committed", {0}, 1, 3000).size(), 0u) << "read past the last stable offset";
  EXPECT_EQ(read("read_uncommitted", {0}, 10).size(), 10u);
  open.commit_transaction();
  auto committed = values(read("read_committed", {0}, 10));
  EXPECT_EQ(committed.size(), 10u);
  EXPECT_EQ(count_prefix(committed, "open-"), 5u);
}

TEST_F(Transactions, AProducerFencedByANewerOneWithItsIdIsToldTheErrorIsFatal) {
  create(1);
  client::Producer first(transactional("fenced"));
  first.close_timeout = 5s;
  first.begin_transaction();
  send(first, topic_, "first-", 5);
  first.flush(30s);

  // A replacement instance starts with the same id (a restarted pod): the coordinator fences the first, and
  // aborts what it left open.
  client::Producer second(transactional("fenced"));
  try {
    first.commit_transaction(10s);
    FAIL() << "a fenced producer committed";
  } catch (const client::TransactionError& e) {
    EXPECT_TRUE(e.fatal()) << e.what();
  }
  second.begin_transaction();
  send(second, topic_, "second-", 5);
  second.commit_transaction();

  auto committed = values(read("read_committed", {0}, 5));
  EXPECT_EQ(count_prefix(committed, "first-"), 0u);
  EXPECT_EQ(count_prefix(committed, "second-"), 5u);
}

class TransactionTimeouts : public Transactions {
 protected:
  TransactionTimeouts() : Transactions({"--set", "transaction.abort.timed.out.transaction.cleanup.interval.ms=200"}) {}
};

TEST_F(TransactionTimeouts, ATransactionPastItsTimeoutIsAbortedAndStopsHoldingReadersBack) {
  create(1);
  client::Producer stalled(transactional("stalled", {{"transaction.timeout.ms", "2000"}}));
  stalled.close_timeout = 5s;
  stalled.begin_transaction();
  send(stalled, topic_, "stalled-", 5);
  ASSERT_TRUE(stalled.flush(30s));
  client::Producer healthy(transactional("healthy"));
  healthy.begin_transaction();
  send(healthy, topic_, "healthy-", 5);
  healthy.commit_transaction();
  // The stalled producer never ends its transaction; the broker aborts it after 2 s, and the records behind it
  // become readable.
  auto committed = values(read("read_committed", {0}, 5, 15000));
  EXPECT_EQ(count_prefix(committed, "healthy-"), 5u);
  EXPECT_EQ(count_prefix(committed, "stalled-"), 0u);
  try {
    stalled.commit_transaction(10s);
    FAIL() << "a transaction the broker aborted was committed";
  } catch (const client::TransactionError& e) {
    EXPECT_TRUE(e.fatal() || e.requires_abort()) << e.what();
  }
}

TEST_F(Transactions, InterleavedCommitsAndAbortsAcrossRollsSurviveAKill) {
  create(2, {{"segment.bytes", "4096"}});
  {
    client::Producer a(transactional("interleaved-a"));
    client::Producer b(transactional("interleaved-b"));
    for (int round = 0; round < 12; ++round) {
      a.begin_transaction();
      b.begin_transaction();
      send(a, topic_, "a" + std::to_string(round) + "-", 10, 2);
      send(b, topic_, "b" + std::to_string(round) + "-", 10, 2);
      ASSERT_TRUE(a.flush(30s));
      ASSERT_TRUE(b.flush(30s));
      // a commits the even rounds, b the odd ones; each aborts the others.
      if (round % 2 == 0) {
        a.commit_transaction();
        b.abort_transaction();
      } else {
        b.commit_transaction();
        a.abort_transaction();
      }
    }
  }
  auto check = [&](const char* when) {
    auto committed = values(read("read_committed", {0, 1}, 120, 8000));
    EXPECT_EQ(committed.size(), 120u) << when;
    for (int round = 0; round < 12; ++round) {
      const std::string kept = (round % 2 == 0 ? "a" : "b") + std::to_string(round) + "-";
      const std::string gone = (round % 2 == 0 ? "b" : "a") + std::to_string(round) + "-";
      EXPECT_EQ(count_prefix(committed, kept), 10u) << when << ": round " << round;
      EXPECT_EQ(count_prefix(committed, gone), 0u) << when << ": round " << round;
    }
  };
  check("before the kill");
  broker_.kill();
  broker_.start();
  check("after kill -9 and restart");
  broker_.stop();
  broker_.start();
  check("after a clean restart");
}

TEST_F(Transactions, AConsumeTransformProduceJobKilledAtRandomWritesEachRecordExactlyOnce) {
  create(3);
  const std::string input = topic_ + "-in";
  ASSERT_EQ(Admin(broker_.bootstrap()).create_topic(input, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
  const int count = 3000;
  {
    TestProducer producer(broker_.bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < count; ++i) producer.produce(input, i % 3, 47, i);
    ASSERT_TRUE(producer.flush(30000));
  }
  const std::string dir = make_temp_directory("eos");
  std::mt19937 random(20261205);
  int kills = 0;
  auto run = [&](int attempt) {
    auto job = std::make_unique<ServerProcess>(dir + "/job-" + std::to_string(attempt) + ".log");
    job->spawn({FJORD_EXACTLY_ONCE_TRANSFORMER, broker_.bootstrap(), "eos-job", input, topic_, "eos-job-txn", "37"});
    return job;
  };
  // Killed between 0.3 and 1.5 s after each start until eight kills landed inside an open transaction: the
  // coordinator's state right after the kill (nothing changes it until the next instance starts) says whether it
  // did. A kill between transactions tests less, so it does not count.
  int kills_in_transaction = 0;
  for (int attempt = 0; attempt < 30 && kills_in_transaction < 8; ++attempt) {
    auto job = run(attempt);
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 1200));
    if (!job->running()) continue;  // it ended on its own (a transaction error ends it): the next one goes on
    job->stop(SIGKILL);
    ++kills;
    if (state("eos-job-txn") == "Ongoing") ++kills_in_transaction;
  }
  std::printf("%d kills, %d inside an open transaction\n", kills, kills_in_transaction);
  EXPECT_EQ(kills_in_transaction, 8) << "of " << kills << " kills";
  // The killed instances got somewhere: part of the input is already through, committed.
  const size_t through = read("read_committed", {0, 1, 2}, static_cast<size_t>(count), 3000).size();
  EXPECT_GT(through, 0u) << "no killed instance committed anything";
  EXPECT_LT(through, static_cast<size_t>(count)) << "the kills came after the work was done";
  auto last = run(99);
  auto output = read("read_committed", {0, 1, 2}, static_cast<size_t>(count), 60000);
  last->stop(SIGTERM);
  std::map<std::string, int> seen;
  for (const auto& r : output) ++seen[r.key.value_or("")];
  EXPECT_EQ(static_cast<int>(output.size()), count);
  EXPECT_EQ(static_cast<int>(seen.size()), count) << "an input record is missing from the output";
  for (const auto& [key, times] : seen) ASSERT_EQ(times, 1) << key << " was written " << times << " times";
}

// The payments example's exactly-once ledger (the SDK's exactly-once processing, examples/payments): two member
// processes SIGKILLed in turn while they post; each restarted member fences its killed predecessor. A
// read_committed reader finds every payment posted exactly once and the balances the payments add up to.
TEST_F(Transactions, ThePaymentsLedgerPostsEachPaymentOnceWhileItsMembersAreKilled) {
  const std::string input = topic_ + "-payments", postings = topic_ + "-postings";
  ASSERT_EQ(Admin(broker_.bootstrap()).create_topic(input, 6), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(Admin(broker_.bootstrap()).create_topic(postings, 6), RD_KAFKA_RESP_ERR_NO_ERROR);
  const int payments = 3000, accounts = 10;
  const std::string dir = make_temp_directory("eos-payments");
  int started = 0;
  auto member = [&](int id) {
    auto process = std::make_unique<ServerProcess>(dir + "/member-" + std::to_string(started++) + ".log");
    process->spawn(
        {FJORD_PAYMENTS_POSTINGS, broker_.bootstrap(), input, "ledger", postings, "member-" + std::to_string(id)});
    return process;
  };
  std::unique_ptr<ServerProcess> members[2] = {member(0), member(1)};
  // The payments arrive while the members run, so every kill finds work under way.
  std::thread upstream([&] {
    for (int sent = 0; sent < payments; sent += 300) {
      examples::produce_payments(broker_.bootstrap(), input, 300, accounts, 1, sent);
      std::this_thread::sleep_for(300ms);
    }
  });
  std::mt19937 random(1205);
  for (int kill = 0; kill < 6; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + random() % 800));
    const int id = kill % 2;
    members[id]->stop(SIGKILL);
    members[id] = member(id);
  }
  upstream.join();
  examples::Postings result;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while ((result = examples::read_postings(broker_.bootstrap(), postings, 10s)).records < payments &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  for (auto& m : members) m->stop(SIGTERM);
  EXPECT_EQ(result.records, payments);
  ASSERT_EQ(result.per_payment.size(), static_cast<size_t>(payments)) << "a payment was never posted";
  for (const auto& [event, n] : result.per_payment) EXPECT_EQ(n, 1) << event << " posted " << n << " times";
  std::map<std::string, int64_t> expected;
  for (int i = 0; i < payments; ++i) expected["acct-" + std::to_string(i % accounts)] += 100 + (i * 37) % 9900;
  EXPECT_EQ(result.balances, expected);
}

// `fjord group describe` counts lag to what a read_committed consumer can read: an open transaction's records
// are not lag yet (the log end shown is the last stable offset), and count once the transaction commits.
TEST_F(Transactions, GroupLagCountsOnlyWhatAReadCommittedConsumerCanRead) {
  create(1);
  client::Producer producer(transactional("lag-txn"));
  producer.begin_transaction();
  send(producer, topic_, "first-", 5);
  producer.commit_transaction();  // offsets 0-4 and the commit marker at 5
  {
    auto conf = client_conf(broker_.bootstrap(), {{"group.id", "lag-readers"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> offsets = {RdKafka::TopicPartition::create(topic_, 0, 2)};
    ASSERT_EQ(consumer->commitSync(offsets), RdKafka::ERR_NO_ERROR);
    delete offsets[0];
    consumer->close();
  }
  producer.begin_transaction();
  send(producer, topic_, "open-", 3);  // offsets 6-8, open: the high watermark is 9, the last stable offset 6
  ASSERT_TRUE(producer.flush(30s));
  auto describe = [&] {
    auto json = nlohmann::json::parse(run_command(std::string(FJORD_BINARY) + " group --bootstrap-server " +
                                                  broker_.bootstrap() + " --format json describe lag-readers"));
    const auto& row = json.at("partitions").at(0);
    return std::pair{row.at("log_end_offset").get<int64_t>(), row.at("lag").get<int64_t>()};
  };
  EXPECT_EQ(describe(), (std::pair<int64_t, int64_t>{6, 4}));
  producer.commit_transaction();  // the commit marker at 9
  EXPECT_EQ(describe(), (std::pair<int64_t, int64_t>{10, 8}));
}

// The requests a transactional producer sends, one by one, so that a late batch can be staged exactly: the
// produce of a transaction that already ended, arriving after its abort marker (KAFKA-17754's hanging
// transaction), and a batch to a partition never added to the transaction.
class RawTransactions : public Transactions {
 protected:
  protocol::InitProducerIdResponse init(const std::string& id) {
    protocol::InitProducerIdRequest r;
    r.transactional_id = id;
    r.transaction_timeout_ms = 60000;
    return call<protocol::InitProducerIdResponse>(r, 4, true);
  }
  int16_t add(const std::string& id, int64_t producer_id, int16_t epoch) {
    protocol::AddPartitionsToTxnRequest r;
    r.v3_and_below_transactional_id = id;
    r.v3_and_below_producer_id = producer_id;
    r.v3_and_below_producer_epoch = epoch;
    auto& t = r.v3_and_below_topics.emplace_back();
    t.name = topic_;
    t.partitions = {0};
    return call<protocol::AddPartitionsToTxnResponse>(r, 3, true)
        .results_by_topic_v3_and_below[0]
        .results_by_partition[0]
        .partition_error_code;
  }
  int16_t produce(const std::optional<std::string>& id, int64_t producer_id, int16_t epoch, int32_t sequence) {
    protocol::Record record;
    record.timestamp = 1;
    record.value = protocol::Bytes{1, 2, 3};
    protocol::BatchBuildOptions options;
    options.producer_id = producer_id;
    options.producer_epoch = epoch;
    options.base_sequence = sequence;
    options.transactional = true;
    protocol::ProduceRequest r;
    r.transactional_id = id;
    r.acks = -1;
    r.timeout_ms = 10000;
    auto& t = r.topic_data.emplace_back();
    t.name = topic_;
    auto& p = t.partition_data.emplace_back();
    p.records = protocol::Records::own(protocol::build_batch({record}, options));
    return call<protocol::ProduceResponse>(r, 9, true).responses[0].partition_responses[0].error_code;
  }
  int16_t end(const std::string& id, int64_t producer_id, int16_t epoch, bool commit) {
    protocol::EndTxnRequest r;
    r.transactional_id = id;
    r.producer_id = producer_id;
    r.producer_epoch = epoch;
    r.committed = commit;
    return call<protocol::EndTxnResponse>(r, 3, true).error_code;
  }
  // ListOffsets latest: under read_committed, the last stable offset.
  int64_t latest(int8_t isolation) {
    protocol::ListOffsetsRequest r;
    r.replica_id = -1;
    r.isolation_level = isolation;
    auto& t = r.topics.emplace_back();
    t.name = topic_;
    t.partitions.emplace_back().timestamp = -1;
    return call<protocol::ListOffsetsResponse>(r, 7, true).topics[0].partitions[0].offset;
  }
};

TEST_F(RawTransactions, ALateBatchOfAnEndedTransactionCannotOpenOneThatNothingEnds) {
  create(1);
  auto producer = init("late");
  ASSERT_EQ(producer.error_code, 0);
  const int64_t id = producer.producer_id;
  const int16_t epoch = producer.producer_epoch;
  EXPECT_EQ(produce("late", id, epoch, 0), wire(ErrorCode::kInvalidTxnState))
      << "a batch to a partition not added to the transaction was written";
  ASSERT_EQ(add("late", id, epoch), 0);
  ASSERT_EQ(produce("late", id, epoch, 0), 0);
  EXPECT_EQ(latest(1), 0) << "the open transaction holds the last stable offset at its first batch";
  EXPECT_EQ(latest(0), 1);
  ASSERT_EQ(end("late", id, epoch, false), 0);
  for (int i = 0; i < 100 && state("late") != "CompleteAbort"; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(state("late"), "CompleteAbort");
  EXPECT_EQ(latest(1), 2) << "the abort marker ended it";
  // The producer's second batch of that transaction, delayed in the network until after the abort.
  EXPECT_EQ(produce("late", id, epoch, 1), wire(ErrorCode::kInvalidTxnState));
  EXPECT_EQ(produce(std::nullopt, id, epoch, 1), wire(ErrorCode::kInvalidTxnState)) << "without a transactional id";
  EXPECT_EQ(latest(0), 2) << "the late batch was written";
  EXPECT_EQ(latest(1), 2) << "a transaction hangs open";
}

// `fjord txn`: what the coordinator and a partition's leader know of a transaction, and an operator's abort of
// an open transaction in one partition (the way out of a hanging transaction), which frees read_committed readers.
TEST_F(Transactions, TheTxnToolDescribesTransactionsAndAbortsAnOpenOneInAPartition) {
  create(1);
  client::Producer open(transactional("tool-open"));
  open.close_timeout = 2s;
  open.begin_transaction();
  send(open, topic_, "open-", 3);
  ASSERT_TRUE(open.flush(30s));
  auto fjord = [&](const std::string& arguments) {
    return run_command(std::string(FJORD_BINARY) + " txn --bootstrap-server " + broker_.bootstrap() + " " + arguments +
                       " 2>&1");
  };
  const std::string listed = fjord("list");
  EXPECT_NE(listed.find("tool-open"), std::string::npos) << listed;
  EXPECT_NE(listed.find("Ongoing"), std::string::npos) << listed;
  const std::string described = fjord("--format json describe tool-open");
  EXPECT_NE(described.find("\"state\": \"Ongoing\""), std::string::npos) << described;
  EXPECT_NE(described.find("\"topic\": \"" + topic_ + "\""), std::string::npos) << described;
  EXPECT_NE(fjord("describe no-such-id").find("exit status"), std::string::npos) << "an unknown id is an error";
  const std::string producers = fjord("--format json producers --topic " + topic_ + " --partition 0");
  EXPECT_NE(producers.find("\"current_txn_start_offset\": 0"), std::string::npos) << producers;

  // Behind the open transaction, another commits: read_committed sees nothing until the open one is aborted here.
  client::Producer other(transactional("tool-other"));
  other.begin_transaction();
  send(other, topic_, "after-", 2);
  other.commit_transaction();
  EXPECT_EQ(read("read_committed", {0}, 1, 2000).size(), 0u);
  const auto id = nlohmann::json::parse(producers).at(0).at("producer_id").get<int64_t>();
  const std::string aborted = fjord("abort --topic " + topic_ + " --partition 0 --producer-id " + std::to_string(id));
  EXPECT_NE(aborted.find("aborted the transaction"), std::string::npos) << aborted;
  auto committed = values(read("read_committed", {0}, 2, 8000));
  EXPECT_EQ(committed, (std::multiset<std::string>{"after-0", "after-1"}));
  EXPECT_NE(fjord("abort --topic " + topic_ + " --partition 0 --producer-id " + std::to_string(id)).find("exit status"),
            std::string::npos)
      << "a second abort found an open transaction";
}

}  // namespace
}  // namespace fjord::testing
