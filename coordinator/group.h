// One consumer group as the coordinator holds it: its state in the classic rebalance protocol, its members and
// their callbacks waiting for a rebalance step, and its committed offsets.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "coordinator/consumer_group/consumer_group.h"
#include "coordinator/offsets_records.h"
#include "model/error_codes.h"
#include "model/executor.h"
#include "protocol/codec_runtime.h"

namespace fjord::coordinator {

// Kafka's classic group states, by their names in DescribeGroups and ListGroups.
enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
const char* state_name(GroupState state);

// Kafka's member ids for the classic protocol: the client id (or the static instance id) and a random suffix,
// unique within the group.
std::string new_member_id(const std::string& prefix);

struct JoinedMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  protocol::Bytes metadata;
};

struct JoinResult {
  ErrorCode error = ErrorCode::kNone;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<JoinedMember> members;  // only for the leader
};

struct SyncResult {
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  protocol::Bytes assignment;
};

using JoinCallback = std::function<void(JoinResult)>;
using SyncCallback = std::function<void(SyncResult)>;

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<std::pair<std::string, protocol::Bytes>> protocols;  // in the member's order of preference
  protocol::Bytes assignment;
  JoinCallback awaiting_join;
  SyncCallback awaiting_sync;
  int64_t last_heartbeat_ms = 0;  // monotonic
  bool is_new = false;            // joined during the current rebalance and has not yet been given a generation
  bool supports_skip_assignment = false;

  const protocol::Bytes* metadata_for(const std::string& protocol) const;
};

struct Group {
  explicit Group(std::string group_id) : id(std::move(group_id)) {}

  std::string id;
  GroupState state = GroupState::kEmpty;
  int32_t generation = 0;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::optional<std::string> leader;
  std::vector<std::string> join_order;  // member ids, oldest first: the leader is the oldest remaining member
  std::map<std::string, Member> members;
  std::map<std::string, std::string> static_members;  // group.instance.id -> member id
  std::map<std::string, int64_t> pending_members;     // ids handed out with MEMBER_ID_REQUIRED -> deadline
  std::map<std::pair<std::string, int32_t>, CommittedOffset> offsets;
  uint64_t offsets_committed = 0;  // partition offsets committed while this broker coordinates the group
  uint64_t rebalances = 0;         // rebalances completed while this broker coordinates the group
  // Offsets committed in a producer's transaction (TxnOffsetCommit), by producer id: they replace `offsets`
  // when its marker commits them, and go when it aborts.
  std::map<int64_t, std::map<std::pair<std::string, int32_t>, CommittedOffset>> transactional_offsets;
  std::unique_ptr<TimerHandle> join_timer;
  bool initial_delay_running = false;
  int64_t rebalance_started_ms = 0;  // monotonic
  int64_t state_timestamp_ms = 0;    // wall clock, when the group last changed state

  // Set while the group runs the consumer protocol (KIP-848): its members, epochs and assignments live there,
  // and the classic state above stays Empty.
  std::unique_ptr<consumer::ConsumerGroup> consumer;

  bool has_members() const { return !members.empty() || (consumer && !consumer->empty()); }
  Member* find(const std::string& member_id);
};

}  // namespace fjord::coordinator
