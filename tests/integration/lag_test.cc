// The lag engine against ground truth: records produced by librdkafka with known timestamps, a group's offset
// committed by librdkafka at a known position, the broker's /metrics read back. Lag in records is exact, lag in
// seconds is now minus the timestamp of the first record the group has not consumed (to within the one-second
// sampling), 0 when caught up and flat while the partition stays idle; /api/lag serves the same sample; a deleted
// group's series disappear.
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void commit(const std::string& bootstrap, const std::string& group, const std::string& topic, int64_t offset) {
  auto conf = client_conf(bootstrap, {{"group.id", group}, {"enable.auto.commit", "false"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  std::vector<RdKafka::TopicPartition*> offsets{RdKafka::TopicPartition::create(topic, 0, offset)};
  ASSERT_EQ(consumer->commitSync(offsets), RdKafka::ERR_NO_ERROR);
  RdKafka::TopicPartition::destroy(offsets);
  consumer->close();
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

  const std::string labels = "{group=\"lag-group\",partition=\"0\",topic=\"lagged\"}";
  auto lag = [&] { return broker.metric("kafka_consumergroup_group_lag" + labels); };
  auto lag_seconds = [&] { return broker.metric("kafka_consumergroup_group_lag_seconds" + labels); };
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
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(lag(), 0);
  EXPECT_EQ(lag_seconds(), 0) << "lag in seconds must not grow on an idle, caught-up partition";

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

}  // namespace
}  // namespace fjord::testing
