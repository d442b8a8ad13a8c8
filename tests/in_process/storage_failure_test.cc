// A disk that fails a sync, or fills up, under a whole broker: the data directory goes offline, every request
// waiting on the failed sync is answered KAFKA_STORAGE_ERROR, nothing is synced or acknowledged after it, and a
// real client (librdkafka) sees the error, or in a cluster the partition move, never a success for a record that
// a power loss then takes away.
#include <gtest/gtest.h>

#include <array>

#include "cluster/partition.h"
#include "cluster/partition_manager.h"
#include "tests/support/in_process_broker.h"
#include "tests/support/kafka_clients.h"

namespace fjord::testing {
namespace {

using namespace std::chrono_literals;

cluster::Partition* create_topic(InProcessBroker& b, const std::string& topic, int16_t replicas,
                                 const cluster::ConfigMap& configs = {}) {
  bool created = false;
  b.broker().partitions().create_topic(topic, 1, replicas, configs, false,
                                       [&](cluster::AdminResult r) { created = r.error == ErrorCode::kNone; });
  EXPECT_TRUE(poll_until({&b}, [&] { return created; }));
  return b.broker().partitions().partition(topic, 0);
}

struct Answer {
  bool answered = false;
  ErrorCode error = ErrorCode::kNone;
};

TEST(StorageFailure, AFailedSyncAnswersEveryWaitingRequestWithKafkaStorageErrorAndStopsAllSyncs) {
  storage::testing::SimulatedFileSystem disk;
  InProcessBroker b(1, disk, nullptr);
  b.start();
  auto* partition = create_topic(b, "ledger", 1);
  ASSERT_NE(partition, nullptr);

  // A group commit in flight, covering writes of both kinds of acknowledgement.
  b.hold_io = true;
  std::vector<std::vector<uint8_t>> buffers;
  std::vector<std::shared_ptr<Answer>> answers;
  for (int i = 0; i < 6; ++i) {
    buffers.push_back(batch_of(3));
    auto answer = std::make_shared<Answer>();
    partition->append(buffers.back(), i % 2 ? 1 : -1).then([answer](cluster::ProduceResult r) {
      answer->answered = true;
      answer->error = r.error;
    });
    answers.push_back(answer);
  }
  b.poll();
  for (const auto& a : answers) EXPECT_FALSE(a->answered) << "acknowledged before its sync";
  disk.fail_syncs(1);
  b.hold_io = false;
  ASSERT_TRUE(poll_until(
      {&b}, [&] { return std::all_of(answers.begin(), answers.end(), [](const auto& a) { return a->answered; }); }));
  for (const auto& a : answers) EXPECT_EQ(a->error, ErrorCode::kKafkaStorageError);
  EXPECT_TRUE(b.broker().directory_health().offline());
  EXPECT_NE(b.metrics_text().find("fjord_log_directory_offline 1"), std::string::npos);

  // Later requests: refused at once, and nothing is synced again (a retried fsync can report success over
  // pages the kernel dropped).
  const auto syncs_before = disk.sync_count();
  buffers.push_back(batch_of(1));
  Answer later;
  partition->append(buffers.back(), -1).then([&](cluster::ProduceResult r) {
    later.answered = true;
    later.error = r.error;
  });
  poll_until(
      {&b}, [] { return false; }, 200ms);
  EXPECT_TRUE(later.answered);
  EXPECT_EQ(later.error, ErrorCode::kKafkaStorageError);
  EXPECT_EQ(partition->leader_error(-1), ErrorCode::kKafkaStorageError) << "fetches would still be served";
  EXPECT_EQ(disk.sync_count(), syncs_before) << "something was synced after a failed sync";
  b.stop_cleanly();
  EXPECT_EQ(disk.sync_count(), syncs_before) << "the clean stop synced an offline directory";
}

TEST(StorageFailure, AFullDiskTakesTheDirectoryOffline) {
  storage::testing::SimulatedFileSystem disk;
  InProcessBroker b(1, disk, nullptr);
  b.start();
  auto* orders = create_topic(b, "orders", 1);
  auto* payments = create_topic(b, "payments", 1);
  b.hold_io = true;
  auto first = batch_of(2);
  Answer waiting;
  payments->append(first, -1).then([&](cluster::ProduceResult r) {
    waiting.answered = true;
    waiting.error = r.error;
  });
  disk.fail_appends(1);
  auto second = batch_of(2);
  Answer full;
  orders->append(second, -1).then([&](cluster::ProduceResult r) {
    full.answered = true;
    full.error = r.error;
  });
  EXPECT_TRUE(full.answered);
  EXPECT_EQ(full.error, ErrorCode::kKafkaStorageError);
  EXPECT_TRUE(waiting.answered) << "a write waiting on another partition's sync was left waiting";
  EXPECT_EQ(waiting.error, ErrorCode::kKafkaStorageError);
  EXPECT_TRUE(b.broker().directory_health().offline());
}

// A real client against a broker whose disk fails mid-stream: what it was told is written survives a power loss.
TEST(StorageFailure, AClientIsNeverToldOfASuccessThatAPowerLossTakesAway) {
  storage::testing::SimulatedFileSystem disk;
  auto b = std::make_unique<InProcessBroker>(1, disk, nullptr);
  b->start();
  create_topic(*b, "ledger", 1);
  TestProducer producer("127.0.0.1:" + std::to_string(b->port()), {{"acks", "all"},
                                                                   {"enable.idempotence", "true"},
                                                                   {"linger.ms", "2"},
                                                                   {"message.timeout.ms", "4000"},
                                                                   {"retry.backoff.ms", "50"}});
  auto delivered = [&] { return producer.deliveries.size(); };
  int64_t next = 0;
  auto produce_some = [&](int count) {
    for (int i = 0; i < count; ++i) producer.produce("ledger", 0, 7, next++);
  };
  produce_some(100);
  ASSERT_TRUE(poll_until({b.get()}, [&] {
    producer.handle().poll(0);
    return delivered() == 100;
  }));
  // The disk fails while the stream goes on.
  disk.fail_syncs(1);
  produce_some(100);
  ASSERT_TRUE(poll_until(
      {b.get()},
      [&] {
        producer.handle().poll(0);
        return delivered() == 200;
      },
      20s))
      << "every record gets a verdict";
  size_t failed = 0;
  for (const auto& [index, d] : producer.deliveries) failed += d.error != RdKafka::ERR_NO_ERROR;
  EXPECT_GT(failed, 0u) << "the client never heard of the failure";

  // Power loss: every record the client was told is written is still there, where it was told.
  b.reset();
  disk.crash();
  InProcessBroker restarted(1, disk, nullptr);
  restarted.start();
  auto survived = records_of(restarted.broker().partitions().partition("ledger", 0)->log());
  for (const auto& [index, d] : producer.deliveries) {
    if (d.error != RdKafka::ERR_NO_ERROR) continue;
    auto it = survived.find(d.offset);
    ASSERT_TRUE(it != survived.end()) << "record " << index << " was acknowledged at offset " << d.offset
                                      << " and lost to the power loss";
    EXPECT_EQ(it->second, generate_record(7, index).value);
  }
}

// In a cluster the broker whose disk failed leaves at once and an in-sync replica leads: the client's records
// move there, and none it was told is written is lost when every broker then loses power.
TEST(StorageFailure, InAClusterThePartitionMovesAndNothingAcknowledgedIsLost) {
  cluster::testing::MemoryCluster cluster;
  std::array<storage::testing::SimulatedFileSystem, 3> disks;
  std::array<std::unique_ptr<InProcessBroker>, 3> brokers;
  const std::map<std::string, std::string> settings = {{"replica.fetch.wait.max.ms", "50"},
                                                       {"replica.lag.time.max.ms", "10000"}};
  std::string bootstrap;
  for (int32_t id = 1; id <= 3; ++id) {
    brokers[static_cast<size_t>(id - 1)] =
        std::make_unique<InProcessBroker>(id, disks[static_cast<size_t>(id - 1)], &cluster, settings);
    brokers[static_cast<size_t>(id - 1)]->start();
    bootstrap += (bootstrap.empty() ? "" : ",") + std::string("127.0.0.1:") +
                 std::to_string(brokers[static_cast<size_t>(id - 1)]->port());
  }
  auto running = [&] {
    std::vector<InProcessBroker*> out;
    for (auto& b : brokers) {
      if (b) out.push_back(b.get());
    }
    return out;
  };
  auto leader_of = [&] {
    auto it = cluster.metadata().topics.find("ledger");
    return it == cluster.metadata().topics.end() || it->second.assignments.empty() ? -1
                                                                                   : it->second.assignments[0].leader;
  };
  create_topic(*brokers[0], "ledger", 3, {{"min.insync.replicas", "2"}});
  ASSERT_TRUE(poll_until(running(), [&] {
    const int32_t leader = leader_of();
    if (leader < 1) return false;
    auto* p = brokers[static_cast<size_t>(leader - 1)]->broker().partitions().partition("ledger", 0);
    return p && p->is_leader() && p->isr().size() == 3;
  }));
  const int32_t first_leader = leader_of();

  TestProducer producer(bootstrap, {{"acks", "all"},
                                    {"enable.idempotence", "true"},
                                    {"linger.ms", "2"},
                                    {"message.timeout.ms", "20000"},
                                    {"retry.backoff.ms", "50"},
                                    {"topic.metadata.refresh.interval.ms", "500"}});
  int64_t next = 0;
  auto stream = [&](int count, std::chrono::milliseconds within) {
    for (int i = 0; i < count; ++i) producer.produce("ledger", 0, 9, next++);
    return poll_until(
        running(),
        [&] {
          producer.handle().poll(0);
          return producer.deliveries.size() == static_cast<size_t>(next);
        },
        within);
  };
  ASSERT_TRUE(stream(100, 10s));
  disks[static_cast<size_t>(first_leader - 1)].fail_syncs(1);
  ASSERT_TRUE(stream(200, 30s)) << "records were left without a verdict";
  EXPECT_TRUE(brokers[static_cast<size_t>(first_leader - 1)]->broker().directory_health().offline());
  EXPECT_NE(leader_of(), first_leader) << "the partition did not move";
  size_t acknowledged_after_the_move = 0;
  for (int64_t index = 100; index < next; ++index) {
    acknowledged_after_the_move += producer.deliveries[index].error == RdKafka::ERR_NO_ERROR;
  }
  EXPECT_GT(acknowledged_after_the_move, 150u) << "the stream did not carry on on the new leader";

  // Every broker loses power; the two that did not fail come back, and one of them leads with every record
  // any client was told is written.
  for (size_t i = 0; i < 3; ++i) {
    brokers[i].reset();
    disks[i].crash();
  }
  for (int32_t id = 1; id <= 3; ++id) {
    if (id == first_leader) continue;
    brokers[static_cast<size_t>(id - 1)] =
        std::make_unique<InProcessBroker>(id, disks[static_cast<size_t>(id - 1)], &cluster, settings);
    brokers[static_cast<size_t>(id - 1)]->start();
  }
  ASSERT_TRUE(poll_until(running(), [&] {
    const int32_t leader = leader_of();
    return leader > 0 && leader != first_leader &&
           brokers[static_cast<size_t>(leader - 1)]->broker().partitions().partition("ledger", 0)->is_leader();
  }));
  auto survived =
      records_of(brokers[static_cast<size_t>(leader_of() - 1)]->broker().partitions().partition("ledger", 0)->log());
  for (const auto& [index, d] : producer.deliveries) {
    if (d.error != RdKafka::ERR_NO_ERROR || d.offset < 0) continue;
    auto it = survived.find(d.offset);
    ASSERT_TRUE(it != survived.end()) << "record " << index << " was acknowledged at offset " << d.offset
                                      << " and lost";
    EXPECT_EQ(it->second, generate_record(9, index).value);
  }
}

}  // namespace
}  // namespace fjord::testing
