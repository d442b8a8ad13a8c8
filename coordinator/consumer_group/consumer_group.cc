#include "coordinator/consumer_group/consumer_group.h"

#include <algorithm>

#include "coordinator/consumer_group/assignors.h"

namespace fjord::coordinator::consumer {
namespace {

HeartbeatResult refuse(ErrorCode error, std::string message) {
  HeartbeatResult out;
  out.error = error;
  out.error_message = std::move(message);
  return out;
}

bool within(const Assignment& owned, const Assignment& assigned) { return minus(owned, assigned).empty(); }

}  // namespace

const char* consumer_group_state_name(ConsumerGroupState state) {
  switch (state) {
    case ConsumerGroupState::kEmpty:
      return "Empty";
    case ConsumerGroupState::kAssigning:
      return "Assigning";
    case ConsumerGroupState::kReconciling:
      return "Reconciling";
    case ConsumerGroupState::kStable:
      return "Stable";
  }
  return "Dead";
}

ConsumerGroupState ConsumerGroup::state() const {
  if (members_.empty()) return ConsumerGroupState::kEmpty;
  if (group_epoch_ > assignment_epoch_) return ConsumerGroupState::kAssigning;
  for (const auto& [id, m] : members_) {
    if (m.assignment.epoch != assignment_epoch_ || m.assignment.state != MemberState::kStable) {
      return ConsumerGroupState::kReconciling;
    }
  }
  return ConsumerGroupState::kStable;
}

const Assignment& ConsumerGroup::target_of(const std::string& member_id) const {
  static const Assignment none;
  auto it = target_.find(member_id);
  return it == target_.end() ? none : it->second;
}

std::string ConsumerGroup::assignor(const ConsumerGroupSettings& settings) const {
  std::map<std::string, int> asked;
  for (const auto& [id, m] : members_) {
    if (m.server_assignor) ++asked[*m.server_assignor];
  }
  std::string chosen = settings.assignors.empty() ? "uniform" : settings.assignors.front();
  int most = 0;
  for (const auto& [name, count] : asked) {
    if (count > most) chosen = name, most = count;
  }
  return chosen;
}

ErrorCode ConsumerGroup::check_member_epoch(const std::string& member_id, int32_t member_epoch) const {
  auto it = members_.find(member_id);
  if (it == members_.end()) return ErrorCode::kUnknownMemberId;
  if (member_epoch == it->second.assignment.epoch) return ErrorCode::kNone;
  return it->second.classic ? ErrorCode::kIllegalGeneration : ErrorCode::kStaleMemberEpoch;
}

ErrorCode ConsumerGroup::check_commit_epoch(const std::string& member_id, int32_t member_epoch,
                                            const std::vector<std::pair<TopicId, int32_t>>& partitions) const {
  auto it = members_.find(member_id);
  if (it == members_.end()) return ErrorCode::kUnknownMemberId;
  // A static member that left for now has epoch -2 as far as commits go: whatever it sends is newer.
  if (it->second.left_temporarily) return ErrorCode::kStaleMemberEpoch;
  const MemberAssignment& current = it->second.assignment;
  // A classic member commits at its generation, which is its epoch, as in a classic group.
  if (it->second.classic) return member_epoch == current.epoch ? ErrorCode::kNone : ErrorCode::kIllegalGeneration;
  if (member_epoch == current.epoch) return ErrorCode::kNone;
  if (member_epoch > current.epoch) return ErrorCode::kStaleMemberEpoch;
  for (const auto& [topic, partition] : partitions) {
    const bool held =
        contains(current.assigned, topic, partition) || contains(current.pending_revocation, topic, partition);
    if (!held || member_epoch < assignment_epoch_of(current, topic, partition)) return ErrorCode::kStaleMemberEpoch;
  }
  return ErrorCode::kNone;
}

HeartbeatResult ConsumerGroup::heartbeat(const HeartbeatRequest& request, const ConsumerGroupSettings& settings,
                                         const TopicCatalog& topics, const RegexMatcher& regex, int64_t now_ms,
                                         const std::function<std::string()>& new_member_id) {
  if (request.server_assignor && std::find(settings.assignors.begin(), settings.assignors.end(),
                                           *request.server_assignor) == settings.assignors.end()) {
    return refuse(ErrorCode::kUnsupportedAssignor, "the broker has no assignor " + *request.server_assignor);
  }
  ConsumerMember* member = nullptr;
  if (request.member_epoch == -1 || request.member_epoch == -2) {
    auto it = members_.find(request.member_id);
    if (it == members_.end()) return refuse(ErrorCode::kUnknownMemberId, "no member " + request.member_id);
    HeartbeatResult out;
    out.member_id = request.member_id;
    out.member_epoch = request.member_epoch;
    if (request.member_epoch == -2 && it->second.instance_id) {
      // A static member restarting: its partitions wait for its next incarnation for a session. What it was
      // revoking it has let go of (it closed), so others may take that at once.
      ConsumerMember& leaving = it->second;
      leaving.left_temporarily = true;
      leaving.session_deadline_ms = now_ms + settings.session_timeout_ms;
      if (!leaving.assignment.pending_revocation.empty()) {
        MemberAssignment kept = leaving.assignment;
        for (const auto& [topic, partitions] : kept.pending_revocation) {
          for (int32_t p : partitions) kept.assigned_at[topic].erase(p);
          if (kept.assigned_at[topic].empty()) kept.assigned_at.erase(topic);
        }
        kept.pending_revocation.clear();
        kept.state = MemberState::kStable;
        set_assignment(leaving, std::move(kept));
      }
      dirty_.insert(request.member_id);
    } else {
      remove_member(request.member_id);
    }
    return out;
  }
  if (request.member_epoch == 0) {
    auto joined = join(request, settings, now_ms, new_member_id, member);
    if (joined.error != ErrorCode::kNone) return joined;
  } else {
    auto it = members_.find(request.member_id);
    if (it == members_.end() || it->second.left_temporarily) {
      return refuse(ErrorCode::kUnknownMemberId, "no member " + request.member_id + " in the group");
    }
    member = &it->second;
    const MemberAssignment& current = member->assignment;
    if (request.member_epoch > current.epoch) {
      return refuse(ErrorCode::kFencedMemberEpoch, "the member epoch is ahead of the group's");
    }
    // A member that missed the answer that moved it on may come back with the epoch before; nothing else.
    if (request.member_epoch < current.epoch && !(request.member_epoch == current.previous_epoch && request.owned &&
                                                  within(*request.owned, current.assigned))) {
      return refuse(ErrorCode::kFencedMemberEpoch, "the member epoch is behind the group's");
    }
  }

  // What the member may change in any heartbeat.
  if (request.rebalance_timeout_ms >= 0) member->rebalance_timeout_ms = request.rebalance_timeout_ms;
  if (request.rack_id) member->rack_id = request.rack_id;
  if (request.subscribed_topic_names) {
    auto names = *request.subscribed_topic_names;
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    if (names != member->subscribed_topic_names) {
      member->subscribed_topic_names = std::move(names);
      subscriptions_changed_ = true;
    }
  }
  if (request.subscribed_topic_regex) {
    std::optional<std::string> wanted;
    if (!request.subscribed_topic_regex->empty()) wanted = request.subscribed_topic_regex;
    if (wanted != member->subscribed_topic_regex) {
      member->subscribed_topic_regex = std::move(wanted);
      subscriptions_changed_ = true;
    }
  }
  if (request.server_assignor && request.server_assignor != member->server_assignor) {
    member->server_assignor = request.server_assignor;
    epoch_bump_due_ = true;
  }
  member->client_id = request.client_id;
  member->client_host = request.client_host;
  member->session_deadline_ms = now_ms + settings.session_timeout_ms;
  member->classic.reset();  // a member id that heartbeats speaks the consumer protocol from now on
  member->classic_deadline_ms = 0;

  refresh_subscriptions(topics, regex);
  // Whatever changed in this heartbeat, the group moves on by one epoch.
  if (epoch_bump_due_) {
    ++group_epoch_;
    epoch_bump_due_ = false;
  }
  update_target(settings);
  const std::string member_id = member->member_id;
  const bool changed = reconcile_member(*member, request.owned, now_ms);

  HeartbeatResult out;
  out.member_id = member_id;
  out.member_epoch = member->assignment.epoch;
  out.heartbeat_interval_ms = settings.heartbeat_interval_ms;
  if (changed || request.member_epoch == 0 || (request.owned && *request.owned != member->assignment.assigned)) {
    out.assignment = member->assignment.assigned;
  }
  return out;
}

bool ConsumerGroup::reconcile_member(ConsumerMember& member, const std::optional<Assignment>& reported,
                                     int64_t now_ms) {
  const std::string member_id = member.member_id;
  const MemberAssignment before = member.assignment;
  MemberAssignment next =
      reconcile(before, assignment_epoch_, target_of(member_id), reported, [&](const TopicId& t, int32_t p) {
        auto topic = holders_.find(t);
        if (topic == holders_.end()) return false;
        auto holder = topic->second.find(p);
        return holder != topic->second.end() && holder->second != member_id;
      });
  if (next.state == MemberState::kUnrevokedPartitions && before.state != MemberState::kUnrevokedPartitions) {
    member.revocation_deadline_ms = now_ms + member.rebalance_timeout_ms;
  }
  const bool changed = next != before;
  if (changed) set_assignment(member, next);
  dirty_.insert(member_id);
  return changed;
}

HeartbeatResult ConsumerGroup::join(const HeartbeatRequest& request, const ConsumerGroupSettings& settings,
                                    int64_t now_ms, const std::function<std::string()>& new_member_id,
                                    ConsumerMember*& member) {
  if (request.rebalance_timeout_ms < 0) {
    return refuse(ErrorCode::kInvalidRequest, "RebalanceTimeoutMs must be set when joining");
  }
  if (!request.subscribed_topic_names && !request.subscribed_topic_regex) {
    return refuse(ErrorCode::kInvalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set when joining");
  }
  if (request.owned && !request.owned->empty()) {
    return refuse(ErrorCode::kInvalidRequest, "TopicPartitions must be empty when joining");
  }
  const std::string id = request.member_id.empty() ? new_member_id() : request.member_id;
  // A static member's new incarnation takes over the assignment its previous one left behind, epoch and all.
  if (request.instance_id) {
    if (auto known = static_members_.find(*request.instance_id); known != static_members_.end()) {
      const std::string old_id = known->second;
      const ConsumerMember& holder = members_.at(old_id);
      if (!holder.left_temporarily && old_id != id) {
        return refuse(ErrorCode::kUnreleasedInstanceId,
                      "instance " + *request.instance_id + " is still held by member " + old_id);
      }
      rename_member(old_id, id);
      ConsumerMember& taken_over = members_.at(id);
      taken_over.left_temporarily = false;
      taken_over.rebalance_timeout_ms = request.rebalance_timeout_ms;
      taken_over.session_deadline_ms = now_ms + settings.session_timeout_ms;
      subscriptions_changed_ = true;
      member = &taken_over;
      return {};
    }
  }
  // A member fenced, or restarted with the id it generated, starts over with nothing.
  if (members_.contains(id)) remove_member(id);
  if (members_.size() >= static_cast<size_t>(settings.max_size)) {
    return refuse(ErrorCode::kGroupMaxSizeReached, "the group has group.consumer.max.size members");
  }
  ConsumerMember fresh;
  fresh.member_id = id;
  fresh.instance_id = request.instance_id;
  fresh.rebalance_timeout_ms = request.rebalance_timeout_ms;
  fresh.session_deadline_ms = now_ms + settings.session_timeout_ms;
  member = &members_.emplace(id, std::move(fresh)).first->second;
  if (request.instance_id) static_members_[*request.instance_id] = id;
  subscriptions_changed_ = true;
  epoch_bump_due_ = true;
  return {};
}

void ConsumerGroup::rename_member(const std::string& from, const std::string& to) {
  if (from == to) return;
  dirty_.insert(from);
  dirty_.insert(to);
  auto node = members_.extract(from);
  node.key() = to;
  node.mapped().member_id = to;
  members_.insert(std::move(node));
  if (auto t = target_.extract(from)) {
    t.key() = to;
    target_.insert(std::move(t));
  }
  if (auto r = resolved_.extract(from)) {
    r.key() = to;
    resolved_.insert(std::move(r));
  }
  for (auto& [topic, partitions] : holders_) {
    for (auto& [p, who] : partitions) {
      if (who == from) who = to;
    }
  }
  for (auto& [instance, member_id] : static_members_) {
    if (member_id == from) member_id = to;
  }
}

void ConsumerGroup::remove_member(const std::string& member_id) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  if (it->second.instance_id) static_members_.erase(*it->second.instance_id);
  for (auto topic = holders_.begin(); topic != holders_.end();) {
    std::erase_if(topic->second, [&](const auto& entry) { return entry.second == member_id; });
    topic = topic->second.empty() ? holders_.erase(topic) : std::next(topic);
  }
  members_.erase(it);
  dirty_.insert(member_id);
  target_.erase(member_id);
  resolved_.erase(member_id);
  subscriptions_changed_ = true;
  ++group_epoch_;
}

std::vector<std::string> ConsumerGroup::expire(int64_t now_ms) {
  std::vector<std::string> gone;
  for (const auto& [id, m] : members_) {
    const bool session_over = now_ms > m.session_deadline_ms;
    // A classic member is not timed on its revocation (it revokes by joining again) but on the rejoin or sync
    // it was asked for.
    const bool revocation_over =
        !m.classic && m.assignment.state == MemberState::kUnrevokedPartitions && now_ms > m.revocation_deadline_ms;
    const bool classic_step_over = m.classic && m.classic_deadline_ms > 0 && now_ms > m.classic_deadline_ms;
    if (session_over || revocation_over || classic_step_over) gone.push_back(id);
  }
  for (const auto& id : gone) remove_member(id);
  return gone;
}

void ConsumerGroup::refresh_subscriptions(const TopicCatalog& topics, const RegexMatcher& regex) {
  if (!subscriptions_changed_ && topics.version() == catalog_version_) return;
  subscriptions_changed_ = false;
  catalog_version_ = topics.version();
  std::map<TopicId, TopicMetadata, TopicIdLess> subscribed;
  std::vector<TopicMetadata> all;
  bool listed = false;
  auto resolved_before = std::move(resolved_);
  resolved_.clear();
  for (const auto& [id, m] : members_) {
    auto& mine = resolved_[id];
    for (const auto& name : m.subscribed_topic_names) {
      if (auto topic = topics.by_name(name)) {
        mine.insert(topic->id);
        subscribed[topic->id] = *topic;
      }
    }
    if (m.subscribed_topic_regex) {
      if (!listed) all = topics.all(), listed = true;
      for (const auto& topic : all) {
        if (regex(*m.subscribed_topic_regex, topic.name)) {
          mine.insert(topic.id);
          subscribed[topic.id] = topic;
        }
      }
    }
  }
  if (subscribed != subscribed_) {
    subscribed_ = std::move(subscribed);
    epoch_bump_due_ = true;
  } else if (!members_.empty()) {
    // The same topics in all, but one member's share of them may differ.
    epoch_bump_due_ = epoch_bump_due_ || resolved_before != resolved_;
  }
}

void ConsumerGroup::update_target(const ConsumerGroupSettings& settings) {
  if (group_epoch_ <= assignment_epoch_) return;
  const ServerAssignor* chosen = find_assignor(assignor(settings));
  if (!chosen) chosen = find_assignor("uniform");
  std::vector<AssignorMember> inputs;
  for (const auto& [id, m] : members_) {
    inputs.push_back({id, m.instance_id, resolved_[id], target_of(id)});
  }
  std::map<TopicId, int32_t, TopicIdLess> partitions;
  for (const auto& [topic, metadata] : subscribed_) partitions[topic] = metadata.partitions;
  target_ = chosen->assign(inputs, partitions);
  assignment_epoch_ = group_epoch_;
  targets_dirty_ = true;
}

void ConsumerGroup::set_assignment(ConsumerMember& member, MemberAssignment next) {
  for (auto topic = holders_.begin(); topic != holders_.end();) {
    std::erase_if(topic->second, [&](const auto& entry) { return entry.second == member.member_id; });
    topic = topic->second.empty() ? holders_.erase(topic) : std::next(topic);
  }
  for (const auto* part : {&next.assigned, &next.pending_revocation}) {
    for (const auto& [topic, partitions] : *part) {
      for (int32_t p : partitions) holders_[topic][p] = member.member_id;
    }
  }
  member.assignment = std::move(next);
  dirty_.insert(member.member_id);
}

// ---------------------------------------------------------------------------------------------------------------
// Records

namespace {

MemberMetadata metadata_of(const ConsumerMember& m) {
  return {m.instance_id,
          m.rack_id,
          m.client_id,
          m.client_host,
          m.subscribed_topic_names,
          m.subscribed_topic_regex,
          m.rebalance_timeout_ms,
          m.server_assignor,
          m.classic};
}

MemberAssignment written_assignment(const ConsumerMember& m) {
  MemberAssignment out = m.assignment;
  if (m.left_temporarily) {
    // As Kafka writes such a member: the epoch it left at becomes the previous one.
    out.previous_epoch = out.epoch;
    out.epoch = kLeftTemporarilyEpoch;
  }
  return out;
}

// Writes `now` into `written` and appends its record when it differs from what was written before.
template <typename Map, typename Value, typename Record>
void note(Map& written, const std::string& id, const Value& now, std::vector<ConsumerGroupRecord>& out, Record record) {
  auto it = written.find(id);
  if (it != written.end() && it->second == now) return;
  written[id] = now;
  out.push_back(std::move(record));
}

}  // namespace

std::vector<ConsumerGroupRecord> ConsumerGroup::take_changes() {
  std::vector<ConsumerGroupRecord> out;
  // Members gone: their assignments before their metadata, so a replay never finds an assignment without its
  // member.
  for (const auto& id : dirty_) {
    if (members_.contains(id)) continue;
    if (written_.current.erase(id)) out.push_back(CurrentAssignmentRecord{id, std::nullopt});
    if (written_.targets.erase(id)) out.push_back(TargetMemberRecord{id, std::nullopt});
    if (written_.members.erase(id)) out.push_back(MemberRecord{id, std::nullopt});
  }
  for (const auto& id : dirty_) {
    auto it = members_.find(id);
    if (it == members_.end()) continue;
    auto metadata = metadata_of(it->second);
    note(written_.members, id, metadata, out, MemberRecord{id, metadata});
  }
  if (written_.group_epoch != group_epoch_) {
    written_.group_epoch = group_epoch_;
    out.push_back(GroupEpochRecord{group_epoch_});
  }
  auto note_target = [&](const std::string& id) {
    const Assignment& target = target_of(id);
    note(written_.targets, id, target, out, TargetMemberRecord{id, target});
  };
  if (targets_dirty_) {
    for (const auto& [id, m] : members_) note_target(id);
  } else {
    for (const auto& id : dirty_) {
      if (members_.contains(id)) note_target(id);
    }
  }
  if (written_.target_epoch != assignment_epoch_) {
    written_.target_epoch = assignment_epoch_;
    out.push_back(TargetEpochRecord{assignment_epoch_});
  }
  for (const auto& id : dirty_) {
    auto it = members_.find(id);
    if (it == members_.end()) continue;
    auto current = written_assignment(it->second);
    note(written_.current, id, current, out, CurrentAssignmentRecord{id, current});
  }
  dirty_.clear();
  targets_dirty_ = false;
  return out;
}

std::vector<ConsumerGroupRecord> ConsumerGroup::take_tombstones() {
  std::vector<ConsumerGroupRecord> out;
  for (const auto& [id, current] : written_.current) out.push_back(CurrentAssignmentRecord{id, std::nullopt});
  for (const auto& [id, target] : written_.targets) out.push_back(TargetMemberRecord{id, std::nullopt});
  if (written_.target_epoch) out.push_back(TargetEpochRecord{std::nullopt});
  for (const auto& [id, metadata] : written_.members) out.push_back(MemberRecord{id, std::nullopt});
  if (written_.group_epoch) out.push_back(GroupEpochRecord{std::nullopt});
  written_ = {};
  for (const auto& [id, m] : members_) dirty_.insert(id);
  return out;
}

void ConsumerGroup::forget_written(const std::vector<ConsumerGroupRecord>& unwritten) {
  // Every member the log may hold: those written before, and those the lost records named.
  std::set<std::string> ids;
  for (const auto& [id, metadata] : written_.members) ids.insert(id);
  for (const auto& record : unwritten) {
    std::visit(
        [&](const auto& r) {
          if constexpr (requires { r.member_id; }) ids.insert(r.member_id);
        },
        record);
  }
  // Against an empty record of what was written, every member, target and epoch differs and is written again;
  // a member the log may hold but the group no longer has gets its tombstones.
  written_ = {};
  for (const auto& id : ids) {
    dirty_.insert(id);
    if (members_.contains(id)) continue;
    written_.members[id] = {};
    written_.targets[id] = {};
    written_.current[id] = {};
  }
  for (const auto& [id, m] : members_) dirty_.insert(id);
  targets_dirty_ = true;
}

void ConsumerGroup::replay(const ConsumerGroupRecord& record) {
  auto apply = [](auto& map, const std::string& id, const auto& value) {
    if (value) {
      map[id] = *value;
    } else {
      map.erase(id);
    }
  };
  if (const auto* r = std::get_if<GroupEpochRecord>(&record)) {
    written_.group_epoch = r->epoch;
  } else if (const auto* r = std::get_if<MemberRecord>(&record)) {
    apply(written_.members, r->member_id, r->metadata);
  } else if (const auto* r = std::get_if<TargetMemberRecord>(&record)) {
    apply(written_.targets, r->member_id, r->target);
  } else if (const auto* r = std::get_if<TargetEpochRecord>(&record)) {
    written_.target_epoch = r->epoch;
  } else if (const auto* r = std::get_if<CurrentAssignmentRecord>(&record)) {
    apply(written_.current, r->member_id, r->assignment);
  }
}

bool ConsumerGroup::restore(int64_t now_ms, const ConsumerGroupSettings& settings, const TopicCatalog& topics,
                            const RegexMatcher& regex) {
  members_.clear();
  static_members_.clear();
  target_.clear();
  holders_.clear();
  subscribed_.clear();
  resolved_.clear();
  dirty_.clear();
  targets_dirty_ = false;
  group_epoch_ = written_.group_epoch.value_or(0);
  assignment_epoch_ = written_.target_epoch.value_or(0);
  // An assignment whose member record is gone (a torn history) belongs to nobody.
  std::erase_if(written_.current, [&](const auto& entry) { return !written_.members.contains(entry.first); });
  std::erase_if(written_.targets, [&](const auto& entry) { return !written_.members.contains(entry.first); });
  for (const auto& [id, metadata] : written_.members) {
    ConsumerMember m;
    m.member_id = id;
    m.instance_id = metadata.instance_id;
    m.rack_id = metadata.rack_id;
    m.client_id = metadata.client_id;
    m.client_host = metadata.client_host;
    m.subscribed_topic_names = metadata.subscribed_topic_names;
    m.subscribed_topic_regex = metadata.subscribed_topic_regex;
    m.rebalance_timeout_ms = metadata.rebalance_timeout_ms;
    m.server_assignor = metadata.server_assignor;
    m.classic = metadata.classic;
    if (auto current = written_.current.find(id); current != written_.current.end()) {
      m.assignment = current->second;
      if (m.assignment.epoch == kLeftTemporarilyEpoch) {
        // The record keeps -2 in place of its epoch. Its next incarnation goes on from the one before (an epoch
        // of 0 would read as joining again in its next heartbeat), and moves to the target from there.
        m.left_temporarily = true;
        m.assignment.epoch = std::max(m.assignment.previous_epoch, 1);
      }
    }
    m.session_deadline_ms = now_ms + (m.classic ? m.classic->session_timeout_ms : settings.session_timeout_ms);
    m.revocation_deadline_ms = now_ms + std::max(m.rebalance_timeout_ms, 0);
    if (m.instance_id) static_members_[*m.instance_id] = id;
    for (const auto* part : {&m.assignment.assigned, &m.assignment.pending_revocation}) {
      for (const auto& [topic, partitions] : *part) {
        for (int32_t p : partitions) holders_[topic][p] = id;
      }
    }
    if (auto target = written_.targets.find(id); target != written_.targets.end()) target_[id] = target->second;
    members_.emplace(id, std::move(m));
  }
  subscriptions_changed_ = true;
  epoch_bump_due_ = false;
  refresh_subscriptions(topics, regex);
  // The target assigns every partition of the subscribed topics (with members to take them): if it does not,
  // the topics changed since it was computed.
  std::set<std::pair<std::vector<uint8_t>, int32_t>> subscribed, targeted;
  for (const auto& [topic, metadata] : subscribed_) {
    for (int32_t p = 0; p < metadata.partitions; ++p) subscribed.insert({{topic.bytes.begin(), topic.bytes.end()}, p});
  }
  for (const auto& [id, target] : target_) {
    for (const auto& [topic, partitions] : target) {
      for (int32_t p : partitions) targeted.insert({{topic.bytes.begin(), topic.bytes.end()}, p});
    }
  }
  epoch_bump_due_ = !members_.empty() && subscribed != targeted;
  return written_.group_epoch.has_value() || !members_.empty();
}

}  // namespace fjord::coordinator::consumer
