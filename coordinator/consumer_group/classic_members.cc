// Members of the classic protocol in a consumer-protocol group (after an online upgrade, coordinator/
// group_migration.cc): their JoinGroup reconciles them like a heartbeat, with the partitions their subscription
// says they own; SyncGroup hands them what they hold; Heartbeat tells them when to join again.
#include <algorithm>

#include "coordinator/consumer_group/consumer_group.h"

namespace fjord::coordinator::consumer {

namespace {

ClassicJoinResult join_refused(ErrorCode error, std::string message) {
  ClassicJoinResult out;
  out.error = error;
  out.error_message = std::move(message);
  return out;
}

}  // namespace

bool ConsumerGroup::has_consumer_members() const {
  return std::any_of(members_.begin(), members_.end(), [](const auto& entry) { return !entry.second.classic; });
}

bool ConsumerGroup::all_classic() const { return !members_.empty() && !has_consumer_members(); }

ClassicJoinResult ConsumerGroup::classic_join(const ClassicJoinRequest& request, const ConsumerGroupSettings& settings,
                                              const TopicCatalog& topics, const RegexMatcher& regex, int64_t now_ms) {
  if (request.classic.protocols.empty()) {
    return join_refused(ErrorCode::kInconsistentGroupProtocol, "the member offers no protocol");
  }
  // One of its protocols must be one every other classic member offers too: after a downgrade the group runs
  // one protocol for all of them.
  const bool supported = std::any_of(
      request.classic.protocols.begin(), request.classic.protocols.end(), [&](const ClassicProtocol& offered) {
        return std::all_of(members_.begin(), members_.end(), [&](const auto& entry) {
          const ConsumerMember& other = entry.second;
          if (!other.classic || entry.first == request.member_id) return true;
          return std::any_of(other.classic->protocols.begin(), other.classic->protocols.end(),
                             [&](const ClassicProtocol& p) { return p.name == offered.name; });
        });
      });
  if (!supported) {
    return join_refused(ErrorCode::kInconsistentGroupProtocol,
                        "Member " + request.member_id + "'s protocols are not supported.");
  }
  ConsumerMember* member = nullptr;
  if (request.instance_id) {
    auto known = static_members_.find(*request.instance_id);
    if (request.member_id_given) {
      if (known == static_members_.end()) {
        return join_refused(ErrorCode::kUnknownMemberId, "Instance id " + *request.instance_id + " is unknown.");
      }
      if (known->second != request.member_id) {
        return join_refused(ErrorCode::kFencedInstanceId, "Static member " + request.member_id + " with instance id " +
                                                              *request.instance_id + " was fenced by member " +
                                                              known->second + ".");
      }
      member = &members_.at(known->second);
    } else if (known != static_members_.end()) {
      // The instance's new incarnation takes over what its previous one held.
      rename_member(known->second, request.member_id);
      member = &members_.at(request.member_id);
      member->left_temporarily = false;
      subscriptions_changed_ = true;
    }
  } else if (auto it = members_.find(request.member_id); it != members_.end()) {
    member = &it->second;
  }
  if (!member) {
    if (members_.size() >= static_cast<size_t>(settings.max_size)) {
      return join_refused(ErrorCode::kGroupMaxSizeReached, "The consumer group has reached its maximum capacity of " +
                                                               std::to_string(settings.max_size) + " members.");
    }
    ConsumerMember fresh;
    fresh.member_id = request.member_id;
    fresh.instance_id = request.instance_id;
    member = &members_.emplace(request.member_id, std::move(fresh)).first->second;
    if (request.instance_id) static_members_[*request.instance_id] = request.member_id;
    subscriptions_changed_ = true;
    epoch_bump_due_ = true;
  }
  auto names = request.subscribed_topic_names;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names != member->subscribed_topic_names || member->subscribed_topic_regex) {
    member->subscribed_topic_names = std::move(names);
    member->subscribed_topic_regex.reset();
    subscriptions_changed_ = true;
  }
  if (request.rack_id) member->rack_id = request.rack_id;
  member->rebalance_timeout_ms = request.rebalance_timeout_ms;
  member->client_id = request.client_id;
  member->client_host = request.client_host;
  member->classic = request.classic;
  member->session_deadline_ms = now_ms + request.classic.session_timeout_ms;
  member->classic_deadline_ms = now_ms + request.rebalance_timeout_ms;  // its SyncGroup is due
  dirty_.insert(member->member_id);

