// Topics created, described, altered and deleted through the Admin API of a real client (librdkafka), and the
// errors a Kafka broker gives for the requests it refuses.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"

namespace fjord::testing {
namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override { broker.start(); }
  BrokerProcess broker;
};

TEST_F(AdminTest, TopicLifecycle) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("orders", 3, {{"retention.ms", "3600000"}, {"max.message.bytes", "2000000"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_TRUE(contains(admin.list_topics(), "orders"));
  EXPECT_EQ(admin.partition_count("orders"), 3);

  auto configs = admin.describe_topic_configs("orders");
  EXPECT_EQ(configs["retention.ms"].first, "3600000");
  EXPECT_EQ(configs["retention.ms"].second, RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG);
  EXPECT_EQ(configs["segment.bytes"].first, "1073741824");
  EXPECT_EQ(configs["segment.bytes"].second, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);
  EXPECT_EQ(configs["flush.messages"].first, "1");

  // AlterConfigs replaces the whole set of overrides.
  ASSERT_EQ(admin.alter_topic_configs("orders", {{"retention.ms", "60000"}}), RD_KAFKA_RESP_ERR_NO_ERROR);
  configs = admin.describe_topic_configs("orders");
  EXPECT_EQ(configs["retention.ms"].first, "60000");
  EXPECT_EQ(configs["max.message.bytes"].first, "1048588");
  EXPECT_EQ(configs["max.message.bytes"].second, RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG);

  ASSERT_EQ(admin.create_partitions("orders", 5), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin.partition_count("orders"), 5);

  ASSERT_EQ(admin.delete_topic("orders"), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_FALSE(contains(admin.list_topics(), "orders"));
  // Re-created, it starts empty and with defaults.
  ASSERT_EQ(admin.create_topic("orders", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin.describe_topic_configs("orders")["retention.ms"].first, "604800000");
}

TEST_F(AdminTest, RefusalsUseKafkasErrorCodes) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("dup", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin.create_topic("dup", 1), RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
  EXPECT_EQ(admin.create_topic("three-copies", 1, {}, 3), RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR);
  EXPECT_EQ(admin.create_topic("bad-config", 1, {{"retention.ms", "forever"}}), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  EXPECT_EQ(admin.create_topic("unknown-config", 1, {{"made.up", "1"}}), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  EXPECT_EQ(admin.create_topic("bad name!", 1), RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
  EXPECT_EQ(admin.delete_topic("never-was"), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  EXPECT_EQ(admin.create_partitions("dup", 1), RD_KAFKA_RESP_ERR_INVALID_PARTITIONS);
  rd_kafka_resp_err_t err;
  admin.describe_topic_configs("never-was", &err);
  EXPECT_EQ(err, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  EXPECT_EQ(admin.alter_topic_configs("dup", {{"retention.ms", "x"}}), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
}

// A setting Fjord accepts does what it says; one it does not implement is refused, never accepted and ignored.
TEST_F(AdminTest, SettingsFjordDoesNotHonourAreRefused) {
  Admin admin(broker.bootstrap());
  EXPECT_EQ(admin.create_topic("prealloc", 1, {{"preallocate", "true"}}), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  EXPECT_EQ(admin.create_topic("ratio", 1, {{"min.cleanable.dirty.ratio", "2"}}), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  ASSERT_EQ(admin.create_topic("tuned", 1,
                               {{"preallocate", "false"},
                                {"segment.jitter.ms", "1000"},
                                {"segment.index.bytes", "4096"},
                                {"file.delete.delay.ms", "1000"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(admin.alter_topic_configs("tuned", {{"preallocate", "true"}}), RD_KAFKA_RESP_ERR_INVALID_CONFIG);
  auto configs = admin.describe_topic_configs("tuned");
  EXPECT_EQ(configs["segment.index.bytes"].first, "4096");
  EXPECT_EQ(configs["cleanup.policy"].first, "delete");
  // Compaction is honoured (tests/integration/compaction_test.cc): its settings are described.
  ASSERT_EQ(admin.alter_topic_configs("tuned", {{"cleanup.policy", "compact"}, {"delete.retention.ms", "1000"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  configs = admin.describe_topic_configs("tuned");
  EXPECT_EQ(configs["cleanup.policy"].first, "compact");
  EXPECT_EQ(configs["delete.retention.ms"].first, "1000");
  EXPECT_EQ(configs["min.cleanable.dirty.ratio"].first, "0.5");
}

// A broker refuses to start with a setting it does not know, or a value it cannot honour (an assignor it does not
// have), rather than run without it.
TEST(BrokerSettings, UnknownOrUnhonouredSettingsStopTheBrokerFromStarting) {
  for (const std::string setting :
       {"num.network.threads=3", "log.cleaner.io.buffer.size=524288", "log.preallocate=true",
        "group.consumer.assignors=sticky", "group.share.enable=true"}) {
    const std::string output =
        run_command(std::string(FJORD_BINARY) + " broker --data-dir " + make_temp_directory("fjord-settings") +
                    " --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --set " + setting + " 2>&1");
    EXPECT_NE(output.find("(exit status 2)"), std::string::npos) << setting << ":\n" << output;
    EXPECT_NE(output.find(setting.substr(0, setting.find('='))), std::string::npos) << "the error names the setting";
  }
  // Kafka's names for what the options also say must agree with them.
  const std::string output =
      run_command(std::string(FJORD_BINARY) + " broker --data-dir " + make_temp_directory("fjord-settings") +
                  " --listen 127.0.0.1:0 --set listeners=PLAINTEXT://127.0.0.1:1 2>&1");
  EXPECT_NE(output.find("disagree"), std::string::npos) << output;
}

TEST_F(AdminTest, DeleteRecordsRaisesTheLogStartAndSurvivesRestart) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("trim", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  {
    TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < 100; ++i) producer.produce("trim", 0, 1, i);
    ASSERT_TRUE(producer.flush(10000));
  }
  rd_kafka_resp_err_t err;
  EXPECT_EQ(admin.delete_records("trim", 0, 40, &err), 40);
  EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR);
  admin.delete_records("trim", 0, 1000, &err);
  EXPECT_EQ(err, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);

  auto records = consume(broker.bootstrap(), "trim", {0}, RdKafka::Topic::OFFSET_BEGINNING, 60, 10000);
  ASSERT_EQ(records.size(), 60u);
  EXPECT_EQ(records.front().offset, 40);

  broker.stop();
  broker.start();
  records = consume(broker.bootstrap(), "trim", {0}, RdKafka::Topic::OFFSET_BEGINNING, 60, 10000);
  ASSERT_EQ(records.size(), 60u);
  EXPECT_EQ(records.front().offset, 40);
}

TEST_F(AdminTest, AutoCreatesTopicsOnMetadataRequest) {
  TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
  producer.produce("auto-made", RdKafka::Topic::PARTITION_UA, 1, 0);
  ASSERT_TRUE(producer.flush(10000));
  ASSERT_EQ(producer.deliveries.at(0).error, RdKafka::ERR_NO_ERROR);
  Admin admin(broker.bootstrap());
  EXPECT_EQ(admin.partition_count("auto-made"), 1);
}

TEST(AdminSettings, AutoCreationCanBeTurnedOff) {
  BrokerProcess broker({"--set", "auto.create.topics.enable=false"});
  broker.start();
  Admin admin(broker.bootstrap());
  TestProducer producer(broker.bootstrap(), {{"acks", "all"}, {"message.timeout.ms", "2000"}});
  producer.produce("not-made", 0, 1, 0);
  producer.flush(5000);
  EXPECT_NE(producer.deliveries.at(0).error, RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(admin.partition_count("not-made"), -1);
}

}  // namespace
}  // namespace fjord::testing
