// One group of the consumer group protocol (KIP-848, `group.protocol=consumer`): the broker decides who owns what.
// Members heartbeat with their subscription and the partitions they own; the group keeps
//   - the group epoch, bumped whenever what the assignment depends on changes (a member joins, leaves or changes
//     its subscription; a subscribed topic appears or grows);
//   - the target assignment, computed by a server-side assignor (consumer/assignors.h) at the group epoch;
//   - each member's current assignment and epoch, moved toward its target one heartbeat at a time
//     (consumer/reconciliation.h), so that no partition is ever owned by two members.
// A member that stops heartbeating for the session timeout, or keeps partitions it was asked to revoke past its
// rebalance timeout, is removed and its partitions go to the others. Static members (group.instance.id) leaving
// with epoch -2 keep their assignment for the session timeout, for their next incarnation to take over.
// After an online upgrade the group also holds members of the classic protocol (classic_members.cc), assigned
// and reconciled alongside the others, one JoinGroup at a time.
// Pure: no I/O, time passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/consumer_group/assignment.h"
#include "coordinator/consumer_group/reconciliation.h"
#include "coordinator/consumer_group/records.h"
#include "model/error_codes.h"

namespace fjord::coordinator::consumer {

struct ConsumerGroupSettings {
  int32_t session_timeout_ms = 45000;                         // group.consumer.session.timeout.ms
  int32_t heartbeat_interval_ms = 5000;                       // group.consumer.heartbeat.interval.ms
  std::vector<std::string> assignors = {"uniform", "range"};  // group.consumer.assignors: the first is the default
  int32_t max_size = INT32_MAX;                               // group.consumer.max.size
};

// The topics the cluster has now, for resolving subscriptions.
class TopicCatalog {
 public:
  virtual ~TopicCatalog() = default;
  virtual std::optional<TopicMetadata> by_name(const std::string& name) const = 0;
  virtual std::vector<TopicMetadata> all() const = 0;
  // Changes whenever a topic is created, deleted or grows: subscriptions are resolved again only then.
  virtual uint64_t version() const = 0;
};

struct HeartbeatRequest {
  std::string member_id;
  int32_t member_epoch = 0;  // 0 joins, -1 leaves, -2 leaves for now (a static member restarting)
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  int32_t rebalance_timeout_ms = -1;                               // -1: unchanged
  std::optional<std::vector<std::string>> subscribed_topic_names;  // nullopt: unchanged
  std::optional<std::string> subscribed_topic_regex;               // nullopt: unchanged
  std::optional<std::string> server_assignor;                      // nullopt: unchanged
  std::optional<Assignment> owned;                                 // nullopt: unchanged
  std::string client_id;
  std::string client_host;
};

struct HeartbeatResult {
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> error_message;
  std::string member_id;
  int32_t member_epoch = 0;
  int32_t heartbeat_interval_ms = 0;
  std::optional<Assignment> assignment;  // sent when it changed, or when the member needs it whole
};

// A member of the classic protocol joining the group (JoinGroup), its subscription already read from the
// "consumer" protocol metadata it sent. Such members share the group with consumer-protocol ones after an online
// upgrade: the broker's assignor assigns them too, and they reconcile one JoinGroup at a time.
struct ClassicJoinRequest {
  std::string member_id;        // never empty: the coordinator mints one first
  bool member_id_given = true;  // false when the member sent none (a static member's first join)
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  int32_t rebalance_timeout_ms = 0;
  ClassicMemberMetadata classic;
  std::vector<std::string> subscribed_topic_names;
  Assignment owned;  // what it says it owns (the subscription's owned partitions); eager members own nothing
  std::string client_id;
  std::string client_host;
};

struct ClassicJoinResult {
  ErrorCode error = ErrorCode::kNone;
  std::string error_message;
  std::string member_id;
  int32_t generation = -1;  // the member's epoch
  std::string protocol_name;
};

struct ClassicSyncResult {
  ErrorCode error = ErrorCode::kNone;
  std::string error_message;
  std::string protocol_name;
  Assignment assignment;
};

// A classic group's member as an online upgrade takes it in: what it joined with and what it was assigned.
struct AdoptedMember {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  ClassicMemberMetadata classic;
  std::vector<std::string> subscribed_topic_names;
  Assignment assigned;
};

struct ConsumerMember {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  std::vector<std::string> subscribed_topic_names;
  std::optional<std::string> subscribed_topic_regex;
  std::optional<std::string> server_assignor;
  MemberAssignment assignment;
  int64_t session_deadline_ms = 0;
  int64_t revocation_deadline_ms = 0;            // while partitions are pending revocation
  bool left_temporarily = false;                 // a static member that left with epoch -2 and may come back
  std::optional<ClassicMemberMetadata> classic;  // set while the member speaks the classic protocol
  // A classic member told to rejoin, or to sync after its join, must do so by then (0: nothing due).
  int64_t classic_deadline_ms = 0;
};

// The group's state as ConsumerGroupDescribe and ListGroups name it.
enum class ConsumerGroupState { kEmpty, kAssigning, kReconciling, kStable };
const char* consumer_group_state_name(ConsumerGroupState state);

// Evaluates subscribed_topic_regex against topic names (Kafka's RE2/J syntax, whole-name match).
using RegexMatcher = std::function<bool(const std::string& regex, const std::string& topic)>;

class ConsumerGroup {
 public:
  explicit ConsumerGroup(std::string group_id) : id_(std::move(group_id)) {}