  refresh_subscriptions(topics, regex);
  if (epoch_bump_due_) {
    ++group_epoch_;
    epoch_bump_due_ = false;
  }
  update_target(settings);
  // What it owns is what it reported; a partition it still owns that it must give up keeps it at its epoch,
  // without that partition, until it joins again without it. A member that has already let go of it (an eager
  // one gives up everything before it joins) moves on in the same join.
  reconcile_member(*member, request.owned, now_ms);
  if (member->assignment.state == MemberState::kUnrevokedPartitions) reconcile_member(*member, request.owned, now_ms);

  ClassicJoinResult out;
  out.member_id = member->member_id;
  out.generation = member->assignment.epoch;
  out.protocol_name = request.classic.protocols.front().name;
  return out;
}

ErrorCode ConsumerGroup::find_classic(const std::string& member_id, const std::optional<std::string>& instance_id,
                                      ConsumerMember*& member, std::string& message) {
  member = nullptr;
  std::string id = member_id;
  if (instance_id) {
    auto known = static_members_.find(*instance_id);
    if (known == static_members_.end()) {
      message = "Member with instance id " + *instance_id + " is not a member of group " + id_ + ".";
      return ErrorCode::kUnknownMemberId;
    }
    if (!member_id.empty() && known->second != member_id) {
      message = "Static member " + member_id + " with instance id " + *instance_id + " was fenced by member " +
                known->second + ".";
      return ErrorCode::kFencedInstanceId;
    }
    id = known->second;
  }
  auto it = members_.find(id);
  if (it == members_.end() || it->second.left_temporarily) {
    message = "Member " + id + " is not a member of group " + id_ + ".";
    return ErrorCode::kUnknownMemberId;
  }
  if (!it->second.classic) {
    message = "Member " + id + " does not use the classic protocol.";
    return ErrorCode::kUnknownMemberId;
  }
  member = &it->second;
  return ErrorCode::kNone;
}

ClassicSyncResult ConsumerGroup::classic_sync(const std::string& member_id,
                                              const std::optional<std::string>& instance_id, int32_t generation,
                                              const std::optional<std::string>& protocol_name, int64_t now_ms) {
  ClassicSyncResult out;
  ConsumerMember* member = nullptr;
  if (auto error = find_classic(member_id, instance_id, member, out.error_message); error != ErrorCode::kNone) {
    out.error = error;
    return out;
  }
  if (generation != member->assignment.epoch) {
    out.error = ErrorCode::kIllegalGeneration;
    out.error_message = "The request generation id " + std::to_string(generation) +
                        " is not equal to the member epoch " + std::to_string(member->assignment.epoch) + ".";
    return out;
  }
  const std::string& joined_with = member->classic->protocols.front().name;
  if (protocol_name && *protocol_name != joined_with) {
    out.error = ErrorCode::kInconsistentGroupProtocol;
    return out;
  }
  // The group moved on since it joined (and it has nothing to give up first): it joins again.
  if (group_epoch_ > member->assignment.epoch && member->assignment.state != MemberState::kUnrevokedPartitions) {
    member->classic_deadline_ms = now_ms + member->rebalance_timeout_ms;
    out.error = ErrorCode::kRebalanceInProgress;
    return out;
  }
  member->classic_deadline_ms = 0;
  member->session_deadline_ms = now_ms + member->classic->session_timeout_ms;
  out.protocol_name = joined_with;
  out.assignment = member->assignment.assigned;
  return out;
}

