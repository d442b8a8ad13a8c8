// The group coordinator: Kafka's classic consumer-group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup)
// as a state machine per group, and the committed offsets. The broker relays what clients send: the members'
// assignors run in the clients (eager or cooperative), the coordinator only picks a protocol all members
// support, a leader, and a generation, and hands the leader's assignment out.
//
// Everything it must remember is written as records to the internal __consumer_offsets topic (StateLog) before
// it is acknowledged, and replayed at start. It lives on one event loop; time and timers are injected.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "coordinator/consumer_group/consumer_group.h"
#include "coordinator/consumer_group/topic_regex.h"
#include "coordinator/consumer_protocol.h"
#include "coordinator/group.h"
#include "coordinator/state_log.h"
#include "model/clock.h"
#include "model/executor.h"

namespace fjord::coordinator {

struct GroupSettings {
  int64_t initial_rebalance_delay_ms = 3000;          // group.initial.rebalance.delay.ms
  int32_t min_session_timeout_ms = 6000;              // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;           // group.max.session.timeout.ms
  int64_t offsets_retention_ms = 7LL * 24 * 3600000;  // offsets.retention.minutes
  int32_t max_metadata_bytes = 4096;                  // offset.metadata.max.bytes
  int32_t max_group_size = INT32_MAX;                 // group.max.size
  int64_t sweep_interval_ms = 100;                    // how often sessions are checked for expiry
  int64_t retention_check_interval_ms = 600000;       // offsets.retention.check.interval.ms
  consumer::ConsumerGroupSettings consumer;           // group.consumer.*
  // group.consumer.migration.policy: whether a classic group with members becomes a consumer-protocol group when
  // a member of that protocol joins, and back when the last such member leaves.
  bool online_upgrade = true;
  bool online_downgrade = true;
};

struct JoinRequest {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<std::pair<std::string, protocol::Bytes>> protocols;
  bool member_id_required = false;        // JoinGroup v4+: a new member first learns its id (KIP-394)
  bool supports_skip_assignment = false;  // JoinGroup v9+
};

struct SyncRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, protocol::Bytes>> assignments;
};

struct LeavingMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct CommitRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<PartitionOffset> offsets;
};

struct FetchedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  ErrorCode error = ErrorCode::kNone;
  int64_t commit_timestamp_ms = -1;  // when the coordinator took the commit (a commit of the same offset too)
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  std::string state;               // as ListGroups names it: a classic state, or a consumer group's
  std::string group_type;          // "classic" or "consumer"
  uint64_t offsets_committed = 0;  // partition offsets committed since the group was loaded here (commit rate)
  size_t members = 0;
  uint64_t rebalances = 0;  // rebalances completed since the group was loaded here
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  protocol::Bytes metadata;
  protocol::Bytes assignment;
};

struct GroupDescription {
  ErrorCode error = ErrorCode::kNone;
  std::string group_id;
  GroupState state = GroupState::kDead;
  std::string state_name = "Dead";  // as DescribeGroups names it (a consumer-protocol group's own state names)
  std::string protocol_type;
  std::string protocol_name;
  std::vector<MemberDescription> members;
};

class GroupCoordinator {
 public:
  GroupCoordinator(StateLog& log, const Clock& clock, Scheduler& scheduler, GroupSettings settings);
  ~GroupCoordinator();

  // A single node: loads every partition of __consumer_offsets and coordinates every group. Call once before
  // serving.
  void load();
  // A cluster: coordinates the groups of the __consumer_offsets partitions this broker leads, each loaded when
  // it takes the lead (load_partition) and dropped when it loses it (unload_partition). Call once before serving.
  void serve_led_partitions();
  // Reads the partition back off the loop, chunk by chunk; its groups answer COORDINATOR_LOAD_IN_PROGRESS
  // meanwhile (clients retry), and a load overtaken by an unload or a newer load is dropped.
  void load_partition(int32_t partition);
  void unload_partition(int32_t partition);
  // NOT_COORDINATOR when another broker coordinates `group_id` (clients then look it up again),
  // COORDINATOR_LOAD_IN_PROGRESS while its partition is being read back, else NONE.
  ErrorCode coordinator_error(const std::string& group_id) const;
  size_t partitions_loading() const { return loading_.size(); }
  // The __consumer_offsets partition that holds `group_id`'s state.
  int32_t partition_for(const std::string& group_id) const;
  // Creates the internal topic when it is missing; false until it exists.
  bool ensure_partitions() { return log_.ensure_partitions(); }
  const GroupSettings& settings() const { return settings_; }
  void set_settings(GroupSettings settings) { settings_ = settings; }

