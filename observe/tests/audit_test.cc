#include "observe/audit.h"

#include <gtest/gtest.h>

#include <set>

namespace fjord::observe {
namespace {

using server::ClientActivity;
using server::ClientIdentity;
using server::GroupMemberUse;

std::multiset<std::string> rules_of(const std::vector<Finding>& findings) {
  std::multiset<std::string> out;
  for (const auto& f : findings) out.insert(f.rule);
  return out;
}

TEST(Audit, AnUnsafeProducerIsNamedForAcksAndIdempotenceAndASafeOneIsNot) {
  ClientActivity activity(60'000);
  const ClientIdentity legacy{"legacy", "librdkafka", "2.0.2", "/10.0.0.7"};
  const ClientIdentity safe{"payments", "apache-kafka-java", "4.4.0", "/10.0.0.8"};
  activity.produced(legacy, "orders", 1, false, false, 1000);
  activity.produced(safe, "orders", -1, true, false, 1000);
  const auto findings = audit_clients(activity.clients(1000));
  EXPECT_EQ(rules_of(findings), (std::multiset<std::string>{"producer-acks-all", "producer-idempotence"}));
  for (const auto& f : findings) {
    EXPECT_EQ(f.subject, "client.id=legacy (librdkafka 2.0.2) from /10.0.0.7");
    EXPECT_FALSE(f.reason.empty());
  }
  EXPECT_EQ(findings[0].fix, "acks=all (with min.insync.replicas=2 on the topic)");
  EXPECT_EQ(findings[1].fix, "enable.idempotence=true");
}

TEST(Audit, ConsumersOfferingAnEagerStrategyOrNoInstanceIdAreNamed) {
  ClientActivity activity(60'000);
  GroupMemberUse java_default{"consumer", {"range", "cooperative-sticky"}, std::nullopt, 45000, 300000, 0};
  GroupMemberUse safe{"consumer", {"cooperative-sticky"}, std::string("pod-1"), 45000, 300000, 0};
  GroupMemberUse connect{"connect", {"sessioned"}, std::nullopt, 10000, 60000, 0};
  activity.joined({"java", "apache-kafka-java", "4.4.0", "/h1"}, "billing", java_default, 5);
  activity.joined({"sdk", "librdkafka", "2.0.2", "/h2"}, "billing", safe, 5);
  activity.joined({"worker", "", "", "/h3"}, "connect-cluster", connect, 5);
  const auto findings = audit_clients(activity.clients(5));
  EXPECT_EQ(rules_of(findings), (std::multiset<std::string>{"consumer-cooperative", "consumer-static-membership"}))
      << "only the Java default breaks rules; other protocol types are not consumers";
  EXPECT_EQ(findings[0].detail, "joined group billing offering range,cooperative-sticky");
}

TEST(Audit, ClientsAgeOutAndTheRegistryIsBounded) {
  ClientActivity activity(10'000);
  activity.produced({"old", "", "", "/a"}, "t", 1, false, false, 0);
  activity.produced({"live", "", "", "/b"}, "t", 1, false, false, 0);
  activity.seen({"live", "", "", "/b"}, 9'000);
  EXPECT_EQ(activity.clients(5'000).size(), 2u);
  EXPECT_EQ(activity.clients(15'000).size(), 1u) << "gone for longer than the expiry";
  EXPECT_EQ(activity.clients(15'000).begin()->first.client_id, "live");
  for (size_t i = 0; i < ClientActivity::kMaxClients + 10; ++i)
    activity.produced({"c" + std::to_string(i), "", "", "/x"}, "t", -1, true, false, 16'000 + static_cast<int64_t>(i));
  EXPECT_EQ(activity.clients(17'000).size(), ClientActivity::kMaxClients);
}

TEST(Audit, TopicsAndClusterSettingsAreCheckedAgainstTheChecklist) {
  std::vector<TopicFacts> topics = {{"payments", 3, 2, false, 604800000, -1, false},  // as the checklist wants
                                    {"scratch", 1, 1, false, 604800000, -1, false},   // one replica
                                    {"ledger", 3, 1, false, 604800000, -1, false},    // min ISR 1
                                    {"strict", 3, 3, false, 604800000, -1, false},    // min ISR = replicas
                                    {"risky", 3, 2, true, 604800000, -1, false},      // unclean election
                                    {"forever", 3, 2, false, -1, -1, false},          // no retention
                                    {"table", 3, 2, false, -1, -1, true},             // compacted: no retention is fine
                                    {"__consumer_offsets", 1, 1, false, -1, -1, true}};
  const auto findings = audit_topics(topics);
  std::multiset<std::string> expected{"topic-replication-factor",  "topic-min-insync-replicas",
                                      "topic-min-insync-replicas", "topic-unclean-leader-election",
                                      "topic-unbounded-retention", "cluster-internal-topic-replication"};
  EXPECT_EQ(rules_of(findings), expected);
  for (const auto& f : findings) EXPECT_NE(f.subject, "payments");
  for (const auto& f : findings) {
    if (f.subject == "strict") {
      EXPECT_EQ(f.fix, "min.insync.replicas=2");
    }
    if (f.subject == "__consumer_offsets") {
      EXPECT_EQ(f.fix, "offsets.topic.replication.factor=3");
    }
  }
  EXPECT_EQ(rules_of(audit_cluster({0})), (std::multiset<std::string>{"cluster-initial-rebalance-delay"}));
  EXPECT_TRUE(audit_cluster({3000}).empty());
}

TEST(Audit, AGroupRunningAnEagerAssignorOrWithMembersWithoutInstanceIdsIsNamed) {
  std::vector<GroupFacts> groups = {
      {"eager", "range", {{"c1", "/h1", std::nullopt}, {"c2", "/h2", std::string("pod-2")}}},
      {"cooperative", "cooperative-sticky", {{"c3", "/h3", std::string("pod-3")}}},
      {"empty", "", {}}};
  const auto findings = audit_groups(groups);
  EXPECT_EQ(rules_of(findings), (std::multiset<std::string>{"consumer-cooperative", "consumer-static-membership"}));
  for (const auto& f : findings) {
    EXPECT_EQ(f.subject, "eager");
    EXPECT_EQ(f.subject_kind, "group");
  }
  EXPECT_EQ(findings[1].detail, "member client.id=c1 from /h1 has no group.instance.id");
}

}  // namespace
}  // namespace fjord::observe