ErrorCode ConsumerGroup::classic_heartbeat(const std::string& member_id, const std::optional<std::string>& instance_id,
                                           int32_t generation, int64_t now_ms) {
  ConsumerMember* member = nullptr;
  std::string message;
  if (auto error = find_classic(member_id, instance_id, member, message); error != ErrorCode::kNone) return error;
  if (generation != member->assignment.epoch) return ErrorCode::kIllegalGeneration;
  member->session_deadline_ms = now_ms + member->classic->session_timeout_ms;
  const MemberAssignment& a = member->assignment;
  bool rejoin = a.epoch < group_epoch_ || a.state == MemberState::kUnrevokedPartitions;
  if (!rejoin && a.state == MemberState::kUnreleasedPartitions) {
    // Waiting for partitions others held: once none of its target is held by anyone else, it joins to get them.
    const std::string& id = member->member_id;
    bool waiting = false;
    for (const auto& [topic, partitions] : target_of(id)) {
      auto held = holders_.find(topic);
      if (held == holders_.end()) continue;
      for (int32_t p : partitions) {
        auto holder = held->second.find(p);
        waiting = waiting || (holder != held->second.end() && holder->second != id);
      }
    }
    rejoin = !waiting;
  }
  if (!rejoin) return ErrorCode::kNone;
  if (member->classic_deadline_ms == 0) member->classic_deadline_ms = now_ms + member->rebalance_timeout_ms;
  return ErrorCode::kRebalanceInProgress;
}

ErrorCode ConsumerGroup::classic_leave(const std::string& member_id, const std::optional<std::string>& instance_id) {
  ConsumerMember* member = nullptr;
  std::string message;
  if (auto error = find_classic(member_id, instance_id, member, message); error != ErrorCode::kNone) return error;
  remove_member(member->member_id);
  return ErrorCode::kNone;
}

void ConsumerGroup::adopt_classic_members(int32_t generation, std::vector<AdoptedMember> adopted,
                                          const TopicCatalog& topics, const RegexMatcher& regex, int64_t now_ms) {
  group_epoch_ = generation;
  assignment_epoch_ = generation;
  for (auto& a : adopted) {
    ConsumerMember m;
    m.member_id = a.member_id;
    m.instance_id = a.instance_id;
    m.rack_id = a.rack_id;
    m.client_id = a.client_id;
    m.client_host = a.client_host;
    m.rebalance_timeout_ms = a.rebalance_timeout_ms;
    std::sort(a.subscribed_topic_names.begin(), a.subscribed_topic_names.end());
    a.subscribed_topic_names.erase(std::unique(a.subscribed_topic_names.begin(), a.subscribed_topic_names.end()),
                                   a.subscribed_topic_names.end());
    m.subscribed_topic_names = std::move(a.subscribed_topic_names);
    m.session_deadline_ms = now_ms + a.classic.session_timeout_ms;
    m.classic = std::move(a.classic);
    m.assignment.epoch = generation;
    m.assignment.previous_epoch = generation;
    m.assignment.assigned = a.assigned;
    for (const auto& [topic, partitions] : a.assigned) {
      for (int32_t p : partitions) m.assignment.assigned_at[topic][p] = generation;
    }
    target_[m.member_id] = std::move(a.assigned);
    if (m.instance_id) static_members_[*m.instance_id] = m.member_id;
    const std::string id = m.member_id;
    auto& placed = members_.emplace(id, std::move(m)).first->second;
    MemberAssignment assignment = placed.assignment;
    set_assignment(placed, std::move(assignment));
  }
  targets_dirty_ = true;
  subscriptions_changed_ = true;
  refresh_subscriptions(topics, regex);
  // Adopting is not a change of what the assignment depends on: the group carries on at the generation.
  epoch_bump_due_ = false;
}

}  // namespace fjord::coordinator::consumer
