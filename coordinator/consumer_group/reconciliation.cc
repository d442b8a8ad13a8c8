#include "coordinator/consumer_group/reconciliation.h"

namespace fjord::coordinator::consumer {
namespace {

// From what the member holds now toward the target: keep what both have, revoke what only the member has, and
// add what only the target has unless another member still holds it.
MemberAssignment next_step(const MemberAssignment& current, int32_t target_epoch, const Assignment& target,
                           const HeldByOther& held_by_other) {
  Assignment keep, revoke, add;
  bool withheld = false;
  for (const auto& [topic, partitions] : current.assigned) {
    for (int32_t p : partitions) (contains(target, topic, p) ? keep : revoke)[topic].insert(p);
  }
  for (const auto& [topic, partitions] : target) {
    for (int32_t p : partitions) {
      if (contains(current.assigned, topic, p)) continue;
      if (held_by_other(topic, p)) {
        withheld = true;
      } else {
        add[topic].insert(p);
      }
    }
  }
  MemberAssignment next;
  auto carry_epochs = [&](const Assignment& partitions) {
    for (const auto& [topic, ps] : partitions) {
      for (int32_t p : ps) next.assigned_at[topic][p] = assignment_epoch_of(current, topic, p);
    }
  };
  carry_epochs(keep);
  carry_epochs(revoke);
  if (!revoke.empty()) {
    // The epoch stays: the member reaches the new one only once it has given up what it must.
    next.epoch = current.epoch;
    next.previous_epoch = current.previous_epoch;
    next.state = MemberState::kUnrevokedPartitions;
    next.assigned = std::move(keep);
    next.pending_revocation = std::move(revoke);
    return next;
  }
  next.epoch = target_epoch;
  next.previous_epoch = current.epoch == target_epoch ? current.previous_epoch : current.epoch;
  next.state = withheld ? MemberState::kUnreleasedPartitions : MemberState::kStable;
  next.assigned = std::move(keep);
  for (auto& [topic, partitions] : add) {
    next.assigned[topic].insert(partitions.begin(), partitions.end());
    for (int32_t p : partitions) next.assigned_at[topic][p] = target_epoch;
  }
  return next;
}

bool still_owns_any(const Assignment& reported, const Assignment& revoking) {
  for (const auto& [topic, partitions] : revoking) {
    for (int32_t p : partitions) {
      if (contains(reported, topic, p)) return true;
    }
  }
  return false;
}

}  // namespace

int32_t assignment_epoch_of(const MemberAssignment& member, const TopicId& topic, int32_t partition) {
  if (auto t = member.assigned_at.find(topic); t != member.assigned_at.end()) {
    if (auto p = t->second.find(partition); p != t->second.end()) return p->second;
  }
  return member.epoch;
}

const char* member_state_name(MemberState state) {
  switch (state) {
    case MemberState::kStable:
      return "STABLE";
    case MemberState::kUnrevokedPartitions:
      return "UNREVOKED_PARTITIONS";
    case MemberState::kUnreleasedPartitions:
      return "UNRELEASED_PARTITIONS";
  }
  return "UNKNOWN";
}

MemberAssignment reconcile(const MemberAssignment& current, int32_t target_epoch, const Assignment& target,
                           const std::optional<Assignment>& reported, const HeldByOther& held_by_other) {
  switch (current.state) {
    case MemberState::kUnrevokedPartitions:
      // Until the member reports it has let go of every partition it was asked to, nothing else changes.
      if (!reported || still_owns_any(*reported, current.pending_revocation)) return current;
      return next_step(
          MemberAssignment{
              current.epoch, current.previous_epoch, MemberState::kStable, current.assigned, {}, current.assigned_at},
          target_epoch, target, held_by_other);
    case MemberState::kUnreleasedPartitions:
    case MemberState::kStable:
      if (current.state == MemberState::kStable && current.epoch == target_epoch) return current;
      return next_step(current, target_epoch, target, held_by_other);
  }
  return current;
}

}  // namespace fjord::coordinator::consumer
