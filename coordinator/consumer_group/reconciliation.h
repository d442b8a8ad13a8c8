// How one member moves toward its target assignment in the consumer group protocol (KIP-848), one heartbeat at a
// time, without any partition ever owned by two members:
//   - partitions the target takes away are revoked first: the member keeps its epoch and is told to give them up
//     (UNREVOKED_PARTITIONS) until a heartbeat reports it no longer owns them;
//   - partitions the target adds that another member still holds are withheld (UNRELEASED_PARTITIONS) until that
//     member has revoked them; the rest are assigned at once;
//   - once nothing is pending either way, the member is STABLE at the target's epoch.
// Pure: the member's state, its target and what it reports in, its next state out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "coordinator/consumer_group/assignment.h"

namespace fjord::coordinator::consumer {

// The member states, by the names ConsumerGroupDescribe and `fjord group describe` show.
enum class MemberState { kStable, kUnrevokedPartitions, kUnreleasedPartitions };
const char* member_state_name(MemberState state);

struct MemberAssignment {
  int32_t epoch = 0;
  int32_t previous_epoch = -1;
  MemberState state = MemberState::kStable;
  Assignment assigned;            // what the member owns and may consume
  Assignment pending_revocation;  // what it must give up before it gets anything more
  // For every partition in `assigned` and `pending_revocation`: the epoch at which the member got it, kept for as
  // long as the member holds it. A commit sent at an older member epoch (the member had not yet heard of its new
  // one) is still the member's to make for partitions it has held since that epoch (KIP-1251).
  PartitionEpochs assigned_at;
  bool operator==(const MemberAssignment&) const = default;
};

// The epoch at which the member got a partition it holds; its current epoch when none was recorded.
int32_t assignment_epoch_of(const MemberAssignment& member, const TopicId& topic, int32_t partition);

// Whether a partition is still held (assigned or pending revocation) by a member other than this one.
using HeldByOther = std::function<bool(const TopicId&, int32_t)>;

// The member's next state. `reported`: the partitions the member said it owns in this heartbeat (nullopt when it
// did not say, as a heartbeat that changes nothing may).
MemberAssignment reconcile(const MemberAssignment& current, int32_t target_epoch, const Assignment& target,
                           const std::optional<Assignment>& reported, const HeldByOther& held_by_other);

}  // namespace fjord::coordinator::consumer
