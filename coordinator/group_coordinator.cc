// Membership: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the rebalance state machine. Offsets, listing,
// deletion and loading are in group_offsets.cc.
#include "coordinator/group_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fjord::coordinator {

namespace {

constexpr int64_t kNewMemberJoinTimeoutMs = 5 * 60 * 1000;

}  // namespace

GroupCoordinator::GroupCoordinator(StateLog& log, const Clock& clock, Scheduler& scheduler, GroupSettings settings)
    : log_(log), clock_(clock), scheduler_(scheduler), settings_(settings) {}

GroupCoordinator::~GroupCoordinator() { *alive_ = false; }

Group* GroupCoordinator::find(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

const Group* GroupCoordinator::find(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

Group& GroupCoordinator::find_or_create(const std::string& group_id) {
  auto& slot = groups_[group_id];
  if (!slot) {
    slot = std::make_unique<Group>(group_id);
    slot->state_timestamp_ms = clock_.now_ms();
  }
  return *slot;
}

void GroupCoordinator::set_state(Group& group, GroupState state) {
  group.state = state;
  group.state_timestamp_ms = clock_.now_ms();
}

// ---------------------------------------------------------------------------------------------------------------
// JoinGroup

void GroupCoordinator::join(JoinRequest request, JoinCallback done) {
  auto fail = [&](ErrorCode error) {
    JoinResult result;
    result.error = error;
    result.member_id = request.member_id;
    done(std::move(result));
  };
  if (request.group_id.empty()) return fail(ErrorCode::kInvalidGroupId);
  if (auto error = coordinator_error(request.group_id); error != ErrorCode::kNone) return fail(error);
  if (request.session_timeout_ms < settings_.min_session_timeout_ms ||
      request.session_timeout_ms > settings_.max_session_timeout_ms) {
    return fail(ErrorCode::kInvalidSessionTimeout);
  }
  if (request.rebalance_timeout_ms <= 0) request.rebalance_timeout_ms = request.session_timeout_ms;
  if (request.protocol_type.empty() || request.protocols.empty()) return fail(ErrorCode::kInconsistentGroupProtocol);
  if (Group* existing = find(request.group_id); existing && existing->consumer) {
    // A consumer-protocol group with members takes classic members in (group_migration.cc).
    if (!existing->consumer->empty()) return join_consumer_group(*existing, std::move(request), std::move(done));
    // An empty consumer-protocol group becomes classic, keeping its offsets; its records go, so that a reload
    // does not bring it back beside the classic group.
    auto tombstones = existing->consumer->take_tombstones();
    existing->consumer.reset();
    existing->protocol_type.reset();
    if (!tombstones.empty()) write_consumer_changes(existing->id, std::move(tombstones), [](ErrorCode) {});
  }

  Group* existing = find(request.group_id);
  if (existing && existing->state == GroupState::kDead) return fail(ErrorCode::kCoordinatorNotAvailable);
  if (!existing && !request.member_id.empty()) return fail(ErrorCode::kUnknownMemberId);
  Group& group = find_or_create(request.group_id);
  if (!supports_protocols(group, request)) return fail(ErrorCode::kInconsistentGroupProtocol);

  if (request.group_instance_id) return join_static_member(group, std::move(request), std::move(done));
  if (request.member_id.empty()) return join_new_member(group, std::move(request), std::move(done));
  if (auto pending = group.pending_members.find(request.member_id); pending != group.pending_members.end()) {
    // The second join of KIP-394: the member now has its id and really joins.
    group.pending_members.erase(pending);
    std::string member_id = request.member_id;
    add_member(group, request, member_id, std::move(done));
    maybe_prepare_rebalance(group, "member " + member_id + " joined");
    try_complete_join(group);
    return;
  }
  Member* member = group.find(request.member_id);
  if (!member) return fail(ErrorCode::kUnknownMemberId);
  join_known_member(group, *member, std::move(request), std::move(done));
}

bool GroupCoordinator::supports_protocols(const Group& group, const JoinRequest& request) const {
  if (!group.has_members()) return true;
  if (group.protocol_type && *group.protocol_type != request.protocol_type) return false;
  // At least one of the joining member's protocols must be one that every current member supports.
  for (const auto& protocol : request.protocols) {
    const std::string& name = protocol.first;
    bool everyone = std::all_of(group.members.begin(), group.members.end(), [&](const auto& entry) {
      return entry.second.member_id == request.member_id || entry.second.metadata_for(name) != nullptr;
    });
    if (everyone) return true;
  }
  return false;
}

void GroupCoordinator::join_new_member(Group& group, JoinRequest request, JoinCallback done) {
  if (static_cast<int64_t>(group.members.size() + group.pending_members.size()) >= settings_.max_group_size) {
    JoinResult result;
    result.error = ErrorCode::kGroupMaxSizeReached;
    done(std::move(result));
    return;
  }
  std::string member_id = new_member_id(request.client_id);
  if (request.member_id_required) {
    // KIP-394: the member learns its id first and joins with it, so a client that times out and retries the
    // join does not leave a stray member behind.
    group.pending_members[member_id] = clock_.monotonic_ms() + request.session_timeout_ms;
    JoinResult result;
    result.error = ErrorCode::kMemberIdRequired;
    result.member_id = member_id;
    done(std::move(result));
    return;
  }
  add_member(group, request, member_id, std::move(done));
  maybe_prepare_rebalance(group, "member " + member_id + " joined");
  try_complete_join(group);
}

void GroupCoordinator::join_static_member(Group& group, JoinRequest request, JoinCallback done) {
  const std::string& instance = *request.group_instance_id;
  auto known = group.static_members.find(instance);
  if (known == group.static_members.end()) {
    if (!request.member_id.empty()) {
      JoinResult result;
      result.error = ErrorCode::kUnknownMemberId;
      result.member_id = request.member_id;
      done(std::move(result));
      return;
    }
    std::string member_id = new_member_id(instance);
    add_member(group, request, member_id, std::move(done));
    maybe_prepare_rebalance(group, "static member " + instance + " joined");
    try_complete_join(group);
    return;
  }
  const std::string old_id = known->second;
  if (!request.member_id.empty()) {
    if (request.member_id != old_id) {
      JoinResult result;
      result.error = ErrorCode::kFencedInstanceId;
      result.member_id = request.member_id;
      done(std::move(result));
      return;
    }
    join_known_member(group, *group.find(old_id), std::move(request), std::move(done));
    return;
  }

  // A static member restarted: it takes over its old membership under a new id, and the old id is fenced.
  Member old = std::move(group.members.at(old_id));
  group.members.erase(old_id);
  if (old.awaiting_join) {
    JoinResult fenced;
    fenced.error = ErrorCode::kFencedInstanceId;
    fenced.member_id = old_id;
    old.awaiting_join(std::move(fenced));
  }
  if (old.awaiting_sync) {
    SyncResult fenced;
    fenced.error = ErrorCode::kFencedInstanceId;
    old.awaiting_sync(std::move(fenced));
  }
  std::string member_id = new_member_id(instance);
  Member& member = group.members[member_id];
  member = std::move(old);
  member.awaiting_join = nullptr;
  member.awaiting_sync = nullptr;
  member.member_id = member_id;
  std::replace(group.join_order.begin(), group.join_order.end(), old_id, member_id);
  known->second = member_id;
  if (group.leader == old_id) group.leader = member_id;
  member.last_heartbeat_ms = clock_.monotonic_ms();

  if (group.state == GroupState::kStable) {
    // The restarted member's metadata may differ (a cooperative subscription lists the partitions it owns, and a
    // new process owns none yet); as in Kafka, only a change of the group's protocol makes the others reassign.
    member.protocols = request.protocols;
    if (select_protocol(group) != group.protocol_name) {
      update_member(member, request, std::move(done));
      prepare_rebalance(group, "static member " + instance + " rejoined with other protocols");
      return;
    }
    // Nothing changed for the others: no rebalance. The member gets the current generation and, through
    // SyncGroup, its old assignment.
    member.client_id = request.client_id;
    member.client_host = request.client_host;
    member.session_timeout_ms = request.session_timeout_ms;
    member.rebalance_timeout_ms = request.rebalance_timeout_ms;
    member.supports_skip_assignment = request.supports_skip_assignment;
    JoinResult result = current_join_result(group, member);
    if (group.leader == member_id) {
      // The leader's assignment stands; a client that can skip computing it again is told to (KIP-814).
      result.skip_assignment = request.supports_skip_assignment;
    }
    auto alive = alive_;
    store_group(group, [alive, result, done](ErrorCode error) mutable {
      if (!*alive) return;
      if (error != ErrorCode::kNone) {
        JoinResult failed;
        failed.error = ErrorCode::kUnknownServerError;
        failed.member_id = result.member_id;
        done(std::move(failed));
        return;
      }
      done(std::move(result));
    });
    spdlog::info("group {}: static member {} rejoined as {} without a rebalance", group.id, instance, member_id);
    return;
  }
  update_member(member, request, std::move(done));
  maybe_prepare_rebalance(group, "static member " + instance + " rejoined");
  try_complete_join(group);
}

void GroupCoordinator::join_known_member(Group& group, Member& member, JoinRequest request, JoinCallback done) {
  switch (group.state) {
    case GroupState::kPreparingRebalance:
      update_member(member, request, std::move(done));
      try_complete_join(group);
      return;
    case GroupState::kCompletingRebalance:
      if (member.protocols == request.protocols) {
        // The member missed its join answer; give it again.
        member.last_heartbeat_ms = clock_.monotonic_ms();
        done(current_join_result(group, member));
        return;
      }
      update_member(member, request, std::move(done));
      prepare_rebalance(group, "member " + member.member_id + " changed its protocols");
      return;
    case GroupState::kStable:
      if (group.leader == member.member_id || member.protocols != request.protocols) {
        // The leader rejoining (its subscription may have changed) or new metadata: everyone reassigns.
        update_member(member, request, std::move(done));
        prepare_rebalance(group, "member " + member.member_id + " rejoined");
        return;
      }
      member.last_heartbeat_ms = clock_.monotonic_ms();
      done(current_join_result(group, member));
      return;
    case GroupState::kEmpty:
    case GroupState::kDead: {
      JoinResult result;
      result.error = ErrorCode::kUnknownMemberId;
      result.member_id = member.member_id;
      done(std::move(result));
      return;
    }
  }
}

Member& GroupCoordinator::add_member(Group& group, const JoinRequest& request, std::string member_id,
                                     JoinCallback done) {
  Member& member = group.members[member_id];
  member.member_id = member_id;
  member.group_instance_id = request.group_instance_id;
  member.is_new = true;
  update_member(member, request, std::move(done));
  group.join_order.push_back(member_id);
  if (request.group_instance_id) group.static_members[*request.group_instance_id] = member_id;
  if (!group.protocol_type) group.protocol_type = request.protocol_type;
  return member;
}

void GroupCoordinator::update_member(Member& member, const JoinRequest& request, JoinCallback done) {
  member.client_id = request.client_id;
  member.client_host = request.client_host;
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms = request.rebalance_timeout_ms;
  member.protocol_type = request.protocol_type;
  member.protocols = request.protocols;
  member.supports_skip_assignment = request.supports_skip_assignment;
  member.last_heartbeat_ms = clock_.monotonic_ms();
  if (member.awaiting_join) {
    // A retried join replaces the one still waiting; the old connection's answer is an error.
    JoinResult superseded;
    superseded.error = ErrorCode::kRebalanceInProgress;
    superseded.member_id = member.member_id;
    member.awaiting_join(std::move(superseded));
  }
  member.awaiting_join = std::move(done);
}

void GroupCoordinator::remove_member(Group& group, const std::string& member_id) {
  auto it = group.members.find(member_id);
  if (it == group.members.end()) return;
  Member member = std::move(it->second);
  group.members.erase(it);
  group.join_order.erase(std::remove(group.join_order.begin(), group.join_order.end(), member_id),
                         group.join_order.end());
  if (member.group_instance_id) group.static_members.erase(*member.group_instance_id);
  if (group.leader == member_id) {
    group.leader = group.join_order.empty() ? std::nullopt : std::optional<std::string>(group.join_order.front());
  }
  if (member.awaiting_join) {
    JoinResult gone;
    gone.error = ErrorCode::kUnknownMemberId;
    gone.member_id = member_id;
    member.awaiting_join(std::move(gone));
  }
  if (member.awaiting_sync) {
    SyncResult gone;
    gone.error = ErrorCode::kUnknownMemberId;
    member.awaiting_sync(std::move(gone));
  }
  switch (group.state) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance:
      prepare_rebalance(group, "member " + member_id + " left");
      break;
    case GroupState::kPreparingRebalance:
      try_complete_join(group);
      break;
    default:
      break;
  }
}

JoinResult GroupCoordinator::current_join_result(const Group& group, const Member& member) const {
  JoinResult result;
  result.generation = group.generation;
  result.protocol_type = group.protocol_type;
  result.protocol_name = group.protocol_name;
  result.leader = group.leader.value_or("");
  result.member_id = member.member_id;
  if (group.leader == member.member_id && group.protocol_name) {
    for (const auto& id : group.join_order) {
      const Member& m = group.members.at(id);
      const auto* metadata = m.metadata_for(*group.protocol_name);
      result.members.push_back({m.member_id, m.group_instance_id, metadata ? *metadata : protocol::Bytes{}});
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Rebalancing

void GroupCoordinator::maybe_prepare_rebalance(Group& group, const std::string& reason) {
  if (group.state == GroupState::kStable || group.state == GroupState::kCompletingRebalance ||
      group.state == GroupState::kEmpty) {
    prepare_rebalance(group, reason);
  }
}

void GroupCoordinator::prepare_rebalance(Group& group, const std::string& reason) {
  if (group.state == GroupState::kCompletingRebalance)
    reset_and_propagate_sync_error(group, ErrorCode::kRebalanceInProgress);
  const bool first = group.state == GroupState::kEmpty;
  set_state(group, GroupState::kPreparingRebalance);
  group.rebalance_started_ms = clock_.monotonic_ms();
  spdlog::info("group {}: preparing to rebalance (generation {}): {}", group.id, group.generation, reason);
  if (first) {
    // A new group waits a little for more members, so that a whole fleet starting together causes one rebalance
    // instead of one per member; each member that joins meanwhile extends the wait, up to the rebalance timeout.
    // With no delay configured the wait is one turn of the event loop: joins already arrived still count.
    int32_t rebalance_timeout = 0;
    for (const auto& [id, m] : group.members) rebalance_timeout = std::max(rebalance_timeout, m.rebalance_timeout_ms);
    int64_t delay = std::min<int64_t>(settings_.initial_rebalance_delay_ms, rebalance_timeout);
    group.initial_delay_running = true;
    schedule_initial_delay(group.id, delay, rebalance_timeout);
    return;
  }
  schedule_join_deadline(group);
  try_complete_join(group);
}

// Waits `delay_ms`; if members joined meanwhile and the rebalance timeout (`remaining_ms` of it left) allows, waits
// another initial delay, else completes the join as soon as everyone has joined.
void GroupCoordinator::schedule_initial_delay(const std::string& group_id, int64_t delay_ms, int64_t remaining_ms) {
  Group* group = find(group_id);
  if (!group) return;
  auto alive = alive_;
  size_t members_now = group->members.size();
  group->join_timer = scheduler_.schedule_after(delay_ms, [this, alive, group_id, delay_ms, remaining_ms, members_now] {
    if (!*alive) return;
    Group* g = find(group_id);
    if (!g) return;
    int64_t remaining = remaining_ms - delay_ms;
    if (g->members.size() > members_now && remaining > 0) {
      schedule_initial_delay(group_id, std::min<int64_t>(settings_.initial_rebalance_delay_ms, remaining), remaining);
      return;
    }
    g->initial_delay_running = false;
    try_complete_join(*g);
    if (g->state == GroupState::kPreparingRebalance) schedule_join_deadline(*g);
  });
}

void GroupCoordinator::schedule_join_deadline(Group& group) {
  // Members that have not rejoined within the longest rebalance timeout (the consumers' max.poll.interval.ms)
  // are dropped and the rebalance completes without them.
  int32_t rebalance_timeout = 0;
  for (const auto& [id, m] : group.members) rebalance_timeout = std::max(rebalance_timeout, m.rebalance_timeout_ms);
  auto alive = alive_;
  std::string id = group.id;
  int32_t generation = group.generation;
  group.join_timer = scheduler_.schedule_after(rebalance_timeout, [this, alive, id, generation] {
    if (!*alive) return;
    Group* g = find(id);
    if (!g || g->state != GroupState::kPreparingRebalance || g->generation != generation) return;
    std::vector<std::string> missing;
    for (const auto& [member_id, m] : g->members) {
      if (!m.awaiting_join) missing.push_back(member_id);
    }
    for (const auto& member_id : missing) {
      spdlog::info("group {}: member {} did not rejoin within the rebalance timeout", id, member_id);
      auto instance = g->members.at(member_id).group_instance_id;
      g->members.erase(member_id);
      g->join_order.erase(std::remove(g->join_order.begin(), g->join_order.end(), member_id), g->join_order.end());
      if (instance) g->static_members.erase(*instance);
    }
    g->pending_members.clear();
    complete_join(*g);
  });
}

void GroupCoordinator::try_complete_join(Group& group) {
  if (group.state != GroupState::kPreparingRebalance || group.initial_delay_running) return;
  bool everyone = std::all_of(group.members.begin(), group.members.end(),
                              [](const auto& entry) { return static_cast<bool>(entry.second.awaiting_join); });
  if (everyone && group.pending_members.empty()) complete_join(group);
}

std::optional<std::string> GroupCoordinator::select_protocol(const Group& group) const {
  if (group.members.empty()) return std::nullopt;
  // Candidates: protocols every member supports. Each member votes for the first candidate in its own order.
  std::vector<std::string> candidates;
  const Member& first = group.members.at(group.join_order.front());
  for (const auto& protocol : first.protocols) {
    const std::string& name = protocol.first;
    bool everyone = std::all_of(group.members.begin(), group.members.end(),
                                [&](const auto& entry) { return entry.second.metadata_for(name) != nullptr; });
    if (everyone) candidates.push_back(name);
  }
  if (candidates.empty()) return std::nullopt;
  std::map<std::string, int> votes;
  for (const auto& [id, m] : group.members) {
    for (const auto& [name, metadata] : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        ++votes[name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const auto& name : candidates) {
    if (votes[name] > votes[best]) best = name;
  }
  return best;
}

void GroupCoordinator::complete_join(Group& group) {
  group.join_timer.reset();
  group.initial_delay_running = false;
  ++group.generation;
  ++group.rebalances;
  for (auto& [id, m] : group.members) m.assignment.clear();
  if (group.members.empty()) {
    group.protocol_name.reset();
    group.protocol_type.reset();
    group.leader.reset();
    set_state(group, GroupState::kEmpty);
    spdlog::info("group {}: generation {} has no members", group.id, group.generation);
    store_group(group, [](ErrorCode) {});
    return;
  }
  group.protocol_name = select_protocol(group);
  if (!group.leader || !group.members.count(*group.leader)) group.leader = group.join_order.front();
  set_state(group, GroupState::kCompletingRebalance);
  spdlog::info("group {}: generation {} with {} members, protocol {}, leader {}", group.id, group.generation,
               group.members.size(), group.protocol_name.value_or("-"), *group.leader);
  for (auto& [id, m] : group.members) {
    m.is_new = false;
    m.last_heartbeat_ms = clock_.monotonic_ms();
    auto callback = std::move(m.awaiting_join);
    m.awaiting_join = nullptr;
    if (callback) callback(current_join_result(group, m));
  }
}

void GroupCoordinator::reset_and_propagate_sync_error(Group& group, ErrorCode error) {
  for (auto& [id, m] : group.members) {
    m.assignment.clear();
    if (m.awaiting_sync) {
      auto callback = std::move(m.awaiting_sync);
      m.awaiting_sync = nullptr;
      SyncResult result;
      result.error = error;
      callback(std::move(result));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// SyncGroup

void GroupCoordinator::sync(SyncRequest request, SyncCallback done) {
  auto fail = [&](ErrorCode error) {
    SyncResult result;
    result.error = error;
    done(std::move(result));
  };
  if (auto error = coordinator_error(request.group_id); error != ErrorCode::kNone) return fail(error);
  Group* group = find(request.group_id);
  if (!group || group->state == GroupState::kDead) return fail(ErrorCode::kUnknownMemberId);
  if (group->consumer) {
    if (group->consumer->empty()) return fail(ErrorCode::kUnknownMemberId);
    return sync_consumer_group(*group, request, std::move(done));
  }
  Member* member = group->find(request.member_id);
  if (request.group_instance_id) {
    auto known = group->static_members.find(*request.group_instance_id);
    if (known != group->static_members.end() && known->second != request.member_id)
      return fail(ErrorCode::kFencedInstanceId);
  }
  if (!member) return fail(ErrorCode::kUnknownMemberId);
  if (request.generation != group->generation) return fail(ErrorCode::kIllegalGeneration);
  if ((request.protocol_type && request.protocol_type != group->protocol_type) ||
      (request.protocol_name && request.protocol_name != group->protocol_name)) {
    return fail(ErrorCode::kInconsistentGroupProtocol);
  }
  switch (group->state) {
    case GroupState::kEmpty:
    case GroupState::kDead:
      return fail(ErrorCode::kUnknownMemberId);
    case GroupState::kPreparingRebalance:
      return fail(ErrorCode::kRebalanceInProgress);
    case GroupState::kStable: {
      SyncResult result;
      result.protocol_type = group->protocol_type;
      result.protocol_name = group->protocol_name;
      result.assignment = member->assignment;
      member->last_heartbeat_ms = clock_.monotonic_ms();
      done(std::move(result));
      return;
    }
    case GroupState::kCompletingRebalance:
      break;
  }
  member->last_heartbeat_ms = clock_.monotonic_ms();
  member->awaiting_sync = std::move(done);
  if (group->leader != member->member_id) return;

  std::map<std::string, protocol::Bytes> assignments;
  for (auto& [member_id, assignment] : request.assignments) assignments[member_id] = std::move(assignment);
  // The assignment is made durable with the group before anyone receives it: a coordinator restart then hands
  // out the same assignment instead of one nobody else knows of.
  for (auto& [id, m] : group->members) {
    auto it = assignments.find(id);
    m.assignment = it == assignments.end() ? protocol::Bytes{} : it->second;
  }
  auto alive = alive_;
  std::string id = group->id;
  int32_t generation = group->generation;
  store_group(*group, [this, alive, id, generation, assignments](ErrorCode error) {
    if (!*alive) return;
    Group* g = find(id);
    if (!g || g->state != GroupState::kCompletingRebalance || g->generation != generation) return;
    if (error != ErrorCode::kNone) {
      reset_and_propagate_sync_error(*g, ErrorCode::kCoordinatorNotAvailable);
      prepare_rebalance(*g, "the group could not be stored");
      return;
    }
    finish_sync(*g, assignments);
  });
}

void GroupCoordinator::finish_sync(Group& group, const std::map<std::string, protocol::Bytes>& assignments) {
  set_state(group, GroupState::kStable);
  for (auto& [id, m] : group.members) {
    auto it = assignments.find(id);
    m.assignment = it == assignments.end() ? protocol::Bytes{} : it->second;
    if (m.awaiting_sync) {
      auto callback = std::move(m.awaiting_sync);
      m.awaiting_sync = nullptr;
      SyncResult result;
      result.protocol_type = group.protocol_type;
      result.protocol_name = group.protocol_name;
      result.assignment = m.assignment;
      callback(std::move(result));
    }
  }
  spdlog::info("group {}: generation {} is stable", group.id, group.generation);
}

// ---------------------------------------------------------------------------------------------------------------
// Heartbeat and LeaveGroup

ErrorCode GroupCoordinator::heartbeat(const std::string& group_id, int32_t generation, const std::string& member_id,
                                      const std::optional<std::string>& group_instance_id) {
  if (auto error = coordinator_error(group_id); error != ErrorCode::kNone) return error;
  Group* group = find(group_id);
  if (!group || group->state == GroupState::kDead) return ErrorCode::kUnknownMemberId;
  if (group->consumer) {
    if (group->consumer->empty()) return ErrorCode::kUnknownMemberId;
    return group->consumer->classic_heartbeat(member_id, group_instance_id, generation, clock_.monotonic_ms());
  }
  if (group_instance_id) {
    auto known = group->static_members.find(*group_instance_id);
    if (known != group->static_members.end() && known->second != member_id) return ErrorCode::kFencedInstanceId;
  }
  Member* member = group->find(member_id);
  if (!member || group->state == GroupState::kEmpty) return ErrorCode::kUnknownMemberId;
  if (generation != group->generation) return ErrorCode::kIllegalGeneration;
  member->last_heartbeat_ms = clock_.monotonic_ms();
  // The heartbeat is how members learn that a rebalance started: they answer by rejoining.
  if (group->state == GroupState::kPreparingRebalance) return ErrorCode::kRebalanceInProgress;
  return ErrorCode::kNone;
}

std::pair<ErrorCode, std::vector<ErrorCode>> GroupCoordinator::leave(const std::string& group_id,
                                                                     const std::vector<LeavingMember>& members) {
  if (auto error = coordinator_error(group_id); error != ErrorCode::kNone) {
    return {error, std::vector<ErrorCode>(members.size(), error)};
  }
  Group* group = find(group_id);
  if (!group || group->state == GroupState::kDead) {
    return {ErrorCode::kUnknownMemberId, std::vector<ErrorCode>(members.size(), ErrorCode::kUnknownMemberId)};
  }
  if (group->consumer) return {ErrorCode::kNone, leave_consumer_group(*group, members)};
  std::vector<ErrorCode> errors;
  for (const auto& leaving : members) {
    std::string member_id = leaving.member_id;
    if (leaving.group_instance_id) {
      auto known = group->static_members.find(*leaving.group_instance_id);
      if (known == group->static_members.end()) {
        errors.push_back(ErrorCode::kUnknownMemberId);
        continue;
      }
      if (!member_id.empty() && member_id != known->second) {
        errors.push_back(ErrorCode::kFencedInstanceId);
        continue;
      }
      member_id = known->second;
    }
    if (group->pending_members.erase(member_id)) {
      errors.push_back(ErrorCode::kNone);
      try_complete_join(*group);
      continue;
    }
    if (!group->find(member_id)) {
      errors.push_back(ErrorCode::kUnknownMemberId);
      continue;
    }
    spdlog::info("group {}: member {} leaves", group->id, member_id);
    remove_member(*group, member_id);
    errors.push_back(ErrorCode::kNone);
  }
  return {ErrorCode::kNone, errors};
}

// ---------------------------------------------------------------------------------------------------------------
// Session expiry

void GroupCoordinator::schedule_sweep() {
  auto alive = alive_;
  sweep_timer_ = scheduler_.schedule_after(settings_.sweep_interval_ms, [this, alive] {
    if (!*alive) return;
    sweep();
    schedule_sweep();
  });
}

void GroupCoordinator::sweep() {
  const int64_t now = clock_.monotonic_ms();
  for (auto& [group_id, group] : groups_) {
    // A group still being read back is not whole yet: its members get their session once it is loaded.
    if (loading_.count(partition_for(group_id))) continue;
    if (group->consumer) {
      expire_consumer_members(*group, now);
      continue;
    }
    for (auto it = group->pending_members.begin(); it != group->pending_members.end();) {
      if (it->second <= now) {
        it = group->pending_members.erase(it);
        try_complete_join(*group);
      } else {
        ++it;
      }
    }
    std::vector<std::string> expired;
    for (const auto& [member_id, m] : group->members) {
      // A member waiting for its join or sync answer is alive by definition: the coordinator is what it waits
      // for. A new member whose first join never completed (its client went away meanwhile) is dropped after
      // five minutes, as Kafka does.
      if (m.awaiting_sync) continue;
      if (m.awaiting_join) {
        if (m.is_new && m.last_heartbeat_ms + kNewMemberJoinTimeoutMs <= now) expired.push_back(member_id);
        continue;
      }
      if (m.last_heartbeat_ms + m.session_timeout_ms <= now) expired.push_back(member_id);
    }
    for (const auto& member_id : expired) {
      spdlog::info("group {}: member {} expired after its session timeout", group_id, member_id);
      remove_member(*group, member_id);
    }
  }
}

}  // namespace fjord::coordinator