  // `new_member_id` mints an id for a member that joins without one (ConsumerGroupHeartbeat v0).
  HeartbeatResult heartbeat(const HeartbeatRequest& request, const ConsumerGroupSettings& settings,
                            const TopicCatalog& topics, const RegexMatcher& regex, int64_t now_ms,
                            const std::function<std::string()>& new_member_id);
  // Removes members whose session ran out or who kept partitions past their rebalance timeout; returns them.
  std::vector<std::string> expire(int64_t now_ms);

  // The classic protocol's requests from classic members (after an online upgrade). A JoinGroup is answered at
  // once with the member's epoch as generation: it reconciles like a heartbeat, the partitions it reports owning
  // standing for what it reports; SyncGroup then hands it what it holds; its Heartbeat answers
  // REBALANCE_IN_PROGRESS when it should join again (the group moved on, it has partitions to give up, or the
  // partitions it waited for are free).
  ClassicJoinResult classic_join(const ClassicJoinRequest& request, const ConsumerGroupSettings& settings,
                                 const TopicCatalog& topics, const RegexMatcher& regex, int64_t now_ms);
  ClassicSyncResult classic_sync(const std::string& member_id, const std::optional<std::string>& instance_id,
                                 int32_t generation, const std::optional<std::string>& protocol_name, int64_t now_ms);
  ErrorCode classic_heartbeat(const std::string& member_id, const std::optional<std::string>& instance_id,
                              int32_t generation, int64_t now_ms);
  // LeaveGroup of one member, named by id or (static) by instance id.
  ErrorCode classic_leave(const std::string& member_id, const std::optional<std::string>& instance_id);
  // An online upgrade: the classic group's members at its generation, which becomes the group and target epoch,
  // each keeping what it was assigned.
  void adopt_classic_members(int32_t generation, std::vector<AdoptedMember> members, const TopicCatalog& topics,
                             const RegexMatcher& regex, int64_t now_ms);
  // Whether any member speaks the consumer protocol, and whether every member speaks the classic one (a
  // downgrade is due when the last consumer-protocol member went and classic ones remain).
  bool has_consumer_members() const;
  bool all_classic() const;
  // The records for what changed since the last call, in the order Kafka writes them: the records of members
  // who left, member metadata, the group epoch, targets and the target epoch, current assignments. The
  // coordinator writes them after each heartbeat (or expiry) and answers once they are durable; a heartbeat that
  // changed none of them writes nothing.
  std::vector<ConsumerGroupRecord> take_changes();
  // Tombstones for every record the group has written (deleting the group, or its offsets expiring); whatever
  // the group holds afterwards is written again whole by the next take_changes().
  std::vector<ConsumerGroupRecord> take_tombstones();
  // Records taken were not written (the append failed): the next take_changes() writes the whole group again,
  // with tombstones for members gone meanwhile, so the log catches up with what the group holds.
  void forget_written(const std::vector<ConsumerGroupRecord>& unwritten);
  // Rebuilding the group from its records read back on load: replay() each in log order, then restore() once.
  // Restored members get a full session to heartbeat again. Subscriptions are resolved against the topics as
  // they are now: if the restored target no longer covers exactly their partitions (a topic was created, grew
  // or went while the group was not coordinated), the next heartbeat moves the group to a new epoch; otherwise
  // the group carries on at its epoch. restore() returns false when the records left nothing (the group was
  // deleted).
  void replay(const ConsumerGroupRecord& record);
  bool restore(int64_t now_ms, const ConsumerGroupSettings& settings, const TopicCatalog& topics,
               const RegexMatcher& regex);

