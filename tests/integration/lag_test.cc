// The lag engine against ground truth: records produced by librdkafka with known timestamps, a group's offset
// committed by librdkafka at a known position, the broker's /metrics read back. Lag in records is exact, lag in
// seconds is now minus the timestamp of the first record the group has not consumed (to within the one-second
// sampling), 0 when caught up and flat while the partition stays idle; /api/lag serves the same sample; a deleted
// group's series disappear. A live member that stops committing is STOP, one that commits the same offset over
// and over STALL, a reset back REWIND; the time to data loss predicts when retention deletes the first record
// not yet consumed. Beside lag, the broker metrics users expect; and in a cluster, the coordinator's report of
// partitions other brokers lead.
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/scale.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void produce_now(const std::string& bootstrap, const std::string& topic, int count) {
  auto conf = client_conf(bootstrap);
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  for (int i = 0; i < count; ++i) {
    std::string value = "record-" + std::to_string(i);
    ASSERT_EQ(
        producer->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr, 0, 0, nullptr),
        RdKafka::ERR_NO_ERROR);
  }
  ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
}

nlohmann::json api_lag(const BrokerProcess& broker) {
  httplib::Client client("127.0.0.1", broker.admin_port());
  auto response = client.Get("/api/lag");
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body);
}

TEST(LagEngine, LagInRecordsAndSecondsIsExactZeroWhenCaughtUpAndFlatWhenIdle) {
  BrokerProcess broker;
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("lagged", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  // Ten records stamped ten minutes ago, ten seconds apart.
  const int64_t base = now_ms() - 600'000;
  {
    auto conf = client_conf(broker.bootstrap());
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    for (int i = 0; i < 10; ++i) {
      std::string value = "record-" + std::to_string(i);
      ASSERT_EQ(producer->produce("lagged", 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr, 0,
                                  base + i * 10'000, nullptr),
                RdKafka::ERR_NO_ERROR);
    }
    ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
  }
  commit(broker.bootstrap(), "lag-group", "lagged", 4);

  const std::map<std::string, std::string> labels{{"group", "lag-group"}, {"topic", "lagged"}, {"partition", "0"}};
  auto lag = [&] { return broker.metric("kafka_consumergroup_group_lag", labels); };
  auto lag_seconds = [&] { return broker.metric("kafka_consumergroup_group_lag_seconds", labels); };
  ASSERT_TRUE(wait_until([&] { return lag() == 6; }, std::chrono::seconds(10))) << broker.metrics();
  // The first record not consumed is offset 4, stamped base + 40 s.
  const double expected = static_cast<double>(now_ms() - (base + 40'000)) / 1000;
  EXPECT_NEAR(lag_seconds(), expected, 2.0);
  EXPECT_EQ(broker.metric("kafka_consumergroup_group_max_lag{group=\"lag-group\"}"), 6);
  EXPECT_EQ(broker.metric("kafka_consumergroup_group_sum_lag{group=\"lag-group\"}"), 6);
  EXPECT_EQ(broker.metric("kafka_consumergroup_group_topic_sum_lag{group=\"lag-group\",topic=\"lagged\"}"), 6);
  EXPECT_NEAR(broker.metric("kafka_consumergroup_group_max_lag_seconds{group=\"lag-group\"}"), expected, 2.0);
  EXPECT_EQ(broker.metric("kafka_partition_latest_offset{partition=\"0\",topic=\"lagged\"}"), 10);
  EXPECT_EQ(broker.metric("kafka_partition_earliest_offset{partition=\"0\",topic=\"lagged\"}"), 0);
  // The same sample as JSON on the admin listener.
  {
    httplib::Client client("127.0.0.1", broker.admin_port());
    auto response = client.Get("/api/lag");
    ASSERT_TRUE(response && response->status == 200);
    auto json = nlohmann::json::parse(response->body);
    ASSERT_EQ(json["groups"].size(), 1u) << response->body;
    const auto& group = json["groups"][0];
    EXPECT_EQ(group["group"], "lag-group");
    EXPECT_EQ(group["sum_lag"], 6);
    ASSERT_EQ(group["partitions"].size(), 1u);
    EXPECT_EQ(group["partitions"][0]["committed_offset"], 4);
    EXPECT_EQ(group["partitions"][0]["end_offset"], 10);
    EXPECT_EQ(group["partitions"][0]["lag"], 6);
    EXPECT_NEAR(group["partitions"][0]["lag_seconds"].get<double>(), expected, 2.0);
  }

  // Caught up: 0 records, 0 seconds, and it stays 0 while nothing is produced (no growth on an idle partition).
  commit(broker.bootstrap(), "lag-group", "lagged", 10);
  ASSERT_TRUE(wait_until([&] { return lag() == 0; }, std::chrono::seconds(10)));
  EXPECT_EQ(lag_seconds(), 0);
  // Watched every second: 3 s here, three minutes with --soak.
  const long idle_seconds = scaled(3, 180);
  for (long second = 0; second < idle_seconds; ++second) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ASSERT_EQ(lag(), 0) << "after " << second << " s idle";
    ASSERT_EQ(lag_seconds(), 0) << "lag in seconds must not grow on an idle, caught-up partition (" << second
                                << " s idle)";
    ASSERT_EQ(broker.metric("fjord_consumergroup_status", {{"group", "lag-group"}, {"status", "OK"}}), 1);
  }

  // A deleted group's series go.
  auto conf = client_conf(broker.bootstrap());
  std::string error;
  std::unique_ptr<RdKafka::Producer> handle(RdKafka::Producer::create(conf.get(), error));
  rd_kafka_DeleteGroup_t* group = rd_kafka_DeleteGroup_new("lag-group");
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle->c_ptr());
  rd_kafka_DeleteGroups(handle->c_ptr(), &group, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 10000);
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(rd_kafka_event_error(event), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_event_destroy(event);
  rd_kafka_DeleteGroup_destroy(group);
  rd_kafka_queue_destroy(queue);
  ASSERT_TRUE(wait_until([&] { return broker.metrics().find("group=\"lag-group\"") == std::string::npos; },
                         std::chrono::seconds(10)));
}

TEST(LagEngine, AMemberThatStopsCommittingWhileRecordsWaitIsStopOrStallWhateverItsHeartbeatsSay) {
  BrokerProcess broker({"--set", "fjord.lag.window.ms=3000"});
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("work", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  produce_now(broker.bootstrap(), "work", 10);

  // A live member owns the partition and commits offset 4, then commits nothing more. librdkafka keeps
  // heartbeating from its own threads, so the group stays Stable with the member in it.
  auto conf = client_conf(broker.bootstrap(), {{"group.id", "workers"},
                                               {"client.id", "worker-7"},
                                               {"enable.auto.commit", "false"},
                                               {"auto.offset.reset", "earliest"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  ASSERT_EQ(consumer->subscribe({"work"}), RdKafka::ERR_NO_ERROR);
  ASSERT_TRUE(wait_until(
      [&] {
        delete consumer->consume(100);
        std::vector<RdKafka::TopicPartition*> assigned;
        consumer->assignment(assigned);
        const bool owned = !assigned.empty();
        RdKafka::TopicPartition::destroy(assigned);
        return owned;
      },
      std::chrono::seconds(30)));
  auto commit_at = [&](int64_t offset) {
    std::vector<RdKafka::TopicPartition*> offsets{RdKafka::TopicPartition::create("work", 0, offset)};
    const auto result = consumer->commitSync(offsets);
    RdKafka::TopicPartition::destroy(offsets);
    return result;
  };
  ASSERT_EQ(commit_at(4), RdKafka::ERR_NO_ERROR);
  auto status = [&](const std::string& value) {
    return broker.metric("fjord_consumergroup_status", {{"group", "workers"}, {"status", value}});
  };

  // The lag series carry the owning member, as kafka-lag-exporter's do.
  ASSERT_TRUE(wait_until(
      [&] {
        return broker.metric("kafka_consumergroup_group_lag", {{"group", "workers"}, {"client_id", "worker-7"}}) == 6;
      },
      std::chrono::seconds(10)))
      << broker.metrics();
  EXPECT_NE(broker.metrics().find("consumer_id=\"worker-7-"), std::string::npos) << broker.metrics();
  EXPECT_NE(broker.metrics().find("member_host=\"/127.0.0.1\""), std::string::npos) << broker.metrics();

  // Heartbeating, not committing, records waiting for a whole window: STOP.
  ASSERT_TRUE(wait_until([&] { return status("STOP") == 1; }, std::chrono::seconds(15))) << broker.metrics();
  EXPECT_EQ(broker.metric("fjord_consumergroup_partition_status",
                          {{"group", "workers"}, {"topic", "work"}, {"partition", "0"}, {"status", "STOP"}}),
            1);
  EXPECT_EQ(broker.metric("kafka_consumergroup_group_lag", {{"group", "workers"}, {"client_id", "worker-7"}}), 6)
      << "the member is still in the group";

  // Committing the same offset again and again (an auto-commit running on while processing is stuck): STALL.
  bool stalled = false;
  for (int i = 0; i < 50 && !stalled; ++i) {
    ASSERT_EQ(commit_at(4), RdKafka::ERR_NO_ERROR);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stalled = status("STALL") == 1;
  }
  ASSERT_TRUE(stalled) << broker.metrics();
  const double rate = broker.metric("fjord_consumergroup_commit_rate", {{"group", "workers"}});
  EXPECT_GT(rate, 0.5) << "about three commits a second";
  EXPECT_LT(rate, 6);

  // Caught up: OK at once, and the lag fell over the window.
  ASSERT_EQ(commit_at(10), RdKafka::ERR_NO_ERROR);
  ASSERT_TRUE(wait_until([&] { return status("OK") == 1; }, std::chrono::seconds(5))) << broker.metrics();
  EXPECT_LT(broker.metric("fjord_consumergroup_lag_velocity", {{"group", "workers"}}), 0);
  consumer->close();
  consumer.reset();

  // The offsets reset back to the start with the CLI: REWIND.
  const std::string reset = run_command(std::string(FJORD_BINARY) + " group reset-offsets workers --bootstrap-server " +
                                        broker.bootstrap() + " --topic work --to-earliest --execute 2>&1");
  ASSERT_EQ(reset.find("exit status"), std::string::npos) << reset;
  ASSERT_TRUE(wait_until([&] { return status("REWIND") == 1; }, std::chrono::seconds(5))) << broker.metrics();
  auto json = api_lag(broker);
  ASSERT_FALSE(json.is_null());
  ASSERT_EQ(json["groups"].size(), 1u) << json.dump();
  EXPECT_EQ(json["groups"][0]["status"], "REWIND") << json.dump();
  EXPECT_EQ(json["groups"][0]["partitions"][0]["committed_offset"], 0);
  EXPECT_EQ(json["groups"][0]["partitions"][0]["lag"], 10);
}

TEST(LagEngine, TimeToDataLossPredictsWhenRetentionDeletesTheFirstUnconsumedRecord) {
  BrokerProcess broker({"--set", "log.retention.check.interval.ms=200"});
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("short-lived", 1, {{"retention.ms", "20000"}}), RD_KAFKA_RESP_ERR_NO_ERROR);
  produce_now(broker.bootstrap(), "short-lived", 10);
  commit(broker.bootstrap(), "slow", "short-lived", 3);

  // The prediction, as of the sample it was made in.
  nlohmann::json partition;
  int64_t sampled_at = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        auto json = api_lag(broker);
        if (json.is_null() || json["groups"].empty()) return false;
        partition = json["groups"][0]["partitions"][0];
        sampled_at = json["sampled_at_ms"].get<int64_t>();
        return !partition["time_to_data_loss_seconds"].is_null();
      },
      std::chrono::seconds(10)));
  const double predicted = partition["time_to_data_loss_seconds"].get<double>();
  EXPECT_GT(predicted, 15);
  EXPECT_LE(predicted, 20);
  EXPECT_NEAR(broker.metric("fjord_consumergroup_time_to_data_loss_seconds", {{"group", "slow"}}), predicted, 1.5);
  const int64_t predicted_at = sampled_at + static_cast<int64_t>(predicted * 1000);

  // When the records are really deleted: the log start moves past the committed offset.
  auto conf = client_conf(broker.bootstrap());
  std::string error;
  std::unique_ptr<RdKafka::Producer> handle(RdKafka::Producer::create(conf.get(), error));
  const int64_t watching_from = now_ms();
  int64_t deleted_at = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        int64_t low = -1, high = -1;
        if (handle->query_watermark_offsets("short-lived", 0, &low, &high, 1000) != RdKafka::ERR_NO_ERROR) return false;
        if (low <= 3) return false;
        deleted_at = now_ms();
        return true;
      },
      std::chrono::seconds(40), std::chrono::milliseconds(50)));
  const double error_seconds = std::abs(static_cast<double>(deleted_at - predicted_at)) / 1000;
  const double horizon = static_cast<double>(deleted_at - watching_from) / 1000;
  std::printf("time to data loss: predicted %.1f s (as of its sample), deleted after %.1f s, off by %.2f s\n",
              predicted, horizon, error_seconds);
  EXPECT_LE(error_seconds, 0.1 * horizon) << "predicted " << predicted << " s, deleted after " << horizon << " s";
  // Nothing left to lose: the series goes with the lag it measured.
  ASSERT_TRUE(wait_until(
      [&] { return broker.metrics().find("fjord_consumergroup_time_to_data_loss_seconds{") == std::string::npos; },
      std::chrono::seconds(5)));
}

}  // namespace
}  // namespace fjord::testing

