#include "client/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace fjord::client {
namespace {

TEST(ProducerSettingsTest, SafeByDefault) {
  auto p = producer_properties({.bootstrap_servers = "b:9092"});
  EXPECT_EQ(p["acks"], "all");
  EXPECT_EQ(p["enable.idempotence"], "true");
  EXPECT_EQ(p["bootstrap.servers"], "b:9092");
  EXPECT_EQ(p.count("transactional.id"), 0u);
}

TEST(ProducerSettingsTest, WeakerAcksNeedAnOptIn) {
  for (const char* acks : {"1", "0"}) {
    ProducerSettings s{.properties = {{"acks", acks}}};
    EXPECT_THROW(producer_properties(s), ClientError) << acks;
    s.allow_unsafe = true;
    std::vector<std::string> warnings;
    auto p = producer_properties(s, &warnings);
    EXPECT_EQ(p["acks"], acks);
    // librdkafka refuses idempotence without acks=all, so the opt-in turns it off and says so.
    EXPECT_EQ(p["enable.idempotence"], "false");
    EXPECT_EQ(warnings.size(), 2u);
  }
  ProducerSettings legacy{.properties = {{"request.required.acks", "1"}}};
  EXPECT_THROW(producer_properties(legacy), ClientError);
}

TEST(ProducerSettingsTest, IdempotenceOffNeedsAnOptIn) {
  ProducerSettings s{.properties = {{"enable.idempotence", "false"}}};
  EXPECT_THROW(producer_properties(s), ClientError);
  s.allow_unsafe = true;
  std::vector<std::string> warnings;
  auto p = producer_properties(s, &warnings);
  EXPECT_EQ(p["enable.idempotence"], "false");
  EXPECT_EQ(p["acks"], "all");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("enable.idempotence=false"), std::string::npos);
}

TEST(ProducerSettingsTest, AcksMinusOneIsAll) {
  auto p = producer_properties({.properties = {{"acks", "-1"}}});
  EXPECT_EQ(p["acks"], "all");
}

TEST(ProducerSettingsTest, TransactionalId) {
  auto p = producer_properties({.transactional_id = "ledger-1"});
  EXPECT_EQ(p["transactional.id"], "ledger-1");
}

TEST(ConsumerSettingsTest, ChecklistDefaults) {
  ::setenv("POD_NAME", "payments-7f9c", 1);
  auto p = consumer_properties({.bootstrap_servers = "b:9092", .group_id = "g", .topics = {"t"}});
  ::unsetenv("POD_NAME");
  EXPECT_EQ(p["enable.auto.commit"], "false");
  EXPECT_EQ(p["partition.assignment.strategy"], "cooperative-sticky");
  EXPECT_EQ(p["auto.offset.reset"], "earliest");
  EXPECT_EQ(p["group.instance.id"], "payments-7f9c");
  EXPECT_EQ(p["group.id"], "g");
}

TEST(ConsumerSettingsTest, ApplicationChoicesWin) {
  auto p = consumer_properties({.group_id = "g",
                                .properties = {{"partition.assignment.strategy", "range"},
                                               {"group.instance.id", "worker-2"},
                                               {"auto.offset.reset", "latest"}}});
  EXPECT_EQ(p["partition.assignment.strategy"], "range");
  EXPECT_EQ(p["group.instance.id"], "worker-2");
  EXPECT_EQ(p["auto.offset.reset"], "latest");
}

TEST(ConsumerSettingsTest, DynamicMembershipDropsTheInstanceId) {
  auto p =
      consumer_properties({.group_id = "g", .properties = {{"group.instance.id", "x"}}, .static_membership = false});
  EXPECT_EQ(p.count("group.instance.id"), 0u);
}

TEST(ConsumerSettingsTest, AutoCommitNeedsAnOptIn) {
  ConsumerSettings s{.group_id = "g", .properties = {{"enable.auto.commit", "true"}}};
  EXPECT_THROW(consumer_properties(s), ClientError);
  s.allow_unsafe = true;
  std::vector<std::string> warnings;
  EXPECT_EQ(consumer_properties(s, &warnings)["enable.auto.commit"], "true");
  EXPECT_EQ(warnings.size(), 1u);
}

TEST(ConsumerSettingsTest, GroupIdRequired) { EXPECT_THROW(consumer_properties({}), ClientError); }

// The consumer protocol: the broker assigns, so no client-side assignor is filled in and the settings the broker
// now owns are refused; a librdkafka that cannot speak it is named in the refusal rather than failing later.
TEST(ConsumerSettingsTest, ConsumerProtocolLeavesAssignmentToTheBrokerAndNamesTheLibrdkafkaItNeeds) {
  ConsumerSettings s{.group_id = "g", .properties = {{"group.protocol", "consumer"}}};
  auto p = consumer_properties(s, nullptr, 0x020c0100);
  EXPECT_EQ(p.count("partition.assignment.strategy"), 0u);
  EXPECT_EQ(p["group.protocol"], "consumer");
  EXPECT_EQ(p["enable.auto.commit"], "false") << "the checklist still holds";
  for (const char* owned : {"partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms"}) {
    ConsumerSettings with = s;
    with.properties[owned] = "1";
    EXPECT_THROW(consumer_properties(with, nullptr, 0x020c0100), ClientError) << owned;
  }
  try {
    consumer_properties(s, nullptr, 0x020002ff);
    FAIL() << "librdkafka 2.0.2 accepted for group.protocol=consumer";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("2.12.0 or later; this process runs 2.0.2"), std::string::npos) << e.what();
  }
  s.properties["group.protocol"] = "cooperative";
  EXPECT_THROW(consumer_properties(s, nullptr, 0x020c0100), ClientError);
}

TEST(ConfTest, RefusedPropertyIsNamed) {
  try {
    make_conf({{"no.such.property", "1"}});
    FAIL() << "accepted an unknown property";
  } catch (const ClientError& e) {
    EXPECT_NE(std::string(e.what()).find("no.such.property"), std::string::npos);
  }
}

}  // namespace
}  // namespace fjord::client
