// Transactions on a three-broker cluster with a real etcd: a transaction's partitions are led by different
// brokers, so the coordinator writes its markers to the others (WriteTxnMarkers) and their leaders ask it whether
// a partition is in a transaction (AddPartitionsToTxn verify_only). An exactly-once consume-transform-produce job
// (librdkafka 2.0.2 through the SDK) is SIGKILLed at random moments and the broker coordinating its transactions
// is SIGKILLed and restarted in the middle; the output, read committed, must hold every input record exactly once.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <random>

#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/find_coordinator.h"
#include "tests/support/server_process.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

class ClusterTransactions : public ThreeBrokerCluster {
 protected:
  // The broker coordinating `transactional_id`, as a broker answers FindCoordinator (-1 until there is one).
  int32_t coordinator_of(const std::string& transactional_id) {
    for (int id = 1; id <= 3; ++id) {
      if (!broker(id).running()) continue;
      try {
        RawClient client(broker(id).port());
        protocol::FindCoordinatorRequest request;
        request.key = transactional_id;
        request.key_type = 1;
        client.send(request, 3, 1);
        auto frame = client.receive(std::chrono::seconds(2));
        if (!frame) continue;
        auto response = RawClient::decode<protocol::FindCoordinatorResponse>(*frame, 3, true, nullptr);
        if (response.error_code == 0) return response.node_id;
      } catch (const std::exception&) {
      }
    }
    return -1;
  }

  // The coordinator's state of `transactional_id` (DescribeTransactions): "Ongoing" while a transaction is open.
  std::string transaction_state(const std::string& transactional_id) {
    const int32_t coordinator = coordinator_of(transactional_id);
    if (coordinator < 0) return "no coordinator";
    RawClient client(broker(coordinator).port());
    protocol::DescribeTransactionsRequest request;
    request.transactional_ids = {transactional_id};
    client.send(request, 0, 1);
    auto frame = client.receive(std::chrono::seconds(5));
    if (!frame) return "no answer";
    auto response = RawClient::decode<protocol::DescribeTransactionsResponse>(*frame, 0, true, nullptr);
    return response.transaction_states.at(0).transaction_state;
  }
};

TEST_F(ClusterTransactions, AnExactlyOnceJobSurvivesItsOwnKillsAndItsCoordinatorsDeath) {
  const std::string input = "eos-cluster-in", output = "eos-cluster-out";
  {
    Admin admin(bootstrap());
    ASSERT_EQ(admin.create_topic(input, 3, {}, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
    ASSERT_EQ(admin.create_topic(output, 3, {}, 3), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  const int count = 6000;  // enough work to outlast up to eight job kills and the coordinator's
  {
    TestProducer producer(bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < count; ++i) producer.produce(input, i % 3, 61, i);
    ASSERT_TRUE(producer.flush(60000));
  }
  const std::string dir = make_temp_directory("eos-cluster");
  std::mt19937 random(5);
  auto run = [&](int attempt) {
    auto job = std::make_unique<ServerProcess>(dir + "/job-" + std::to_string(attempt) + ".log");
    job->spawn(
        {FJORD_EXACTLY_ONCE_TRANSFORMER, bootstrap(), "eos-cluster-job", input, output, "eos-cluster-txn", "29"});
    return job;
  };
  auto committed_output = [&](size_t expected, int timeout_ms) {
    return consume(bootstrap(), output, {0, 1, 2}, RdKafka::Topic::OFFSET_BEGINNING, expected, timeout_ms,
                   {{"isolation.level", "read_committed"}});
  };

  // Kills of the job alone until two landed inside an open transaction (the coordinator's state right after
  // the kill says so: nothing changes it until the next instance starts).
  int kills_in_transaction = 0, attempt = 0;
  for (; attempt < 8 && kills_in_transaction < 2; ++attempt) {
    auto job = run(attempt);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + random() % 1000));
    // A slow machine (or the sanitizers) may still be starting the job: the kill waits until a transaction is
    // open, so that it lands inside one however long the start took.
    wait_until([&] { return !job->running() || transaction_state("eos-cluster-txn") == "Ongoing"; },
               std::chrono::seconds(10), std::chrono::milliseconds(20));
    if (!job->running()) continue;
    job->stop(SIGKILL);
    if (transaction_state("eos-cluster-txn") == "Ongoing") ++kills_in_transaction;
  }
  std::printf("%d attempts, %d kills inside an open transaction\n", attempt, kills_in_transaction);
  EXPECT_EQ(kills_in_transaction, 2) << "in " << attempt << " attempts";
  // The broker coordinating the job's transactions dies while the job runs, and comes back.
  int32_t coordinator = -1;
  ASSERT_TRUE(
      wait_until([&] { return (coordinator = coordinator_of("eos-cluster-txn")) > 0; }, std::chrono::seconds(20)));
  {
    auto job = run(attempt++);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    // Killed while the coordinator itself says a transaction is open, so that its successor has one to finish.
    std::string state_at_kill;
    wait_until([&] { return (state_at_kill = transaction_state("eos-cluster-txn")) == "Ongoing"; },
               std::chrono::seconds(10));
    broker(coordinator).kill();
    EXPECT_EQ(state_at_kill, "Ongoing") << "the coordinator's broker was not killed inside an open transaction";
    std::this_thread::sleep_for(std::chrono::seconds(4));
    broker(coordinator).start();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    job->stop(SIGKILL);
  }
  const size_t through = committed_output(static_cast<size_t>(count), 5000).size();
  EXPECT_GT(through, 0u) << "nothing got through before the last run";
  EXPECT_LT(through, static_cast<size_t>(count)) << "the kills came after the work was done";

  // The last run finishes the input (restarted if a transaction step failed during the failover).
  std::vector<ConsumedRecord> records;
  for (const int first = attempt; attempt < first + 5; ++attempt) {
    auto job = run(attempt);
    records = committed_output(static_cast<size_t>(count), 30000);
    job->stop(SIGTERM);
    if (static_cast<int>(records.size()) >= count) break;
  }
  // The markers crossed brokers: the coordinator wrote some through other leaders, and leaders asked it.
  double remote_markers = 0, verifications = 0;
  for (int id = 1; id <= 3; ++id) {
    remote_markers += broker(id).metric("fjord_requests_total{api=\"WriteTxnMarkers\"}");
    verifications += broker(id).metric("fjord_requests_total{api=\"AddPartitionsToTxn\"}");
  }
  EXPECT_GT(remote_markers, 0) << "no marker went to another broker";
  EXPECT_GT(verifications, 0);
  std::map<std::string, int> seen;
  for (const auto& r : records) ++seen[r.key.value_or("")];
  EXPECT_EQ(static_cast<int>(records.size()), count);
  EXPECT_EQ(static_cast<int>(seen.size()), count) << "an input record is missing from the output";
  for (const auto& [key, times] : seen) {
    if (times == 1) continue;
    std::string copies;
    for (const auto& r : records) {
      if (r.key == key) copies += " " + std::to_string(r.partition) + "@" + std::to_string(r.offset);
    }
    ADD_FAILURE() << key << " was written " << times << " times, at" << copies;
    for (int job = 0; job <= attempt; ++job) {
      std::printf("---- job %d:\n%s\n", job,
                  run_command("cat " + dir + "/job-" + std::to_string(job) + ".log 2>/dev/null | tail -5").c_str());
    }
    break;
  }
}

}  // namespace
}  // namespace fjord::testing
