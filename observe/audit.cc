#include "observe/audit.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace fjord::observe {
namespace {

const std::string& reason_of(const std::string& rule) {
  for (const auto& r : checklist_rules()) {
    if (r.id == rule) return r.reason;
  }
  static const std::string none;
  return none;
}

Finding finding(const std::string& rule, std::string kind, std::string subject, std::string detail, std::string fix) {
  return {rule, reason_of(rule), std::move(kind), std::move(subject), std::move(detail), std::move(fix)};
}

bool cooperative(const std::string& strategy) { return strategy == "cooperative-sticky"; }

bool internal_topic(const std::string& name) { return name == "__consumer_offsets" || name == "__transaction_state"; }

}  // namespace

const std::vector<Rule>& checklist_rules() {
  static const std::vector<Rule> rules = {
      {"producer-acks-all",
       "acks=1 loses a record its leader acknowledged when the leader fails before a follower has it; acks=0 never "
       "knows"},
      {"producer-idempotence", "network retries without idempotence write records twice"},
      {"consumer-cooperative",
       "an eager rebalance stops every consumer of the group; cooperative-sticky moves only the partitions that must "
       "move"},
      {"consumer-static-membership",
       "without a stable group.instance.id every restart of a consumer rebalances its whole group"},
      {"consumer-commit-after-processing",
       "auto-commit commits on a timer, not when records are processed: a crash loses records handed out but not "
       "processed, or processes again what was"},
      {"topic-replication-factor", "with fewer than 3 replicas one broker failure leaves no safe copy to fail over to"},
      {"topic-min-insync-replicas",
       "acks=all protects nothing when min.insync.replicas=1, and writes stop at the first failure when it equals the "
       "replication factor"},
      {"topic-unclean-leader-election", "an unclean election makes a lagging replica leader and drops what it missed"},
      {"topic-unbounded-retention", "a log without time or size retention grows until its disk is full"},
      {"cluster-internal-topic-replication",
       "committed offsets and transaction state on fewer than 3 replicas are lost with one broker"},
      {"cluster-initial-rebalance-delay",
       "group.initial.rebalance.delay.ms=0 rebalances a starting group once per member that joins"},
  };
  return rules;
}

CommitRhythm classify_commits(const std::vector<int64_t>& commit_times_ms) {
  CommitRhythm rhythm;
  if (commit_times_ms.size() < 2) return rhythm;
  std::vector<int64_t> intervals;
  for (size_t i = 1; i < commit_times_ms.size(); ++i) intervals.push_back(commit_times_ms[i] - commit_times_ms[i - 1]);
  rhythm.intervals = intervals.size();
  if (intervals.size() < kMinCommitIntervals) return rhythm;
  std::vector<int64_t> sorted = intervals;
  std::sort(sorted.begin(), sorted.end());
  // The shortest interval but for outliers (a commit on revocation or on close comes off the timer).
  const int64_t base = sorted[sorted.size() / 5];
  if (base < 800) {
    rhythm.pattern = CommitPattern::kAfterProcessing;
    return rhythm;
  }
  // A timer's intervals are whole multiples of its period, give or take a poll loop's delay in reaching it.
  const int64_t tolerance = std::max<int64_t>(base / 5, 250);
  size_t on_beat = 0;
  int64_t single_periods = 0, single_count = 0;
  for (int64_t interval : intervals) {
    const int64_t periods = std::max<int64_t>(1, (interval + base / 2) / base);
    if (std::abs(interval - periods * base) > tolerance) continue;
    ++on_beat;
    if (periods == 1) {
      single_periods += interval;
      ++single_count;
    }
  }
  if (on_beat * 5 >= intervals.size() * 4) {
    rhythm.pattern = CommitPattern::kPeriodic;
    rhythm.period_ms = single_count > 0 ? single_periods / single_count : base;
  } else {
    rhythm.pattern = CommitPattern::kAfterProcessing;
  }
  return rhythm;
}

const char* commit_pattern_name(CommitPattern pattern) {
  switch (pattern) {
    case CommitPattern::kPeriodic:
      return "periodic";
    case CommitPattern::kAfterProcessing:
      return "after-processing";
    case CommitPattern::kUnknown:
      break;
  }
  return "unknown";
}

std::string describe_client(const server::ClientIdentity& client) {
  std::string out = "client.id=" + (client.client_id.empty() ? std::string("(none)") : client.client_id);
  if (!client.software_name.empty()) {
    out += " (" + client.software_name;
    if (!client.software_version.empty()) out += " " + client.software_version;
    out += ")";
  }
  if (!client.host.empty()) out += " from " + client.host;
  return out;
}

