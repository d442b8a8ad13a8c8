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
      {"consumer-protocol", "uniform", {{"c4", "/h4", std::string("pod-4")}}, true},
      {"empty", "", {}}};
  const auto findings = audit_groups(groups);
  EXPECT_EQ(rules_of(findings), (std::multiset<std::string>{"consumer-cooperative", "consumer-static-membership"}));
  for (const auto& f : findings) {
    EXPECT_EQ(f.subject, "eager");
    EXPECT_EQ(f.subject_kind, "group");
  }
  EXPECT_EQ(findings[1].detail, "member client.id=c1 from /h1 has no group.instance.id");
}

std::vector<int64_t> times_from_intervals(const std::vector<int64_t>& intervals) {
  std::vector<int64_t> times{1'000'000};
  for (int64_t i : intervals) times.push_back(times.back() + i);
  return times;
}

TEST(CommitPattern, ATimerIsPeriodicEvenWhenItSkipsTicksOrAPollLoopIsLate) {
  const auto exact = classify_commits(times_from_intervals({5000, 5000, 5001, 4999, 5000}));
  EXPECT_EQ(exact.pattern, CommitPattern::kPeriodic);
  EXPECT_EQ(exact.period_ms, 5000);
  // A timer that found nothing new skips its commit (librdkafka): intervals are whole periods.
  EXPECT_EQ(classify_commits(times_from_intervals({1000, 2000, 1000, 3000, 1000, 1000})).pattern,
            CommitPattern::kPeriodic);
  // A poll loop reaches the deadline a little late; a commit on revocation comes off the beat.
  EXPECT_EQ(classify_commits(times_from_intervals({1000, 1120, 1040, 1200, 1010, 300, 1000, 1100, 1030, 1060})).pattern,
            CommitPattern::kPeriodic);
}

TEST(CommitPattern, CommitsThatFollowTheWorkAreAfterProcessing) {
  // As often as batches finish.
  EXPECT_EQ(classify_commits(times_from_intervals({120, 80, 300, 95, 40, 210})).pattern,
            CommitPattern::kAfterProcessing);
  // Slow batches whose durations vary.
  EXPECT_EQ(classify_commits(times_from_intervals({1200, 2700, 1500, 3100, 1900, 2300, 1100})).pattern,
            CommitPattern::kAfterProcessing);
}

TEST(CommitPattern, TooFewCommitsAreUnknown) {
  EXPECT_EQ(classify_commits({}).pattern, CommitPattern::kUnknown);
  EXPECT_EQ(classify_commits(times_from_intervals({5000, 5000, 5000})).pattern, CommitPattern::kUnknown);
  EXPECT_EQ(kMinCommitIntervals, 4u);
}

TEST(CommitPattern, APeriodicCommitterIsNamedOncePerGroupAndMembersAreNotMixed) {
  ClientActivity activity(600'000);
  const ClientIdentity worker{"worker", "apache-kafka-java", "4.4.0", "/h1"};
  GroupMemberUse safe{"consumer", {"cooperative-sticky"}, std::string("pod-1"), 45000, 300000, 0};
  activity.joined(worker, "billing", safe, 0);
  // Two consumers in one process share the client id: one auto-commits every second, the other commits after
  // each record. Mixed together their commits would look like neither.
  int64_t now = 0;
  for (int i = 0; i < 8; ++i) activity.committed(worker, "billing", "auto-1", now += 1000);
  for (int i = 0; i < 30; ++i) activity.committed(worker, "billing", "manual-1", 100 + i * 233 + (i % 3) * 50);
  activity.joined(worker, "billing", safe, now);
  const auto findings = audit_clients(activity.clients(now));
  ASSERT_EQ(rules_of(findings), (std::multiset<std::string>{"consumer-commit-after-processing"}))
      << "the commits survive the member joining again";
  EXPECT_EQ(findings[0].detail, "commits to group billing every 1.0 s whatever it processed, as auto-commit does");
  EXPECT_EQ(classify_commits(activity.clients(now).begin()->second.groups.at("billing").commits.at("manual-1").recent())
                .pattern,
            CommitPattern::kAfterProcessing);
}

TEST(CommitPattern, CommitTimesKeepTheLatestAndCommittersPerGroupAreBounded) {
  server::CommitTimes times;
  for (int64_t t = 1; t <= 100; ++t) times.add(t);
  EXPECT_EQ(times.total(), 100u);
  ASSERT_EQ(times.recent().size(), server::CommitTimes::kKept);
  EXPECT_EQ(times.recent().front(), 100 - static_cast<int64_t>(server::CommitTimes::kKept) + 1);
  EXPECT_EQ(times.last_ms(), 100);
  ClientActivity activity(600'000);
  for (size_t i = 0; i < ClientActivity::kMaxCommittersPerGroup + 5; ++i)
    activity.committed({"c", "", "", "/h"}, "g", "member-" + std::to_string(i), static_cast<int64_t>(i));
  const auto& commits = activity.clients(1000).begin()->second.groups.at("g").commits;
  EXPECT_EQ(commits.size(), ClientActivity::kMaxCommittersPerGroup);
  EXPECT_FALSE(commits.contains("member-0")) << "the one that committed least recently made room";
  EXPECT_EQ(activity.commit_histories(), ClientActivity::kMaxCommittersPerGroup);
}

TEST(CommitPattern, CommitHistoriesAcrossAllClientsAreBoundedAndGoWithTheirClients) {
  ClientActivity activity(10'000);
  // Client and member ids are the clients' to choose: many of each must not grow the broker without bound.
  size_t made = 0;
  for (int client = 0; made < ClientActivity::kMaxCommitHistories + 100; ++client) {
    for (size_t group = 0; group < 1000 && made < ClientActivity::kMaxCommitHistories + 100; ++group) {
      for (size_t m = 0; m < ClientActivity::kMaxCommittersPerGroup; ++m, ++made) {
        activity.committed({"c" + std::to_string(client), "", "", "/h"}, "g" + std::to_string(group),
                           "m" + std::to_string(m), 0);
      }
    }
  }
  EXPECT_EQ(activity.commit_histories(), ClientActivity::kMaxCommitHistories);
  activity.committed({"late", "", "", "/h"}, "g", "m", 0);
  EXPECT_TRUE(activity.clients(0).at({"late", "", "", "/h"}).groups.at("g").commits.empty()) << "past the bound";
  EXPECT_EQ(activity.clients(20'000).size(), 0u);
  EXPECT_EQ(activity.commit_histories(), 0u) << "forgotten clients give their histories back";
  activity.committed({"late", "", "", "/h"}, "g", "m", 20'000);
  EXPECT_EQ(activity.commit_histories(), 1u);
}

}  // namespace
}  // namespace fjord::observe
