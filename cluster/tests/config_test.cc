#include <gtest/gtest.h>

#include "cluster/config_definitions.h"

namespace fjord::cluster {
namespace {

TEST(Config, TopicValueComesFromTheMostSpecificSource) {
  BrokerSettings settings;
  const auto& retention = *find_topic_config("retention.ms");
  auto r = settings.resolve_topic(retention, {});
  EXPECT_EQ(r.value, "604800000");
  EXPECT_EQ(r.source, ConfigSource::kDefault);

  settings.static_configs["log.retention.ms"] = "1000";
  r = settings.resolve_topic(retention, {});
  EXPECT_EQ(r.value, "1000");
  EXPECT_EQ(r.source, ConfigSource::kStaticBroker);

  settings.dynamic_configs["log.retention.ms"] = "2000";
  r = settings.resolve_topic(retention, {{"retention.ms", "3000"}});
  EXPECT_EQ(r.value, "3000");
  EXPECT_EQ(r.source, ConfigSource::kTopic);
  ASSERT_EQ(r.synonyms.size(), 4u);
  EXPECT_EQ(r.synonyms[1].first, "log.retention.ms");
  EXPECT_EQ(r.synonyms[1].second.second, ConfigSource::kDynamicBroker);
}

TEST(Config, RetentionHoursIsKafkasFallback) {
  BrokerSettings settings;
  settings.static_configs["log.retention.hours"] = "1";
  EXPECT_EQ(settings.get_long("log.retention.ms"), 3600000);
  EXPECT_EQ(settings.resolve_topic(*find_topic_config("retention.ms"), {}).value, "3600000");
}

TEST(Config, FjordSyncsEveryWriteByDefault) { EXPECT_EQ(find_topic_config("flush.messages")->default_value, "1"); }

TEST(Config, ValuesAreCheckedAgainstTheirType) {
  EXPECT_TRUE(validate_config_value(*find_topic_config("retention.ms"), "abc"));
  EXPECT_TRUE(validate_config_value(*find_topic_config("segment.bytes"), "99999999999"));
  EXPECT_TRUE(validate_config_value(*find_topic_config("message.timestamp.type"), "Whenever"));
  EXPECT_TRUE(validate_config_value(*find_topic_config("preallocate"), "yes"));
  EXPECT_FALSE(validate_config_value(*find_topic_config("retention.ms"), "-1"));
  EXPECT_FALSE(validate_config_value(*find_topic_config("cleanup.policy"), "delete"));
}

TEST(Config, WhatFjordDoesNotDoIsRefusedWithTheReason) {
  // Accepting these would promise what the broker does not do.
  auto preallocate = validate_config_value(*find_topic_config("preallocate"), "true");
  ASSERT_TRUE(preallocate);
  EXPECT_NE(preallocate->find("preallocate=true"), std::string::npos);
  EXPECT_FALSE(validate_config_value(*find_topic_config("preallocate"), "false"));
  ASSERT_TRUE(not_implemented("group.coordinator.rebalance.protocols"));
  EXPECT_NE(not_implemented("group.coordinator.rebalance.protocols")->find("KIP-848"), std::string::npos);
  EXPECT_FALSE(not_implemented("group.consumer.assignors")) << "the consumer protocol's assignors are served";
  const auto* assignors = find_broker_config("group.consumer.assignors");
  ASSERT_NE(assignors, nullptr);
  EXPECT_FALSE(validate_config_value(*assignors, "org.apache.kafka.coordinator.group.assignor.RangeAssignor,uniform"));
  auto sticky = validate_config_value(*assignors, "uniform,sticky");
  ASSERT_TRUE(sticky);
  EXPECT_NE(sticky->find("sticky is not an assignor"), std::string::npos);
  EXPECT_EQ(assignor_short_name("org.apache.kafka.coordinator.group.assignor.UniformAssignor"), "uniform");
  EXPECT_FALSE(not_implemented("transactional.id.expiration.ms")) << "transactions are served";
  ASSERT_NE(find_broker_config("transaction.state.log.min.isr"), nullptr);
  EXPECT_EQ(find_broker_config("transaction.state.log.min.isr")->default_value, "2");
  EXPECT_FALSE(not_implemented("retention.ms"));
}

TEST(Config, CompactionSettingsAreKafkasWithTheirRanges) {
  for (const char* policy : {"compact", "compact,delete", "delete,compact", "delete"}) {
    EXPECT_FALSE(validate_config_value(*find_topic_config("cleanup.policy"), policy)) << policy;
  }
  EXPECT_TRUE(validate_config_value(*find_topic_config("cleanup.policy"), "shred"));
  EXPECT_FALSE(validate_config_value(*find_topic_config("min.cleanable.dirty.ratio"), "0.01"));
  EXPECT_TRUE(validate_config_value(*find_topic_config("min.cleanable.dirty.ratio"), "1.5"));
  EXPECT_TRUE(validate_config_value(*find_topic_config("min.cleanable.dirty.ratio"), "half"));
  EXPECT_EQ(find_topic_config("delete.retention.ms")->broker_synonym, "log.cleaner.delete.retention.ms");
  EXPECT_EQ(find_topic_config("min.compaction.lag.ms")->broker_synonym, "log.cleaner.min.compaction.lag.ms");
  EXPECT_EQ(find_topic_config("max.compaction.lag.ms")->broker_synonym, "log.cleaner.max.compaction.lag.ms");
  for (const char* broker :
       {"log.cleaner.threads", "log.cleaner.io.max.bytes.per.second", "log.cleaner.backoff.ms",
        "log.cleaner.dedupe.buffer.size", "log.cleaner.enable", "log.cleaner.min.cleanable.ratio"}) {
    EXPECT_NE(find_broker_config(broker), nullptr) << broker;
    EXPECT_FALSE(not_implemented(broker)) << broker;
  }
}

TEST(Config, BrokerKeysIncludeTopicSynonyms) {
  EXPECT_NE(find_broker_config("log.segment.bytes"), nullptr);
  EXPECT_NE(find_broker_config("message.max.bytes"), nullptr);
  EXPECT_NE(find_broker_config("num.partitions"), nullptr);
  EXPECT_EQ(find_broker_config("segment.bytes"), nullptr);
}

}  // namespace
}  // namespace fjord::cluster