  // OffsetFetch from a member: NONE when `member_epoch` is the member's current one.
  ErrorCode check_member_epoch(const std::string& member_id, int32_t member_epoch) const;
  // OffsetCommit from a member, as Kafka checks it since KIP-1251: at the member's current epoch it may commit
  // anything; at an older one (its heartbeat moved it on, and the answer had not reached it when it sent the
  // commit) only partitions it still holds and has held since that epoch; never at a newer one. Otherwise
  // STALE_MEMBER_EPOCH, for the whole commit.
  ErrorCode check_commit_epoch(const std::string& member_id, int32_t member_epoch,
                               const std::vector<std::pair<TopicId, int32_t>>& partitions) const;

  const std::string& id() const { return id_; }
  int32_t group_epoch() const { return group_epoch_; }
  int32_t assignment_epoch() const { return assignment_epoch_; }
  ConsumerGroupState state() const;
  const std::map<std::string, ConsumerMember>& members() const { return members_; }
  const Assignment& target_of(const std::string& member_id) const;
  // The assignor the group runs with: the one most of its members ask for, else the broker's default.
  std::string assignor(const ConsumerGroupSettings& settings) const;
  // Topic names the group subscribes to (for OffsetDelete and lag): every member's names and regex matches.
  const std::map<TopicId, TopicMetadata, TopicIdLess>& subscribed_topics() const { return subscribed_; }
  bool empty() const { return members_.empty(); }

 private:
  HeartbeatResult join(const HeartbeatRequest& request, const ConsumerGroupSettings& settings, int64_t now_ms,
                       const std::function<std::string()>& new_member_id, ConsumerMember*& member);
  void remove_member(const std::string& member_id);
  // A static member's new incarnation: everything the old id held moves to the new one.
  void rename_member(const std::string& from, const std::string& to);
  // Re-resolves subscriptions; bumps the group epoch when the topics they name changed.
  void refresh_subscriptions(const TopicCatalog& topics, const RegexMatcher& regex);
  // Recomputes the target assignment when the group epoch moved past it.
  void update_target(const ConsumerGroupSettings& settings);
  void set_assignment(ConsumerMember& member, MemberAssignment next);
  // Reconciles a member toward its target with what it reported owning; true when its assignment changed.
  bool reconcile_member(ConsumerMember& member, const std::optional<Assignment>& reported, int64_t now_ms);
  // The classic member a SyncGroup, Heartbeat or LeaveGroup names, or why there is none.
  ErrorCode find_classic(const std::string& member_id, const std::optional<std::string>& instance_id,
                         ConsumerMember*& member, std::string& message);

  std::string id_;
  int32_t group_epoch_ = 0;
  int32_t assignment_epoch_ = 0;
  std::map<std::string, ConsumerMember> members_;
  std::map<std::string, std::string> static_members_;  // instance id -> member id
  std::map<std::string, Assignment> target_;           // member id -> target assignment
  // Who holds each partition now (assigned, or not yet revoked): member id.
  std::map<TopicId, std::map<int32_t, std::string>, TopicIdLess> holders_;
  std::map<TopicId, TopicMetadata, TopicIdLess> subscribed_;
  // Each member's subscription resolved to topic ids (names that exist, and regex matches).
  std::map<std::string, std::set<TopicId, TopicIdLess>> resolved_;
  uint64_t catalog_version_ = 0;
  bool subscriptions_changed_ = true;
  bool epoch_bump_due_ = false;  // set by what changes the assignment's inputs; applied once per heartbeat

  // What the records written so far say (take_changes compares against it), and what may differ from it.
  struct Written {
    std::optional<int32_t> group_epoch;
    std::optional<int32_t> target_epoch;
    std::map<std::string, MemberMetadata> members;
    std::map<std::string, Assignment> targets;
    std::map<std::string, MemberAssignment> current;
  };
  Written written_;
  std::set<std::string> dirty_;  // member ids
  bool targets_dirty_ = false;   // the target was recomputed: every member's share may differ
};

}  // namespace fjord::coordinator::consumer