namespace fjord::testing {
namespace {

// A cap on the lag series: past fjord.lag.max.series group-partition pairs nothing more is exported (the first in
// group order stay) and what was left out is counted; the cluster name labels every series.
TEST(LagEngine, TheSeriesCapLeavesOutWhatIsPastItAndCountsIt) {
  BrokerProcess broker({"--set", "fjord.lag.max.series=2", "--set", "fjord.metrics.cluster.name=east"});
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("capped", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  produce_now(broker.bootstrap(), "capped", 5);
  for (const char* group : {"group-a", "group-b", "group-c"}) commit(broker.bootstrap(), group, "capped", 1);
  ASSERT_TRUE(wait_until(
      [&] {
        return broker.metric("fjord_lag_series_dropped", {{"cluster_name", "east"}}) == 1;
      },
      std::chrono::seconds(10)))
      << broker.metrics();
  for (const char* group : {"group-a", "group-b"}) {
    EXPECT_EQ(broker.metric("kafka_consumergroup_group_lag", {{"group", group}, {"cluster_name", "east"}}), 4)
        << group << "\n"
        << broker.metrics();
  }
  // No lag series of the third group (its group-level series, members and rebalances, stay).
  std::istringstream lines(broker.metrics());
  for (std::string line; std::getline(lines, line);) {
    if (line.find("group=\"group-c\"") == std::string::npos) continue;
    EXPECT_TRUE(line.starts_with("fjord_consumergroup_members") || line.starts_with("fjord_consumergroup_rebalances"))
        << line;
  }
}

// The broker metrics beside lag that users expect: request latency by API, record bytes in and out per topic
// (the series go with the topic), and groups' members, rebalances and states.
TEST(BrokerMetrics, RequestLatencyBytesPerTopicAndGroupMembersRebalancesAndStates) {
  BrokerProcess broker;
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("traffic", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  produce_now(broker.bootstrap(), "traffic", 20);
  const std::map<std::string, std::string> topic{{"topic", "traffic"}};
  const double bytes_in = broker.metric("fjord_topic_bytes_in_total", topic);
  EXPECT_GT(bytes_in, 20 * 9) << "twenty records of at least nine bytes each";
  EXPECT_GE(broker.metric("fjord_request_latency_seconds_count", {{"api", "Produce"}}), 1);
  EXPECT_GE(broker.metric("fjord_request_latency_seconds_bucket", {{"api", "Produce"}, {"le", "+Inf"}}), 1);

  auto conf =
      client_conf(broker.bootstrap(),
                  {{"group.id", "readers"}, {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  ASSERT_EQ(consumer->subscribe({"traffic"}), RdKafka::ERR_NO_ERROR);
  int read = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        std::unique_ptr<RdKafka::Message> message(consumer->consume(100));
        if (message->err() == RdKafka::ERR_NO_ERROR) ++read;
        return read == 20;
      },
      std::chrono::seconds(30)));
  // Every batch was fetched once at least: as many bytes out as in.
  EXPECT_GE(broker.metric("fjord_topic_bytes_out_total", topic), bytes_in);
  EXPECT_GE(broker.metric("fjord_request_latency_seconds_count", {{"api", "Fetch"}}), 1);
  ASSERT_TRUE(wait_until(
      [&] {
        return broker.metric("fjord_consumergroup_members", {{"group", "readers"}}) == 1;
      },
      std::chrono::seconds(10)))
      << broker.metrics();
  EXPECT_GE(broker.metric("fjord_consumergroup_rebalances", {{"group", "readers"}}), 1);
  EXPECT_EQ(broker.metric("fjord_consumergroups", {{"state", "Stable"}}), 1);
  consumer->close();
  ASSERT_TRUE(wait_until(
      [&] {
        return broker.metric("fjord_consumergroups", {{"state", "Empty"}}) == 1;
      },
      std::chrono::seconds(10)))
      << broker.metrics();
  EXPECT_EQ(broker.metric("fjord_consumergroup_members", {{"group", "readers"}}), 0);

  // A deleted topic leaves no series behind.
  ASSERT_EQ(admin.delete_topic("traffic"), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(wait_until([&] { return broker.metrics().find("topic=\"traffic\"") == std::string::npos; },
                         std::chrono::seconds(10)))
      << broker.metrics();
}

}  // namespace
}  // namespace fjord::testing

namespace fjord::testing {
namespace {

// In a cluster the group's coordinator reports every partition the group committed, those led by the other
// brokers too (asked of their leaders), exactly; no other broker reports the group.
TEST_F(ThreeBrokerCluster, TheCoordinatorReportsLagOfPartitionsOtherBrokersLead) {
  Admin admin(bootstrap());
  ASSERT_EQ(admin.create_topic("spread", 3), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_TRUE(wait_until(
      [&] {
        return describe("spread", 0).leader > 0 && describe("spread", 1).leader > 0 && describe("spread", 2).leader > 0;
      },
      std::chrono::seconds(30)));
  std::set<int32_t> leaders;
  for (int32_t p = 0; p < 3; ++p) leaders.insert(describe("spread", p).leader);
  // Ten records per partition, stamped ten minutes ago and a second apart.
  const int64_t base = now_ms() - 600'000;
  {
    auto conf = client_conf(bootstrap());
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    for (int32_t p = 0; p < 3; ++p) {
      for (int i = 0; i < 10; ++i) {
        std::string value = "r" + std::to_string(i);
        ASSERT_EQ(producer->produce("spread", p, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr, 0,
                                    base + i * 1000, nullptr),
                  RdKafka::ERR_NO_ERROR);
      }
    }
    ASSERT_EQ(producer->flush(20000), RdKafka::ERR_NO_ERROR);
  }
  const std::map<int32_t, int64_t> committed{{0, 2}, {1, 5}, {2, 10}};
  {
    auto conf = client_conf(bootstrap(), {{"group.id", "spread-readers"}, {"enable.auto.commit", "false"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    ASSERT_TRUE(consumer) << error;
    std::vector<RdKafka::TopicPartition*> offsets;
    for (const auto& [p, offset] : committed) offsets.push_back(RdKafka::TopicPartition::create("spread", p, offset));
    ASSERT_EQ(consumer->commitSync(offsets), RdKafka::ERR_NO_ERROR);
    RdKafka::TopicPartition::destroy(offsets);
    consumer->close();
  }

  // The group's partitions, as each broker's /api/lag reports them.
  auto reported = [&](int id) {
    std::map<int32_t, nlohmann::json> out;
    auto json = api_lag(broker(id));
    if (json.is_null()) return out;
    for (const auto& g : json["groups"]) {
      if (g["group"] != "spread-readers") continue;
      for (const auto& p : g["partitions"]) out[p["partition"].get<int32_t>()] = p;
    }
    return out;
  };
  int coordinator = -1;
  ASSERT_TRUE(wait_until(
      [&] {
        for (int id = 1; id <= 3; ++id) {
          if (reported(id).size() == 3) coordinator = id;
        }
        return coordinator > 0;
      },
      std::chrono::seconds(30)));
  EXPECT_GE(leaders.size() - leaders.count(coordinator), 1u) << "some partition must be led by another broker";
  const auto partitions = reported(coordinator);
  for (const auto& [p, offset] : committed) {
    const auto& row = partitions.at(p);
    EXPECT_EQ(row["committed_offset"], offset) << row.dump();
    EXPECT_EQ(row["end_offset"], 10) << row.dump();
    EXPECT_EQ(row["lag"], 10 - offset) << row.dump();
    const double expected = offset < 10 ? static_cast<double>(now_ms() - (base + offset * 1000)) / 1000 : 0;
    EXPECT_NEAR(row["lag_seconds"].get<double>(), expected, 3.0)
        << "partition " << p << " led by " << describe("spread", p).leader << ": " << row.dump();
  }
  for (int id = 1; id <= 3; ++id) {
    if (id == coordinator) continue;
    EXPECT_TRUE(reported(id).empty()) << "broker " << id << " reports the group too";
    EXPECT_EQ(broker(id).metrics().find("group=\"spread-readers\""), std::string::npos) << "broker " << id;
  }
}

}  // namespace
}  // namespace fjord::testing