  void join(JoinRequest request, JoinCallback done);
  void sync(SyncRequest request, SyncCallback done);
  ErrorCode heartbeat(const std::string& group_id, int32_t generation, const std::string& member_id,
                      const std::optional<std::string>& group_instance_id);
  // One error per leaving member, plus one for the request (a group that does not exist).
  std::pair<ErrorCode, std::vector<ErrorCode>> leave(const std::string& group_id,
                                                     const std::vector<LeavingMember>& members);

  // One error per offset, in request order, once the commit is durable (or refused).
  void commit(CommitRequest request, std::function<void(std::vector<ErrorCode>)> done);
  // TxnOffsetCommit: the offsets are written in the producer's transaction and count once its marker commits
  // them (complete_transaction). Members of a generation are checked as for commit(); generation -1 skips that.
  void commit_transactional(CommitRequest request, int64_t producer_id, int16_t producer_epoch,
                            std::function<void(std::vector<ErrorCode>)> done);
  // A transaction marker was written to `partition` of __consumer_offsets: what `producer_id` committed there in
  // its transaction applies (commit) or goes (abort).
  void complete_transaction(int32_t partition, int64_t producer_id, bool commit);
  // `partitions` empty-optional: every offset the group has. With `require_stable`, a partition whose offset a
  // transaction is about to change answers UNSTABLE_OFFSET_COMMIT (clients retry) rather than the old offset.
  std::vector<FetchedOffset> fetch(const std::string& group_id,
                                   const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions,
                                   bool require_stable = false) const;
  // Removes committed offsets of an empty group (or of topics an active group is not subscribed to).
  void delete_offsets(const std::string& group_id, const std::vector<std::pair<std::string, int32_t>>& partitions,
                      std::function<void(ErrorCode, std::vector<ErrorCode>)> done);

  // ConsumerGroupHeartbeat (KIP-848): `done` gets the member's answer. The topics subscriptions resolve against
  // come from set_topic_catalog().
  void consumer_heartbeat(const std::string& group_id, consumer::HeartbeatRequest request,
                          std::function<void(consumer::HeartbeatResult)> done);
  void set_topic_catalog(const consumer::TopicCatalog* catalog) { catalog_ = catalog; }
  // OffsetFetch v9 from a member: NONE when the group is not a consumer-protocol group, or `member_epoch` is the
  // member's current epoch; UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH otherwise.
  ErrorCode check_consumer_member(const std::string& group_id, const std::string& member_id,
                                  int32_t member_epoch) const;
  // A group of the consumer protocol (nullptr for a classic one, or none); `error` says why there is none.
  const consumer::ConsumerGroup* consumer_group(const std::string& group_id, ErrorCode* error = nullptr) const;

  std::vector<GroupListing> list() const;
  GroupDescription describe(const std::string& group_id) const;
  // Deletes empty groups with their offsets; one error per group.
  void delete_groups(const std::vector<std::string>& group_ids, std::function<void(std::vector<ErrorCode>)> done);

  size_t group_count() const { return groups_.size(); }

 private:
  // The group, created Empty when it does not exist yet (a first join, a commit without membership, a replay).
  Group& find_or_create(const std::string& group_id);
  Group* find(const std::string& group_id);
  const Group* find(const std::string& group_id) const;

  void join_new_member(Group& group, JoinRequest request, JoinCallback done);
  void join_known_member(Group& group, Member& member, JoinRequest request, JoinCallback done);
  void join_static_member(Group& group, JoinRequest request, JoinCallback done);
  Member& add_member(Group& group, const JoinRequest& request, std::string member_id, JoinCallback done);
  void remove_member(Group& group, const std::string& member_id);
  void update_member(Member& member, const JoinRequest& request, JoinCallback done);
  JoinResult current_join_result(const Group& group, const Member& member) const;

