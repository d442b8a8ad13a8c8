// The production checklist, as rules over what the broker knows: how clients behave (server/client_activity.h)
// and how topics and the cluster are configured. Each finding names its rule, the reason in one line, the client
// or topic, what was seen, and the fix (the exact setting). Pure: facts in, findings out.
//
// Rules (ids are stable: the fjord_checklist_violations metric and /api/audit use them):
//   producer-acks-all           a producer wrote with acks=0 or acks=1
//   producer-idempotence        a producer's batches carried no producer id
//   consumer-cooperative        a consumer offered an eager assignment strategy (range, roundrobin, sticky)
//   consumer-static-membership  a consumer joined without group.instance.id
//   consumer-commit-after-processing  a consumer's commits come on a timer: the auto-commit signature
//   topic-replication-factor    a topic with fewer than 3 replicas
//   topic-min-insync-replicas   min.insync.replicas below 2, or not below the replication factor
//   topic-unclean-leader-election  unclean.leader.election.enable=true
//   topic-unbounded-retention   neither time nor size retention on a topic that is not compacted
//   cluster-internal-topic-replication  __consumer_offsets or __transaction_state with fewer than 3 replicas
//   cluster-initial-rebalance-delay      group.initial.rebalance.delay.ms=0 (a development value)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/client_activity.h"

namespace fjord::observe {

struct Finding {
  std::string rule;
  std::string reason;
  std::string subject_kind;  // client, topic or cluster
  std::string subject;
  std::string detail;  // what was seen
  std::string fix;
};

struct TopicFacts {
  std::string name;
  int replication_factor = 1;
  int min_insync_replicas = 1;
  bool unclean_leader_election = false;
  int64_t retention_ms = -1;
  int64_t retention_bytes = -1;
  bool compacted = false;
};

// A consumer group as any cluster's Admin API describes it (for `fjord audit` against a cluster whose broker did
// not watch its clients): the assignor the group chose and its members.
struct GroupFacts {
  struct Member {
    std::string client_id, host;
    std::optional<std::string> group_instance_id;
  };
  std::string group;
  std::string assignor;  // the partition assignor the group runs with ("" for a group without members)
  std::vector<Member> members;
  // A group of the consumer protocol (KIP-848): the broker assigns, and every rebalance is incremental whichever
  // assignor it runs.
  bool consumer_protocol = false;
};

struct ClusterFacts {
  int64_t group_initial_rebalance_delay_ms = 3000;
};

// Every rule, in the order above, with its reason: for listing the checklist and zeroing the metric.
struct Rule {
  std::string id, reason;
};
const std::vector<Rule>& checklist_rules();

// How a consumer commits, read from when its commits came (the broker sees nothing else that tells them apart: an
// auto-commit and a commit the application makes carry the same fields, and what the application has processed is
// invisible to it). Auto-commit is a timer: commits come a fixed period apart, or a whole number of periods when
// the timer found nothing new to commit. Commits after processing follow the work: as often as batches finish,
// at intervals that vary with it. Periods under 0.8 s are not taken for a timer (auto.commit.interval.ms is 5 s by
// default); an application that commits on its own fixed timer, or whose batches take exactly the same time,
// looks like auto-commit.
enum class CommitPattern { kUnknown, kPeriodic, kAfterProcessing };
struct CommitRhythm {
  CommitPattern pattern = CommitPattern::kUnknown;
  int64_t period_ms = 0;  // for kPeriodic
  size_t intervals = 0;   // how many intervals the call rests on
};
// Needs at least kMinCommitIntervals intervals between the times given (oldest first); fewer are kUnknown.
inline constexpr size_t kMinCommitIntervals = 4;
CommitRhythm classify_commits(const std::vector<int64_t>& commit_times_ms);
const char* commit_pattern_name(CommitPattern pattern);

// "client.id=X (software version) from /host".
std::string describe_client(const server::ClientIdentity& client);

std::vector<Finding> audit_clients(const std::map<server::ClientIdentity, server::ClientUse>& clients);
std::vector<Finding> audit_topics(const std::vector<TopicFacts>& topics);
std::vector<Finding> audit_cluster(const ClusterFacts& cluster);
// The consumer rules as a group shows them: an eager assignor chosen (the members offered nothing better), and
// members without group.instance.id.
std::vector<Finding> audit_groups(const std::vector<GroupFacts>& groups);

}  // namespace fjord::observe
