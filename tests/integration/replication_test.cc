// Replication on a real three-broker cluster coordinated by a real etcd, driven by librdkafka: acknowledged
// records survive leaders killed with SIGKILL and paused with SIGSTOP, acks=all refuses to write when too few
// replicas are in sync and recovers when they return, and the cluster's metadata outlives an etcd restart and a
// controller's death.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_partition_reassignments.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"
#include "tests/support/broker_process.h"
#include "tests/support/etcd_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/partition_proxy.h"
#include "tests/support/raw_client.h"
#include "tests/support/scale.h"
#include "tests/support/test_certificates.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

// Writes records "0", "1", ... to partition 0 until stopped, with idempotence and acks=all, and remembers each
// acknowledgement's offset.
class ContinuousProducer : public RdKafka::DeliveryReportCb {
 public:
  ContinuousProducer(const std::string& bootstrap, const std::string& topic,
                     const std::map<std::string, std::string>& extra = {})
      : topic_(topic) {
    std::map<std::string, std::string> settings = {{"enable.idempotence", "true"},
                                                   {"acks", "all"},
                                                   {"linger.ms", "5"},
                                                   {"message.timeout.ms", "300000"},
                                                   {"reconnect.backoff.ms", "50"},
                                                   {"reconnect.backoff.max.ms", "500"},
                                                   {"topic.metadata.refresh.interval.ms", "1000"}};
    for (const auto& [key, value] : extra) settings[key] = value;
    auto conf = client_conf(bootstrap, settings);
    std::string error;
    conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error);
    producer_.reset(RdKafka::Producer::create(conf.get(), error));
    thread_ = std::thread([this] { run_command(); });
  }
  ~ContinuousProducer() override { finish(); }

  // Stops producing and waits for every outstanding delivery report.
  void finish() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }
  void dr_cb(RdKafka::Message& message) override {
    std::lock_guard lock(mutex_);
    const int64_t index = std::stoll(std::string(static_cast<const char*>(message.payload()), message.len()));
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      acknowledged_[index] = message.offset();
    } else {
      failed_[index] = message.err();
    }
  }
  size_t acknowledged_count() {
    std::lock_guard lock(mutex_);
    return acknowledged_.size();
  }
  std::map<int64_t, int64_t> acknowledged() {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }
  std::map<int64_t, RdKafka::ErrorCode> failed() {
    std::lock_guard lock(mutex_);
    return failed_;
  }
  int64_t sent() const { return next_; }

 private:
  void run_command() {
    while (!stop_) {
      std::string value = std::to_string(next_);
      auto result = producer_->produce(topic_, 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr,
                                       0, 0, nullptr);
      if (result == RdKafka::ERR__QUEUE_FULL) {
        producer_->poll(50);
        continue;
      }
      ++next_;
      producer_->poll(0);
      if (next_ % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    producer_->flush(300000);
  }

  std::string topic_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> next_{0};
  std::mutex mutex_;
  std::map<int64_t, int64_t> acknowledged_;
  std::map<int64_t, RdKafka::ErrorCode> failed_;
};

// Every acknowledged record is in the log exactly once, at the offset its acknowledgement named, and the log
// holds each record at most once, in the order it was sent.
void expect_nothing_lost_or_repeated(const std::string& bootstrap, const std::string& topic,
                                     const std::map<int64_t, int64_t>& acknowledged, int64_t sent) {
  // Everything up to the log's end, asked for, rather than waiting out a timeout for a record past it.
  auto conf = client_conf(bootstrap, {});
  std::string error;
  std::unique_ptr<RdKafka::Consumer> ends(RdKafka::Consumer::create(conf.get(), error));
  int64_t low = -1, high = -1;
  ASSERT_EQ(ends->query_watermark_offsets(topic, 0, &low, &high, 10000), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(low, 0);
  ASSERT_LE(high, sent) << "the log holds more records than were sent";
  auto records = consume(bootstrap, topic, {0}, RdKafka::Topic::OFFSET_BEGINNING, static_cast<size_t>(high), 30000,
                         {{"fetch.wait.max.ms", "100"}});
  ASSERT_EQ(records.size(), static_cast<size_t>(high)) << "the log's end is " << high;
  std::map<int64_t, int64_t> offset_of;
  int64_t previous_offset = -1;
  int64_t previous_index = -1;
  for (const auto& r : records) {
    const int64_t index = std::stoll(r.value);
    ASSERT_GT(r.offset, previous_offset) << "offsets went backwards";
    ASSERT_TRUE(offset_of.emplace(index, r.offset).second)
        << "record " << index << " is in the log twice (offsets " << offset_of[index] << " and " << r.offset << ")";
    ASSERT_GT(index, previous_index) << "record " << index << " at offset " << r.offset << " is out of order";
    previous_offset = r.offset;
    previous_index = index;
  }
  for (const auto& [index, offset] : acknowledged) {
    auto it = offset_of.find(index);
    ASSERT_TRUE(it != offset_of.end()) << "acknowledged record " << index << " (offset " << offset << ") was lost";
    // An idempotent producer whose request failed without a verdict (the leader died, or answered
    // NOT_ENOUGH_REPLICAS_AFTER_APPEND) learns the records were written when a later batch of the same producer
    // succeeds, and reports them delivered without an offset: their place in the log is checked above.
    if (offset == RdKafka::Topic::OFFSET_INVALID) continue;
    ASSERT_EQ(it->second, offset) << "acknowledged record " << index << " moved";
  }
}

TEST_F(ThreeBrokerCluster, AcksAllLosesNothingWhileLeadersAreKilledAndPaused) {
  create_replicated_topic("payments", 1);
  ContinuousProducer producer(bootstrap(), "payments");
  ASSERT_TRUE(wait_until([&] { return producer.acknowledged_count() > 100; }, std::chrono::seconds(30)));

  const int kills = scaled(20, 40);
  const int pauses = scaled(3, 10);
  std::set<int32_t> leaders_seen;
  for (int round = 0; round < kills + pauses; ++round) {
    PartitionView before = describe("payments", 0);
    ASSERT_GE(before.leader, 1) << "round " << round << ": no leader";
    leaders_seen.insert(before.leader);
    const size_t acknowledged_before = producer.acknowledged_count();
    BrokerProcess& victim = broker(before.leader);
    if (round < kills) {
      // Every fourth kill comes while both followers are stalled (paused for less than their session), so the
      // leader holds records they do not have: acknowledging those before the followers have them would lose
      // them here, when a follower takes over.
      const bool followers_stalled = round % 4 == 3;
      std::vector<int32_t> followers;
      for (int32_t r : before.replicas) {
        if (r != before.leader) followers.push_back(r);
      }
      if (followers_stalled) {
        for (int32_t f : followers) ASSERT_EQ(::kill(broker(f).pid(), SIGSTOP), 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
      }
      victim.kill();
      if (followers_stalled) {
        for (int32_t f : followers) ASSERT_EQ(::kill(broker(f).pid(), SIGCONT), 0);
      }
      ASSERT_TRUE(wait_until([&] { return describe("payments", 0).leader > 0; }, std::chrono::seconds(20)))
          << "round " << round << ": no new leader after broker " << before.leader << " was killed";
      victim.start();
    } else {
      // Paused past its session: the others elect a new leader; when it wakes it must follow, not lead.
      ASSERT_EQ(::kill(victim.pid(), SIGSTOP), 0);
      ASSERT_TRUE(wait_until(
          [&] {
            auto now = describe("payments", 0);
            return now.leader > 0 && now.leader != before.leader;
          },
          std::chrono::seconds(20)))
          << "round " << round << ": broker " << before.leader << " was paused but kept the lead";
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      ASSERT_EQ(::kill(victim.pid(), SIGCONT), 0);
    }
    ASSERT_TRUE(wait_until([&] { return describe("payments", 0).isr.size() == 3; }, std::chrono::seconds(30)))
        << "round " << round << ": broker " << before.leader << " did not catch up and rejoin the ISR";
    ASSERT_TRUE(
        wait_until([&] { return producer.acknowledged_count() > acknowledged_before + 50; }, std::chrono::seconds(30)))
        << "round " << round << ": writes did not resume";
  }
  producer.finish();
  EXPECT_GE(leaders_seen.size(), 2u) << "the lead never moved";
  auto failed = producer.failed();
  EXPECT_TRUE(failed.empty()) << failed.size() << " records failed, the first " << failed.begin()->first << ": "
                              << RdKafka::err2str(failed.begin()->second);
  auto acknowledged = producer.acknowledged();
  std::printf("%zu records acknowledged of %lld sent; %zu brokers led\n", acknowledged.size(),
              static_cast<long long>(producer.sent()), leaders_seen.size());
  ASSERT_GT(acknowledged.size(), 1000u);
  expect_nothing_lost_or_repeated(bootstrap(), "payments", acknowledged, producer.sent());
  // Every replica ends with the same bytes: followers store the leader's batches as they are.
  EXPECT_TRUE(wait_until(
      [&] {
        return log_bytes(broker(1), "payments-0") == log_bytes(broker(2), "payments-0") &&
               log_bytes(broker(2), "payments-0") == log_bytes(broker(3), "payments-0");
      },
      std::chrono::seconds(20)))
      << "replicas differ: " << log_bytes(broker(1), "payments-0") << " / " << log_bytes(broker(2), "payments-0")
      << " / " << log_bytes(broker(3), "payments-0") << " bytes";
}

class ProxiedThreeBrokerCluster : public ThreeBrokerCluster {
 protected:
  void SetUp() override { start_cluster(true); }
};

// A leader cut off from everyone — clients, followers and etcd — keeps running with a view that is going stale.
// The others elect a new leader once its lease expires; when the network heals it must find out, follow, and drop
// whatever it alone has, while an idempotent acks=all producer loses and repeats nothing.
TEST_F(ProxiedThreeBrokerCluster, ALeaderCutOffFromEveryoneIsReplacedAndRejoinsAsAFollower) {
  // A round may cut off a broker that an earlier round cut off: count its lost registrations, not just find one.
  auto registrations_lost = [&](int32_t id) {
    const std::string log = broker(id).log();
    size_t count = 0;
    for (size_t at = log.find("registering again"); at != std::string::npos; at = log.find("registering again", at + 1))
      ++count;
    return count;
  };
  create_replicated_topic("transfers", 1);
  // A request to the silent leader is given up after five seconds (and retried elsewhere) rather than thirty.
  ContinuousProducer producer(bootstrap(), "transfers", {{"request.timeout.ms", "5000"}});
  ASSERT_TRUE(wait_until([&] { return producer.acknowledged_count() > 100; }, std::chrono::seconds(30)));
  std::set<int32_t> leaders_seen;
  for (int round = 0; round < 3; ++round) {
    const PartitionView before = describe("transfers", 0);
    ASSERT_GE(before.leader, 1);
    leaders_seen.insert(before.leader);
    const size_t acknowledged_before = producer.acknowledged_count();
    const size_t registrations_lost_before = registrations_lost(before.leader);
    cut_off(before.leader);
    ASSERT_TRUE(wait_until(
        [&] {
          auto now = describe("transfers", 0);
          return now.leader > 0 && now.leader != before.leader;
        },
        std::chrono::seconds(20)))
        << "round " << round << ": broker " << before.leader << " was cut off but nobody took over";
    std::this_thread::sleep_for(std::chrono::seconds(1));
    heal(before.leader);
    // Right after the heal the old leader still answers Metadata from its stale view (itself leading, the old ISR),
    // so rejoining is judged from a view that names the new leader.
    ASSERT_TRUE(wait_until(
        [&] {
          auto now = describe("transfers", 0);
          return now.leader > 0 && now.leader != before.leader && now.isr.size() == 3;
        },
        std::chrono::seconds(40)))
        << "round " << round << ": broker " << before.leader << " did not rejoin the ISR after the network healed";
    // It was really cut off from etcd too: its lease expired and it had to register again.
    EXPECT_TRUE(wait_until([&] { return registrations_lost(before.leader) > registrations_lost_before; },
                           std::chrono::seconds(10)))
        << "round " << round << ": broker " << before.leader << " never lost its registration";
    ASSERT_TRUE(
        wait_until([&] { return producer.acknowledged_count() > acknowledged_before + 50; }, std::chrono::seconds(30)))
        << "round " << round << ": writes did not resume";
  }
  producer.finish();
  EXPECT_GE(leaders_seen.size(), 2u);
  auto failed = producer.failed();
  EXPECT_TRUE(failed.empty()) << failed.size() << " records failed";
  std::printf("%zu records acknowledged of %lld sent\n", producer.acknowledged().size(),
              static_cast<long long>(producer.sent()));
  expect_nothing_lost_or_repeated(bootstrap(), "transfers", producer.acknowledged(), producer.sent());
}

// A raw acks=all produce, so that the exact error comes back (a client would retry 19 until it timed out).
int16_t produce_raw(int port, const std::string& topic, int16_t acks) {
  RawClient client(port);
  protocol::ProduceRequest request;
  request.acks = acks;
  request.timeout_ms = 10000;
  auto& t = request.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  protocol::Record record;
  record.value = protocol::Bytes{'x'};
  p.records = protocol::Records::own(protocol::build_batch({record}, {}));
  client.send(request, 9, 1);
  auto frame = client.receive();
  if (!frame) return -1000;
  auto response = RawClient::decode<protocol::ProduceResponse>(*frame, 9, true, nullptr);
  return response.responses.at(0).partition_responses.at(0).error_code;
}

// What `fjord topic describe --format json` says of partition 0 of `topic`.
nlohmann::json described_by_cli(const std::string& bootstrap, const std::string& topic) {
  auto out = run_command(std::string(FJORD_BINARY) + " topic describe --bootstrap-server " + bootstrap +
                         " --format json " + topic);
  auto parsed = nlohmann::json::parse(out, nullptr, false);
  if (parsed.is_discarded() || parsed.empty()) return nlohmann::json::object();
  return parsed[0]["partitions"][0];
}

TEST_F(ThreeBrokerCluster, BothFollowersDownRefusesAcksAllAcceptsAcksOneAndRecovers) {
  create_replicated_topic("ledger", 1);
  const PartitionView placed = describe("ledger", 0);
  const int32_t leader = placed.leader;
  std::vector<int32_t> followers;
  for (int32_t r : placed.replicas) {
    if (r != leader) followers.push_back(r);
  }
  ASSERT_EQ(followers.size(), 2u);
  EXPECT_EQ(produce_raw(broker(leader).port(), "ledger", -1), 0);

  for (int32_t f : followers) broker(f).kill();
  ASSERT_TRUE(
      wait_until([&] { return describe("ledger", 0).isr == std::vector<int32_t>{leader}; }, std::chrono::seconds(20)))
      << "the dead followers stayed in the ISR";
  EXPECT_EQ(produce_raw(broker(leader).port(), "ledger", -1), 19) << "acks=all with ISR 1 < min.insync.replicas 2";
  EXPECT_EQ(produce_raw(broker(leader).port(), "ledger", 1), 0) << "acks=1 needs only the leader";
  // Operators see it: the leader's health series and the CLI.
  EXPECT_TRUE(wait_until([&] { return broker(leader).metric("fjord_partitions_under_min_isr") == 1; },
                         std::chrono::seconds(10)));
  EXPECT_EQ(broker(leader).metric("fjord_partitions_under_replicated"), 1);
  auto described = described_by_cli(broker(leader).bootstrap(), "ledger");
  EXPECT_EQ(described.value("under_min_isr", false), true) << described.dump();
  EXPECT_EQ(described.value("under_replicated", false), true) << described.dump();

  broker(followers[0]).start();
  ASSERT_TRUE(wait_until([&] { return describe("ledger", 0).isr.size() == 2; }, std::chrono::seconds(30)))
      << "the returning follower did not catch up";
  EXPECT_EQ(produce_raw(broker(leader).port(), "ledger", -1), 0);
  EXPECT_TRUE(wait_until([&] { return broker(leader).metric("fjord_partitions_under_min_isr") == 0; },
                         std::chrono::seconds(10)));
  described = described_by_cli(broker(leader).bootstrap(), "ledger");
  EXPECT_EQ(described.value("under_min_isr", true), false) << described.dump();
  EXPECT_EQ(described.value("under_replicated", false), true) << described.dump();
  // The follower has everything the leader acknowledged: after the leader dies it serves the same records.
  broker(leader).kill();
  ASSERT_TRUE(wait_until([&] { return describe("ledger", 0).leader == followers[0]; }, std::chrono::seconds(20)));
  auto records = consume(broker(followers[0]).bootstrap(), "ledger", {0}, RdKafka::Topic::OFFSET_BEGINNING, 3, 20000);
  EXPECT_EQ(records.size(), 3u) << "three writes were acknowledged";
  // And nothing else is there: the refused write left no record behind (asked of the log's end, not by waiting
  // for a fourth record that should never come).
  auto conf = client_conf(broker(followers[0]).bootstrap(), {});
  std::string error;
  std::unique_ptr<RdKafka::Consumer> reader(RdKafka::Consumer::create(conf.get(), error));
  int64_t low = -1, high = -1;
  ASSERT_EQ(reader->query_watermark_offsets("ledger", 0, &low, &high, 10000), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(high, 3);
}

TEST_F(ThreeBrokerCluster, MetadataOutlivesAnEtcdRestartAndControlMovesWhenTheControllerDies) {
  create_replicated_topic("accounts", 3);
  std::map<int32_t, std::vector<int32_t>> placement;
  for (int32_t p = 0; p < 3; ++p) placement[p] = describe("accounts", p).replicas;

  etcd_.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  etcd_.start();
  for (int32_t p = 0; p < 3; ++p) {
    ASSERT_TRUE(wait_until([&] { return describe("accounts", p).leader > 0; }, std::chrono::seconds(20)));
    EXPECT_EQ(describe("accounts", p).replicas, placement[p]) << "partition " << p << " changed after etcd restarted";
  }
  EXPECT_EQ(produce_raw(broker(describe("accounts", 0).leader).port(), "accounts", -1), 0);

  const int32_t controller = controller_named_by(broker(1));
  ASSERT_GE(controller, 1);
  broker(controller).kill();
  const int32_t survivor = controller == 1 ? 2 : 1;
  ASSERT_TRUE(wait_until(
      [&] {
        const int32_t now = controller_named_by(broker(survivor));
        return now > 0 && now != controller;
      },
      std::chrono::seconds(20)))
      << "no other broker took control";
  // The new controller acts: partitions the dead one led get new leaders.
  for (int32_t p = 0; p < 3; ++p) {
    ASSERT_TRUE(wait_until(
        [&] {
          auto view = describe("accounts", p);
          return view.leader > 0 && view.leader != controller;
        },
        std::chrono::seconds(20)))
        << "partition " << p << " has no live leader";
  }
}

// A consumer in a group that commits what it has processed, from a thread of its own, counting every record it
// is given: a record given twice is a duplicate the group's hand-offs caused.
class GroupReader {
 public:
  GroupReader(const std::string& bootstrap, const std::string& group, const std::string& topic) {
    auto conf = client_conf(bootstrap, {{"group.id", group},
                                        {"enable.auto.commit", "false"},
                                        {"auto.offset.reset", "earliest"},
                                        {"partition.assignment.strategy", "cooperative-sticky"},
                                        {"session.timeout.ms", "10000"},
                                        {"reconnect.backoff.ms", "50"},
                                        {"reconnect.backoff.max.ms", "500"}});
    std::string error;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    consumer_->subscribe({topic});
    thread_ = std::thread([this] {
      int since_commit = 0;
      while (!stop_) {
        std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
        if (m->err() == RdKafka::ERR_NO_ERROR) {
          std::lock_guard lock(mutex_);
          ++seen_[std::stoll(std::string(static_cast<const char*>(m->payload()), m->len()))];
          ++since_commit;
        }
        if (since_commit >= 200 || (since_commit > 0 && m->err() == RdKafka::ERR__TIMED_OUT)) {
          // Processed, so committed; a commit that fails (the coordinator moving) is made again by the next one.
          if (consumer_->commitSync() == RdKafka::ERR_NO_ERROR) since_commit = 0;
        }
      }
      consumer_->commitSync();
      consumer_->close();
    });
  }
  ~GroupReader() { finish(); }
  void finish() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }
  std::map<int64_t, int> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<int64_t, int> seen_;
};

// The group reads every acknowledged record, and none twice.
void expect_group_read_each_once(GroupReader& reader, const std::map<int64_t, int64_t>& acknowledged) {
  ASSERT_TRUE(wait_until(
      [&] {
        auto seen = reader.seen();
        return std::all_of(acknowledged.begin(), acknowledged.end(),
                           [&](const auto& a) { return seen.count(a.first); });
      },
      std::chrono::seconds(30)))
      << "the group did not read every acknowledged record";
  reader.finish();
  for (const auto& [index, times] : reader.seen())
    EXPECT_EQ(times, 1) << "record " << index << " was read " << times << " times";
}

// Brokers that restore preferred leaders every second, so that a test sees it happen between restarts, and
// every one of them: with Kafka's default threshold (a tenth of a broker's preferred partitions led elsewhere) a
// partition that caught up after the others had moved back would stay where it is.
class RollingRestartCluster : public ThreeBrokerCluster {
 protected:
  void SetUp() override {
    extra_broker_args_ = {"--set", "leader.imbalance.check.interval.seconds=1", "--set",
                          "leader.imbalance.per.broker.percentage=0"};
    ThreeBrokerCluster::SetUp();
  }
};

// A rolling restart as operators do it: each broker stopped with SIGTERM (controlled shutdown: it hands its
// leaderships to in-sync replicas while it still serves), started again, and the next one only once every
// partition is fully in sync again. Under an idempotent acks=all producer and a committing consumer group, the
// client surfaces no error, nothing is lost or written twice, the group is given no record twice, and the
// controller hands each restarted broker back the leaderships it prefers.
TEST_F(RollingRestartCluster, ARollingRestartSurfacesNoErrorLosesNothingAndRestoresPreferredLeaders) {
  constexpr int kPartitions = 6;
  create_replicated_topic("orders", kPartitions);
  auto all_preferred_leaders = [&] {
    for (int32_t p = 0; p < kPartitions; ++p) {
      auto view = describe("orders", p);
      if (view.replicas.empty() || view.leader != view.replicas.front() || view.isr.size() != 3) return false;
    }
    return true;
  };
  ASSERT_TRUE(wait_until(all_preferred_leaders, std::chrono::seconds(20)));
  ContinuousProducer producer(bootstrap(), "orders");
  GroupReader reader(bootstrap(), "order-readers", "orders");
  ASSERT_TRUE(wait_until([&] { return producer.acknowledged_count() > 200; }, std::chrono::seconds(30)));

  const std::regex handed(R"(controlled shutdown: (\d+) partitions handed to in-sync replicas)");
  for (int id = 1; id <= 3; ++id) {
    const size_t before = producer.acknowledged_count();
    ASSERT_EQ(broker(id).stop(), 0) << "broker " << id << " did not stop cleanly";
    std::smatch match;
    const std::string log = broker(id).log();
    ASSERT_TRUE(std::regex_search(log, match, handed)) << "broker " << id << " stopped without a controlled shutdown";
    EXPECT_GT(std::stoi(match[1]), 0) << "broker " << id << " led its preferred partitions, yet handed none over";
    // The producer keeps being acknowledged while the broker is away.
    EXPECT_TRUE(wait_until([&] { return producer.acknowledged_count() > before + 200; }, std::chrono::seconds(30)))
        << "no progress while broker " << id << " was down";
    broker(id).start();
    ASSERT_TRUE(wait_until(all_preferred_leaders, std::chrono::seconds(60)))
        << "after broker " << id << " returned, the partitions were not all in sync under their preferred leaders";
  }
  producer.finish();
  EXPECT_TRUE(producer.failed().empty()) << producer.failed().size() << " records failed, the first with "
                                         << RdKafka::err2str(producer.failed().begin()->second);
  expect_nothing_lost_or_repeated(bootstrap(), "orders", producer.acknowledged(), producer.sent());

  expect_group_read_each_once(reader, producer.acknowledged());
}

// Brokers given all three members of an etcd cluster.
class ThreeBrokersOnThreeEtcds : public ThreeBrokerCluster {
 protected:
  void SetUp() override {
    etcd_cluster_.emplace();
    ThreeBrokerCluster::SetUp();
  }
};

// The etcd member every broker talks to first is killed under an idempotent acks=all producer: the brokers move to
// the other members, keep their registrations (leases renewed there), and the cluster still acts on metadata:
// a broker killed afterwards is noticed and its partitions get new leaders. The client sees none of it.
TEST_F(ThreeBrokersOnThreeEtcds, BrokersKeepWorkingWhenAnEtcdMemberDies) {
  create_replicated_topic("payments", 3);
  ContinuousProducer producer(bootstrap(), "payments");
  ASSERT_TRUE(wait_until([&] { return producer.acknowledged_count() > 200; }, std::chrono::seconds(30)));

  etcd_cluster_->member(0).kill();
  size_t before = producer.acknowledged_count();
  EXPECT_TRUE(wait_until([&] { return producer.acknowledged_count() > before + 500; }, std::chrono::seconds(30)));
  // Longer than the brokers' 2-second sessions: had a lease not been renewed elsewhere, its broker would be gone.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(registered(), 3) << "a broker lost its registration with the etcd member";
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(broker(id).log().find("left the cluster"), std::string::npos) << "broker " << id << " saw a broker leave";
  }

  ASSERT_TRUE(kill_leader_and_await_another("payments", 0))
      << "the partition got no new leader through the remaining etcd members";
  before = producer.acknowledged_count();
  EXPECT_TRUE(wait_until([&] { return producer.acknowledged_count() > before + 200; }, std::chrono::seconds(30)));
  producer.finish();
  EXPECT_TRUE(producer.failed().empty()) << producer.failed().size() << " records failed";
  expect_nothing_lost_or_repeated(bootstrap(), "payments", producer.acknowledged(), producer.sent());
}

// Brokers reaching etcd over TLS as a user of etcd's authentication (--metadata-cacert, --metadata-user,
// --metadata-password-file), the way an etcd holding credentials is run.
class ThreeBrokersOnSecuredEtcd : public ThreeBrokerCluster {
 protected:
  void SetUp() override {
    ASSERT_TRUE(TestCertificateAuthority::openssl_available()) << "openssl is not installed";
    ca_.emplace();
    const auto server = ca_->server();
    etcd_.start_secure({ca_->ca_file(), server.certificate, server.key, server.certificate, server.key}, 300);
    etcd_.enable_authentication("fjord-broker", "broker-password");
    password_file_ = ca_->directory() + "/etcd-password";
    std::ofstream(password_file_) << "broker-password\n";
    extra_broker_args_ = {"--metadata-cacert",        ca_->ca_file(), "--metadata-user", "fjord-broker",
                          "--metadata-password-file", password_file_};
    ThreeBrokerCluster::SetUp();
  }
  std::optional<TestCertificateAuthority> ca_;
  std::string password_file_;
};

// The cluster works as on a plain etcd — a replicated topic, acks=all writes, a leader killed and replaced — and a
// broker given a wrong password, or no CA, does not start: it says why, and shows no password.
TEST_F(ThreeBrokersOnSecuredEtcd, BrokersWorkThroughTlsAndAUserAndWithoutThemCannotStart) {
  create_replicated_topic("secured", 1);
  ContinuousProducer producer(bootstrap(), "secured");
  ASSERT_TRUE(wait_until([&] { return producer.acknowledged_count() > 200; }, std::chrono::seconds(30)));
  ASSERT_TRUE(kill_leader_and_await_another("secured", 0)) << "no new leader through the secured etcd";
  const size_t before = producer.acknowledged_count();
  EXPECT_TRUE(wait_until([&] { return producer.acknowledged_count() > before + 200; }, std::chrono::seconds(30)));
  producer.finish();
  EXPECT_TRUE(producer.failed().empty()) << producer.failed().size() << " records failed";
  expect_nothing_lost_or_repeated(bootstrap(), "secured", producer.acknowledged(), producer.sent());

  const std::string wrong_file = ca_->directory() + "/wrong-password";
  std::ofstream(wrong_file) << "guessed-password-7\n";
  const std::string base = std::string(FJORD_BINARY) + " broker --node-id 9 --data-dir " + ca_->directory() +
                           "/refused --listen 127.0.0.1:" + std::to_string(free_port()) +
                           " --admin-listen 127.0.0.1:" + std::to_string(free_port()) + " --metadata etcd://" +
                           etcd_.endpoint();
  const std::string wrong_password =
      run_command("timeout 20 " + base + " --metadata-cacert " + ca_->ca_file() +
                  " --metadata-user fjord-broker --metadata-password-file " + wrong_file + " 2>&1; echo exit=$?");
  EXPECT_NE(wrong_password.find("authentication failed"), std::string::npos) << wrong_password;
  EXPECT_NE(wrong_password.find("exit=1"), std::string::npos) << wrong_password;
  EXPECT_EQ(wrong_password.find("guessed-password-7"), std::string::npos) << "the password was shown";
  const std::string no_tls = run_command("timeout 20 " + base + " 2>&1; echo exit=$?");
  EXPECT_NE(no_tls.find("cannot read the cluster metadata from etcd"), std::string::npos) << no_tls;
  EXPECT_NE(no_tls.find("exit=1"), std::string::npos) << no_tls;
  const std::string unpaired = run_command("timeout 20 " + base + " --metadata-user fjord-broker 2>&1; echo exit=$?");
  EXPECT_NE(unpaired.find("--metadata-user and --metadata-password-file go together"), std::string::npos) << unpaired;
  EXPECT_NE(unpaired.find("exit=2"), std::string::npos) << unpaired;
}

// Four brokers, so that replicas have somewhere to move.
class FourBrokerCluster : public ThreeBrokerCluster {
 protected:
  void SetUp() override {
    broker_count_ = 4;
    ThreeBrokerCluster::SetUp();
  }

  // Runs the fjord CLI against the cluster; its output, with "(exit status N)" appended when it failed.
  std::string fjord(const std::string& arguments) {
    return run_command(std::string(FJORD_BINARY) + " " + arguments + " --bootstrap-server " + bootstrap() + " 2>&1");
  }

  // A one-partition topic holding a few megabytes, and a move of its first replica to the broker that has none.
  struct PlannedMove {
    std::vector<int32_t> from;
    std::vector<int32_t> to;
    int32_t spare = 0;
    std::string to_list;  // `to` as --replicas takes it
    uintmax_t bytes = 0;  // the log's size on the leader
  };
  PlannedMove fill_and_plan_move(const std::string& topic) {
    create_replicated_topic(topic, 1);
    {
      TestProducer producer(bootstrap(), {{"acks", "all"}});
      for (int i = 0; i < 2000; ++i) producer.produce(topic, 0, 5, i);
      EXPECT_TRUE(producer.flush(60000));
    }
    PlannedMove move;
    move.from = describe(topic, 0).replicas;
    EXPECT_EQ(move.from.size(), 3u);
    if (move.from.size() != 3) return move;
    move.bytes = log_bytes(broker(move.from.front()), topic + "-0");
    move.spare = 1;
    while (std::find(move.from.begin(), move.from.end(), move.spare) != move.from.end()) ++move.spare;
    move.to.assign(move.from.begin() + 1, move.from.end());
    move.to.push_back(move.spare);
    for (int32_t r : move.to) move.to_list += (move.to_list.empty() ? "" : ",") + std::to_string(r);
    return move;
  }

  // Whether every partition of `topic` has exactly `brokers` as replicas, all in sync.
  bool placed_on(const std::string& topic, int partitions, std::vector<int32_t> brokers) {
    std::sort(brokers.begin(), brokers.end());
    for (int32_t p = 0; p < partitions; ++p) {
      auto view = describe(topic, p);
      std::sort(view.replicas.begin(), view.replicas.end());
      std::sort(view.isr.begin(), view.isr.end());
      if (view.replicas != brokers || view.isr != brokers) return false;
    }
    return true;
  }
};

// Replicas moved under an idempotent acks=all producer and a committing group, with `fjord topic reassign` (from
// 1,2,3 to 2,3,4, throttled) and `fjord cluster drain`: the new replicas copy the log, join the ISR, the old ones
// drop their copies, and the client sees no error, loses nothing and reads nothing twice.
TEST_F(FourBrokerCluster, ReplicasMoveAndABrokerDrainsUnderLoadWithNothingLost) {
  constexpr int kPartitions = 3;
  create_replicated_topic("moving", kPartitions);
  // The controller spreads a new topic over all four brokers: gather it on 1,2,3 first.
  const std::string gathered = fjord("topic reassign moving --brokers 1,2,3 --wait");
  ASSERT_EQ(gathered.find("(exit status"), std::string::npos) << gathered;
  ASSERT_TRUE(wait_until([&] { return placed_on("moving", kPartitions, {1, 2, 3}); }, std::chrono::seconds(30)));

  ContinuousProducer producer(bootstrap(), "moving");
  GroupReader reader(bootstrap(), "movers", "moving");
  ASSERT_TRUE(wait_until([&] { return producer.acknowledged_count() > 500; }, std::chrono::seconds(30)));

  const std::string moved = fjord("topic reassign moving --brokers 2,3,4 --throttle 10000000 --wait");
  ASSERT_EQ(moved.find("(exit status"), std::string::npos) << moved;
  EXPECT_NE(moved.find("throttle removed"), std::string::npos) << moved;
  ASSERT_TRUE(wait_until([&] { return placed_on("moving", kPartitions, {2, 3, 4}); }, std::chrono::seconds(30)));
  for (int p = 0; p < kPartitions; ++p) {
    const auto copy = std::filesystem::path(broker(1).data_dir()) / ("moving-" + std::to_string(p));
    EXPECT_TRUE(wait_until([&] { return !std::filesystem::exists(copy); }, std::chrono::seconds(10)))
        << copy << " is still on broker 1 after the move";
  }
  size_t before = producer.acknowledged_count();
  EXPECT_TRUE(wait_until([&] { return producer.acknowledged_count() > before + 200; }, std::chrono::seconds(30)));

  const std::string drained = fjord("cluster drain 3 --wait");
  ASSERT_EQ(drained.find("(exit status"), std::string::npos) << drained;
  ASSERT_TRUE(wait_until([&] { return placed_on("moving", kPartitions, {1, 2, 4}); }, std::chrono::seconds(30)));
  const std::string nothing_left = fjord("cluster drain 3");
  EXPECT_NE(nothing_left.find("nothing to move"), std::string::npos) << nothing_left;
  before = producer.acknowledged_count();
  EXPECT_TRUE(wait_until([&] { return producer.acknowledged_count() > before + 200; }, std::chrono::seconds(30)));

  producer.finish();
  EXPECT_TRUE(producer.failed().empty()) << producer.failed().size() << " records failed, the first with "
                                         << RdKafka::err2str(producer.failed().begin()->second);
  expect_nothing_lost_or_repeated(bootstrap(), "moving", producer.acknowledged(), producer.sent());
  expect_group_read_each_once(reader, producer.acknowledged());
}

// Kafka's replication throttle holds a new replica's copying to the rate set: a partition of a few megabytes,
// moved with --throttle at 1 MB/s, takes seconds where unthrottled it takes a fraction of one. The bound asserted
// is a floor (a slow machine only makes the move slower); the figures are printed. While it moves,
// ListPartitionReassignments shows the replica being added and the one being removed, and a second request that
// would change the replication factor with AllowReplicationFactorChange off (v1) is refused.
TEST_F(FourBrokerCluster, AThrottledMoveCopiesNoFasterThanItsRate) {
  const auto move = fill_and_plan_move("bulky");
  ASSERT_FALSE(HasFailure());
  const uintmax_t bytes = move.bytes;
  const std::vector<int32_t>& target = move.to;
  const int32_t spare = move.spare;
  ASSERT_GT(bytes, 3u << 20) << "too little data for the rate to show";

  constexpr int64_t kRate = 1'000'000;
  const auto started = std::chrono::steady_clock::now();
  const std::string moving =
      fjord("topic reassign bulky --partition 0 --replicas " + move.to_list + " --throttle " + std::to_string(kRate));
  ASSERT_EQ(moving.find("(exit status"), std::string::npos) << moving;

  RawClient client(broker(1).port());
  protocol::ListPartitionReassignmentsRequest list;
  client.send(list, 0, 1);
  auto frame = client.receive();
  ASSERT_TRUE(frame.has_value());
  auto listed = RawClient::decode<protocol::ListPartitionReassignmentsResponse>(*frame, 0, true, nullptr);
  ASSERT_EQ(listed.topics.size(), 1u) << "the move is not listed while it copies";
  ASSERT_EQ(listed.topics[0].partitions.size(), 1u);
  EXPECT_EQ(listed.topics[0].partitions[0].adding_replicas, std::vector<int32_t>{spare});
  EXPECT_EQ(listed.topics[0].partitions[0].removing_replicas, std::vector<int32_t>{move.from.front()});

  protocol::AlterPartitionReassignmentsRequest shrink;
  shrink.allow_replication_factor_change = false;
  auto& topic = shrink.topics.emplace_back();
  topic.name = "bulky";
  auto& partition = topic.partitions.emplace_back();
  partition.replicas = std::vector<int32_t>(target.begin(), target.begin() + 2);
  client.send(shrink, 1, 2);
  frame = client.receive();
  ASSERT_TRUE(frame.has_value());
  auto refused = RawClient::decode<protocol::AlterPartitionReassignmentsResponse>(*frame, 1, true, nullptr);
  ASSERT_EQ(refused.responses.size(), 1u);
  EXPECT_EQ(refused.responses[0].partitions.at(0).error_code, 38) << "INVALID_REPLICATION_FACTOR expected";

  ASSERT_TRUE(wait_until([&] { return placed_on("bulky", 1, target); }, std::chrono::seconds(120)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("moved %ju bytes at --throttle %lld B/s in %.1f s\n", bytes, static_cast<long long>(kRate), seconds);
  // One second's burst, then the rate: a throttle that did nothing would finish well under a second.
  const double floor = static_cast<double>(bytes) / static_cast<double>(kRate) - 1.0;
  EXPECT_GE(seconds, floor * 0.8) << "the copy went faster than the throttle allows";
  EXPECT_EQ(log_bytes(broker(spare), "bulky-0"), bytes) << "the new replica does not hold the whole log";
}

// A move cancelled while its new replica still copies (held back by a slow throttle): the partition goes back to
// its old replicas, all in sync (in the order the move left them, as Kafka's cancel does), the broker that was being
// added drops its partial copy, nothing is listed as moving, and the throttle is gone (the topic's throttled replicas,
// as DescribeConfigs shows them).
TEST_F(FourBrokerCluster, AMoveCancelledWhileItCopiesGoesBackToItsReplicas) {
  const auto move = fill_and_plan_move("held");
  ASSERT_FALSE(HasFailure());
  const std::string started =
      fjord("topic reassign held --partition 0 --replicas " + move.to_list + " --throttle 100000");
  ASSERT_EQ(started.find("(exit status"), std::string::npos) << started;
  const auto copy = std::filesystem::path(broker(move.spare).data_dir()) / "held-0";
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(copy); }, std::chrono::seconds(10)))
      << "the new replica never started copying";

  const std::string cancelled = fjord("topic reassign held --cancel");
  ASSERT_EQ(cancelled.find("(exit status"), std::string::npos) << cancelled;
  EXPECT_NE(cancelled.find("cancelled 1 moves"), std::string::npos) << cancelled;
  ASSERT_TRUE(wait_until([&] { return placed_on("held", 1, move.from); }, std::chrono::seconds(30)))
      << "the partition did not go back to its old replicas";
  EXPECT_TRUE(wait_until([&] { return !std::filesystem::exists(copy); }, std::chrono::seconds(10)))
      << copy << " is still there after the cancel";

  RawClient client(broker(1).port());
  client.send(protocol::ListPartitionReassignmentsRequest{}, 0, 1);
  auto frame = client.receive();
  ASSERT_TRUE(frame.has_value());
  EXPECT_TRUE(RawClient::decode<protocol::ListPartitionReassignmentsResponse>(*frame, 0, true, nullptr).topics.empty())
      << "a cancelled move is still listed";
  protocol::DescribeConfigsRequest configs;
  auto& resource = configs.resources.emplace_back();
  resource.resource_type = 2;  // topic
  resource.resource_name = "held";
  client.send(configs, 1, 2);
  frame = client.receive();
  ASSERT_TRUE(frame.has_value());
  const auto described = RawClient::decode<protocol::DescribeConfigsResponse>(*frame, 1, false, nullptr);
  ASSERT_EQ(described.results.size(), 1u);
  for (const auto& c : described.results[0].configs) {
    if (c.name == "leader.replication.throttled.replicas" || c.name == "follower.replication.throttled.replicas") {
      EXPECT_EQ(c.value.value_or(""), "") << c.name << " left behind by the cancel";
    }
  }
}

// Brokers in three racks whose leaders send consumers to a follower in their rack (KIP-392).
class RackedCluster : public ThreeBrokerCluster {
 protected:
  void SetUp() override {
    extra_broker_args_ = {"--set", "replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector"};
    for (int id = 1; id <= 3; ++id) broker_args_[id] = {"--set", "broker.rack=rack-" + std::to_string(id)};
    ThreeBrokerCluster::SetUp();
  }

  // Record bytes consumers have read from broker `id`'s replicas of `topic` (its /metrics).
  double bytes_out(int id, const std::string& topic) {
    std::istringstream metrics(broker(id).metrics());
    const std::string series = "fjord_topic_bytes_out_total{topic=\"" + topic + "\"} ";
    for (std::string line; std::getline(metrics, line);) {
      if (line.rfind(series, 0) == 0) return std::stod(line.substr(series.size()));
    }
    return 0;
  }
};

// A consumer that names its rack (client.rack) reads from the in-sync follower in that rack: the follower serves
// every record and the leader none (it only names the follower). A consumer naming no rack reads from the leader.
TEST_F(RackedCluster, AConsumerReadsFromTheFollowerInItsRack) {
  create_replicated_topic("nearby", 1);
  constexpr int kRecords = 300;
  {
    TestProducer producer(bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < kRecords; ++i) producer.produce("nearby", 0, 3, i);
    ASSERT_TRUE(producer.flush(30000));
  }
  const auto view = describe("nearby", 0);
  ASSERT_GE(view.leader, 1);
  const int32_t follower = view.replicas.front() == view.leader ? view.replicas[1] : view.replicas.front();
  // The leader knows the follower holds every record before it may send a consumer there.
  ASSERT_TRUE(wait_until([&] { return describe("nearby", 0).isr.size() == 3; }, std::chrono::seconds(20)));

  auto records = consume(bootstrap(), "nearby", {0}, RdKafka::Topic::OFFSET_BEGINNING, kRecords, 30000,
                         {{"client.rack", "rack-" + std::to_string(follower)}});
  ASSERT_EQ(records.size(), static_cast<size_t>(kRecords));
  for (int i = 0; i < kRecords; ++i) ASSERT_EQ(records[static_cast<size_t>(i)].offset, i);
  EXPECT_GT(bytes_out(follower, "nearby"), 0) << "the follower in the consumer's rack served nothing";
  EXPECT_EQ(bytes_out(view.leader, "nearby"), 0) << "the leader served records it should have redirected";

  const double follower_before = bytes_out(follower, "nearby");
  records = consume(bootstrap(), "nearby", {0}, RdKafka::Topic::OFFSET_BEGINNING, kRecords, 30000, {});
  ASSERT_EQ(records.size(), static_cast<size_t>(kRecords));
  EXPECT_GT(bytes_out(view.leader, "nearby"), 0) << "a consumer naming no rack was not served by the leader";
  EXPECT_EQ(bytes_out(follower, "nearby"), follower_before);
}

// The broker a FindCoordinator answer names for `group`, or -1.
int32_t coordinator_of(const BrokerProcess& broker, const std::string& group) {
  RawClient client(broker.port());
  protocol::FindCoordinatorRequest request;
  request.key = group;
  client.send(request, 3, 1);
  auto frame = client.receive();
  if (!frame) return -1;
  auto response = RawClient::decode<protocol::FindCoordinatorResponse>(*frame, 3, true, nullptr);
  return response.error_code == 0 ? response.node_id : -1;
}

// Consumer groups in a cluster: the coordinator is the leader of the group's __consumer_offsets partition, which
// is replicated like any topic, so when that broker dies the next leader coordinates with every commit intact.
TEST_F(ThreeBrokerCluster, CommittedOffsetsSurviveTheirCoordinatorsDeath) {
  create_replicated_topic("invoices", 2);
  {
    TestProducer producer(bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < 100; ++i) producer.produce("invoices", i % 2, 9, i);
    ASSERT_TRUE(producer.flush(20000));
  }
  const std::string group = "invoice-printers";
  auto commit = [&](int64_t p0, int64_t p1) {
    auto conf = client_conf(bootstrap(), {{"group.id", group}, {"enable.auto.commit", "false"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> offsets = {RdKafka::TopicPartition::create("invoices", 0, p0),
                                                     RdKafka::TopicPartition::create("invoices", 1, p1)};
    auto result = consumer->commitSync(offsets);
    for (auto* tp : offsets) {
      if (tp->err() != RdKafka::ERR_NO_ERROR) result = tp->err();
      delete tp;
    }
    consumer->close();
    return result;
  };
  auto committed = [&] {
    auto conf = client_conf(bootstrap(), {{"group.id", group}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> offsets = {RdKafka::TopicPartition::create("invoices", 0),
                                                     RdKafka::TopicPartition::create("invoices", 1)};
    auto result = consumer->committed(offsets, 20000);
    std::pair<int64_t, int64_t> out{offsets[0]->offset(), offsets[1]->offset()};
    if (result != RdKafka::ERR_NO_ERROR) out = {-2, -2};
    for (auto* tp : offsets) delete tp;
    consumer->close();
    return out;
  };
  // The first commit creates __consumer_offsets (replicated three times) and waits for its leaders.
  ASSERT_TRUE(wait_until([&] { return commit(20, 31) == RdKafka::ERR_NO_ERROR; }, std::chrono::seconds(60)));
  ASSERT_EQ(committed(), std::make_pair(int64_t{20}, int64_t{31}));
  const int32_t coordinator = coordinator_of(broker(1), group);
  ASSERT_GE(coordinator, 1);
  broker(coordinator).kill();
  const int32_t survivor = coordinator == 1 ? 2 : 1;
  ASSERT_TRUE(wait_until(
      [&] {
        const int32_t now = coordinator_of(broker(survivor), group);
        return now > 0 && now != coordinator;
      },
      std::chrono::seconds(20)))
      << "no other broker took over the group";
  EXPECT_EQ(committed(), std::make_pair(int64_t{20}, int64_t{31})) << "after the coordinator was killed";
  ASSERT_EQ(commit(40, 45), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(committed(), std::make_pair(int64_t{40}, int64_t{45}));
}

}  // namespace
}  // namespace fjord::testing