  void prepare_rebalance(Group& group, const std::string& reason);
  void maybe_prepare_rebalance(Group& group, const std::string& reason);
  void schedule_join_deadline(Group& group);
  void schedule_initial_delay(const std::string& group_id, int64_t delay_ms, int64_t remaining_ms);
  void try_complete_join(Group& group);
  void complete_join(Group& group);
  std::optional<std::string> select_protocol(const Group& group) const;
  bool supports_protocols(const Group& group, const JoinRequest& request) const;
  void reset_and_propagate_sync_error(Group& group, ErrorCode error);
  void finish_sync(Group& group, const std::map<std::string, protocol::Bytes>& assignments);
  void set_state(Group& group, GroupState state);

  StoredGroup stored(const Group& group) const;
  // Applies (commit) or drops (abort) the offsets `producer_id` committed in its transaction in `partition`.
  void end_transaction_offsets(int32_t partition, int64_t producer_id, bool commit);
  void store_group(Group& group, std::function<void(ErrorCode)> done);
  void apply(const StateLog::Entry& entry, int32_t partition);
  // Checks a commit's group and member; NONE when it may be written.
  ErrorCode check_commit(const CommitRequest& request, Group*& group, bool transactional);

  void sweep();
  void expire_consumer_members(Group& group, int64_t now_ms);

  // Online migration between the protocols (group_migration.cc). A consumer-protocol member joining a classic
  // group with members takes the group over (upgrade): its members become classic members of the new group at
  // the generation they had. Empty when it did; else why not (GROUP_ID_NOT_FOUND, as Kafka refuses).
  std::optional<std::string> upgrade_to_consumer_group(Group& group, std::vector<StateLog::Entry>& written_first);
  // After the last consumer-protocol member went: the classic members left become a classic group again (when
  // the policy allows), which rebalances at once. True when it did, and then writes it (`written` once durable);
  // otherwise the caller writes the group's changes.
  bool maybe_downgrade_to_classic(Group& group, bool had_consumer_members, int32_t epoch_before_leave,
                                  std::function<void(ErrorCode)> written);
  // JoinGroup, SyncGroup, Heartbeat and LeaveGroup of classic members in a consumer-protocol group.
  void join_consumer_group(Group& group, JoinRequest request, JoinCallback done);
  void sync_consumer_group(Group& group, const SyncRequest& request, SyncCallback done);
  std::vector<ErrorCode> leave_consumer_group(Group& group, const std::vector<LeavingMember>& members);
  // An assignment by topic id named (topics the group subscribes to), and one by name by id (topics that exist).
  NamedAssignment named(const consumer::ConsumerGroup& group, const consumer::Assignment& assignment) const;
  consumer::Assignment by_id(const NamedAssignment& assignment) const;
  // What consumer-protocol subscriptions resolve against: the cluster's topics (none before a catalog is set).
  const consumer::TopicCatalog& topic_catalog() const;
  consumer::RegexMatcher topic_matcher();
  // Appends a consumer-protocol group's records; `done` once they are durable (or failed).
  // `written_first` go ahead of them in the same batch (a conversion's tombstones of the other protocol's group).
  void write_consumer_changes(const std::string& group_id, std::vector<consumer::ConsumerGroupRecord> changes,
                              std::function<void(ErrorCode)> done, std::vector<StateLog::Entry> written_first = {});
  GroupDescription describe_consumer_group(const Group& group) const;
  void expire_offsets();
  void schedule_sweep();
  void schedule_retention();

  void start_timers();
  void fail_waiting_members(Group& group, ErrorCode error);

  StateLog& log_;
  const Clock& clock_;
  bool serves_all_ = true;
  std::set<int32_t> loaded_partitions_;
  // Partitions being read back, each with the number of its load (a later load or an unload supersedes it).
  std::map<int32_t, uint64_t> loading_;
  // Transactions ended (producer id, committed) in a partition while it was being read back.
  std::map<int32_t, std::vector<std::pair<int64_t, bool>>> completed_while_loading_;
  uint64_t loads_started_ = 0;
  Scheduler& scheduler_;
  GroupSettings settings_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  std::unique_ptr<TimerHandle> sweep_timer_;
  std::unique_ptr<TimerHandle> retention_timer_;
  uint64_t member_counter_ = 0;
  const consumer::TopicCatalog* catalog_ = nullptr;
  consumer::TopicRegex topic_regex_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::coordinator
