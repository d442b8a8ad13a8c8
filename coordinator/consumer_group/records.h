// What a consumer-protocol group must remember across a coordinator restart or move, as the records Kafka keeps
// for such groups in __consumer_offsets (their bytes: coordinator/consumer_group_records.h, coordinator/FORMAT.md).
// The group emits them as it changes (ConsumerGroup::take_changes) and is rebuilt from them on load
// (ConsumerGroup::replay). An empty optional is a tombstone: that record is gone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "coordinator/consumer_group/assignment.h"
#include "coordinator/consumer_group/reconciliation.h"

namespace fjord::coordinator::consumer {

// A member that speaks the classic protocol (JoinGroup, SyncGroup, Heartbeat) inside a consumer-protocol group,
// as after an online upgrade: the session it asked for and the protocols it offered, kept so that the group can
// become classic again (a downgrade) with each member as it joined.
struct ClassicProtocol {
  std::string name;
  std::vector<uint8_t> metadata;
  bool operator==(const ClassicProtocol&) const = default;
};
struct ClassicMemberMetadata {
  int32_t session_timeout_ms = 0;
  std::vector<ClassicProtocol> protocols;  // in the member's order of preference
  bool operator==(const ClassicMemberMetadata&) const = default;
};

// A member as it joined: who it is and what it subscribes to.
struct MemberMetadata {
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::string client_id;
  std::string client_host;
  std::vector<std::string> subscribed_topic_names;  // sorted
  std::optional<std::string> subscribed_topic_regex;
  int32_t rebalance_timeout_ms = -1;
  std::optional<std::string> server_assignor;
  std::optional<ClassicMemberMetadata> classic;  // set for a member of the classic protocol
  bool operator==(const MemberMetadata&) const = default;
};

// The group epoch.
struct GroupEpochRecord {
  std::optional<int32_t> epoch;
  bool operator==(const GroupEpochRecord&) const = default;
};
struct MemberRecord {
  std::string member_id;
  std::optional<MemberMetadata> metadata;
  bool operator==(const MemberRecord&) const = default;
};
// One member's share of the target assignment.
struct TargetMemberRecord {
  std::string member_id;
  std::optional<Assignment> target;
  bool operator==(const TargetMemberRecord&) const = default;
};
// The group epoch the target assignment was computed at.
struct TargetEpochRecord {
  std::optional<int32_t> epoch;
  bool operator==(const TargetEpochRecord&) const = default;
};
// What a member owns now, its epochs and its state. A static member that left for now (epoch -2 in its
// heartbeat) is written with epoch -2, as Kafka writes it.
struct CurrentAssignmentRecord {
  std::string member_id;
  std::optional<MemberAssignment> assignment;
  bool operator==(const CurrentAssignmentRecord&) const = default;
};

using ConsumerGroupRecord =
    std::variant<GroupEpochRecord, MemberRecord, TargetMemberRecord, TargetEpochRecord, CurrentAssignmentRecord>;

// The epoch a current-assignment record carries for a static member that left for now.
inline constexpr int32_t kLeftTemporarilyEpoch = -2;

}  // namespace fjord::coordinator::consumer