std::vector<Finding> audit_clients(const std::map<server::ClientIdentity, server::ClientUse>& clients) {
  std::vector<Finding> out;
  for (const auto& [client, use] : clients) {
    const std::string who = describe_client(client);
    for (const auto& [topic, produced] : use.produced) {
      for (int16_t acks : produced.acks) {
        if (acks == -1) continue;
        out.push_back(finding("producer-acks-all", "client", who,
                              "produced to " + topic + " with acks=" + std::to_string(acks),
                              "acks=all (with min.insync.replicas=2 on the topic)"));
      }
      if (produced.without_producer_id) {
        out.push_back(finding("producer-idempotence", "client", who, "produced to " + topic + " without idempotence",
                              "enable.idempotence=true"));
      }
    }
    for (const auto& [group, member] : use.groups) {
      for (const auto& [member_id, commits] : member.commits) {
        const CommitRhythm rhythm = classify_commits(commits.recent());
        if (rhythm.pattern != CommitPattern::kPeriodic) continue;
        char period[32];
        std::snprintf(period, sizeof(period), "%.1f", static_cast<double>(rhythm.period_ms) / 1000.0);
        out.push_back(
            finding("consumer-commit-after-processing", "client", who,
                    "commits to group " + group + " every " + period + " s whatever it processed, as auto-commit does",
                    "enable.auto.commit=false, and commit the offsets of processed records after "
                    "processing them"));
        break;  // one finding per client and group
      }
      if (member.protocol_type != "consumer") continue;
      std::vector<std::string> eager;
      for (const auto& p : member.protocols) {
        if (!cooperative(p)) eager.push_back(p);
      }
      if (!eager.empty()) {
        std::string offered;
        for (const auto& p : member.protocols) offered += (offered.empty() ? "" : ",") + p;
        out.push_back(finding("consumer-cooperative", "client", who, "joined group " + group + " offering " + offered,
                              "partition.assignment.strategy=cooperative-sticky (Java: CooperativeStickyAssignor "
                              "alone)"));
      }
      if (!member.group_instance_id) {
        out.push_back(finding("consumer-static-membership", "client", who,
                              "joined group " + group + " without group.instance.id",
                              "group.instance.id=<a stable name per instance, e.g. the pod name>"));
      }
    }
  }
  return out;
}

std::vector<Finding> audit_topics(const std::vector<TopicFacts>& topics) {
  std::vector<Finding> out;
  for (const auto& t : topics) {
    if (internal_topic(t.name)) continue;  // the cluster rules speak for them
    const std::string rf = std::to_string(t.replication_factor);
    if (t.replication_factor < 3) {
      out.push_back(finding("topic-replication-factor", "topic", t.name, "replication factor " + rf,
                            "3 replicas (recreate the topic with --replication-factor 3, or reassign its partitions)"));
    }
    if (t.replication_factor >= 2 && t.min_insync_replicas < 2) {
      out.push_back(
          finding("topic-min-insync-replicas", "topic", t.name,
                  "min.insync.replicas=" + std::to_string(t.min_insync_replicas) + " with " + rf + " replicas",
                  "min.insync.replicas=2"));
    } else if (t.replication_factor >= 2 && t.min_insync_replicas >= t.replication_factor) {
      out.push_back(
          finding("topic-min-insync-replicas", "topic", t.name,
                  "min.insync.replicas=" + std::to_string(t.min_insync_replicas) + " with " + rf + " replicas",
                  "min.insync.replicas=" + std::to_string(t.replication_factor - 1)));
    }
    if (t.unclean_leader_election) {
      out.push_back(finding("topic-unclean-leader-election", "topic", t.name, "unclean.leader.election.enable=true",
                            "unclean.leader.election.enable=false"));
    }
    if (!t.compacted && t.retention_ms < 0 && t.retention_bytes < 0) {
      out.push_back(finding("topic-unbounded-retention", "topic", t.name, "retention.ms=-1 and retention.bytes=-1",
                            "retention.ms=604800000 (or the time the data must be kept)"));
    }
  }
  for (const auto& t : topics) {
    if (internal_topic(t.name) && t.replication_factor < 3) {
      out.push_back(finding("cluster-internal-topic-replication", "cluster", t.name,
                            "replication factor " + std::to_string(t.replication_factor),
                            t.name == "__consumer_offsets" ? "offsets.topic.replication.factor=3"
                                                           : "transaction.state.log.replication.factor=3"));
    }
  }
  return out;
}

std::vector<Finding> audit_groups(const std::vector<GroupFacts>& groups) {
  std::vector<Finding> out;
  for (const auto& g : groups) {
    if (!g.consumer_protocol && !g.assignor.empty() && !cooperative(g.assignor)) {
      out.push_back(finding("consumer-cooperative", "group", g.group, "runs the eager " + g.assignor + " assignor",
                            "partition.assignment.strategy=cooperative-sticky on every member (Java: "
                            "CooperativeStickyAssignor alone)"));
    }
    for (const auto& m : g.members) {
      if (m.group_instance_id) continue;
      out.push_back(finding("consumer-static-membership", "group", g.group,
                            "member client.id=" + m.client_id + " from " + m.host + " has no group.instance.id",
                            "group.instance.id=<a stable name per instance, e.g. the pod name>"));
    }
  }
  return out;
}

std::vector<Finding> audit_cluster(const ClusterFacts& cluster) {
  std::vector<Finding> out;
  if (cluster.group_initial_rebalance_delay_ms == 0) {
    out.push_back(finding("cluster-initial-rebalance-delay", "cluster", "broker settings",
                          "group.initial.rebalance.delay.ms=0", "group.initial.rebalance.delay.ms=3000"));
  }
  return out;
}

}  // namespace fjord::observe
