// Online migration between the classic protocol and the consumer protocol (KIP-848), as Kafka 4.x does it:
//   - upgrade: the first consumer-protocol member to join a classic group with members (of protocol type
//     "consumer") turns it into a consumer-protocol group; the classic members stay, at the generation they had,
//     owning what they were assigned, and the new member's arrival moves the group one epoch on;
//   - classic members in such a group keep speaking JoinGroup/SyncGroup/Heartbeat/LeaveGroup, answered from the
//     consumer group (consumer_group/consumer_group.h): the broker's assignor assigns them too;
//   - downgrade: when the last consumer-protocol member leaves (or expires) and classic members remain, the group
//     becomes classic again, each member assigned its target, and rebalances.
// Both conversions are one batch in __consumer_offsets: the tombstones of the group as it was, then the records
// of the group as it is. Committed offsets are separate records and stay as they are.
// group.consumer.migration.policy can forbid either direction; an empty group changes protocol either way.
#include <spdlog/spdlog.h>

#include "coordinator/consumer_group_records.h"
#include "coordinator/consumer_protocol.h"
#include "coordinator/group_coordinator.h"

namespace fjord::coordinator {

NamedAssignment GroupCoordinator::named(const consumer::ConsumerGroup& group,
                                        const consumer::Assignment& assignment) const {
  NamedAssignment out;
  for (const auto& [topic, partitions] : assignment) {
    auto known = group.subscribed_topics().find(topic);
    if (known == group.subscribed_topics().end()) continue;
    out.emplace_back(known->second.name, std::vector<int32_t>(partitions.begin(), partitions.end()));
  }
  return out;
}

consumer::Assignment GroupCoordinator::by_id(const NamedAssignment& assignment) const {
  consumer::Assignment out;
  for (const auto& [name, partitions] : assignment) {
    // A topic deleted since is owned by nobody.
    if (auto topic = topic_catalog().by_name(name)) out[topic->id].insert(partitions.begin(), partitions.end());
  }
  return out;
}

std::optional<std::string> GroupCoordinator::upgrade_to_consumer_group(Group& group,
                                                                       std::vector<StateLog::Entry>& written_first) {
  const std::string refused = "Group " + group.id + " is not a consumer group";
  if (!settings_.online_upgrade) {
    spdlog::info("group {}: not upgraded to the consumer protocol: group.consumer.migration.policy forbids it",
                 group.id);
    return refused;
  }
  if (group.protocol_type != "consumer") {
    spdlog::info("group {}: not upgraded to the consumer protocol: its protocol type is not consumer", group.id);
    return refused;
  }
  if (group.members.size() >= static_cast<size_t>(settings_.consumer.max_size)) {
    spdlog::info("group {}: not upgraded to the consumer protocol: it has group.consumer.max.size members", group.id);
    return refused;
  }
  std::vector<consumer::AdoptedMember> adopted;
  for (const auto& id : group.join_order) {
    const Member& m = group.members.at(id);
    const protocol::Bytes* metadata = group.protocol_name ? m.metadata_for(*group.protocol_name) : nullptr;
    if (!metadata && !m.protocols.empty()) metadata = &m.protocols.front().second;
    auto subscription = metadata ? parse_subscription(*metadata) : std::nullopt;
    auto assignment = parse_assignment(m.assignment);
    if (!subscription || !assignment) {
      return "Cannot upgrade the classic group " + group.id +
             " to consumer group because the embedded consumer protocol is malformed.";
    }
    consumer::AdoptedMember a;
    a.member_id = id;
    a.instance_id = m.group_instance_id;
    a.rack_id = subscription->rack_id;
    a.client_id = m.client_id;
    a.client_host = m.client_host;
    a.rebalance_timeout_ms = m.rebalance_timeout_ms;
    a.classic.session_timeout_ms = m.session_timeout_ms;
    for (const auto& [name, bytes] : m.protocols) a.classic.protocols.push_back({name, bytes});
    a.subscribed_topic_names = subscription->topics;
    a.assigned = by_id(*assignment);
    adopted.push_back(std::move(a));
  }
  // Members waiting for a join or sync answer look for their place in the new group.
  fail_waiting_members(group, ErrorCode::kRebalanceInProgress);
  const int32_t generation = group.generation;
  group.join_timer.reset();
  group.initial_delay_running = false;
  group.members.clear();
  group.join_order.clear();
  group.static_members.clear();
  group.pending_members.clear();
  group.leader.reset();
  group.protocol_name.reset();
  group.generation = 0;
  set_state(group, GroupState::kEmpty);
  written_first.push_back({encode_key(GroupKey{group.id}), std::nullopt});
  group.consumer = std::make_unique<consumer::ConsumerGroup>(group.id);
  group.consumer->adopt_classic_members(generation, std::move(adopted), topic_catalog(), topic_matcher(),
                                        clock_.monotonic_ms());
  spdlog::info("group {}: upgraded to the consumer protocol at epoch {} with {} classic members", group.id, generation,
               group.consumer->members().size());
  return std::nullopt;
}

bool GroupCoordinator::maybe_downgrade_to_classic(Group& group, bool had_consumer_members, int32_t epoch_before_leave,
                                                  std::function<void(ErrorCode)> written) {
  if (!had_consumer_members || !group.consumer || !group.consumer->all_classic()) return false;
  const consumer::ConsumerGroup& c = *group.consumer;
  if (!settings_.online_downgrade) {
    spdlog::info("group {}: only classic members remain; group.consumer.migration.policy keeps it a consumer group",
                 group.id);
    return false;
  }
  if (c.members().size() > static_cast<size_t>(settings_.max_group_size)) return false;
  const int64_t now = clock_.monotonic_ms();
  for (const auto& [id, cm] : c.members()) {
    Member m;
    m.member_id = id;
    m.group_instance_id = cm.instance_id;
    m.client_id = cm.client_id;
    m.client_host = cm.client_host;
    m.session_timeout_ms = cm.classic->session_timeout_ms;
    m.rebalance_timeout_ms = cm.rebalance_timeout_ms;
    m.protocol_type = "consumer";
    for (const auto& p : cm.classic->protocols) m.protocols.emplace_back(p.name, p.metadata);
    // What it is meant to own: the rebalance that follows starts from there.
    m.assignment = encode_assignment(named(c, c.target_of(id)));
    m.last_heartbeat_ms = now;
    group.join_order.push_back(id);
    if (m.group_instance_id) group.static_members[*m.group_instance_id] = id;
    group.members.emplace(id, std::move(m));
  }
  // The generation is the epoch from before the leave, which the classic members were reconciled to: their
  // commits during the rebalance that follows are still accepted (a classic group takes commits at its generation
  // while preparing a rebalance), instead of failing as a CommitFailedException in a Java client.
  group.generation = epoch_before_leave;
  group.protocol_type = "consumer";
  group.protocol_name = select_protocol(group);
  group.leader = group.join_order.front();
  std::vector<StateLog::Entry> entries;
  for (const auto& record : group.consumer->take_tombstones())
    entries.push_back(encode_consumer_record(group.id, record));
  group.consumer.reset();
  set_state(group, GroupState::kStable);
  entries.push_back({encode_key(GroupKey{group.id}), encode_group(stored(group))});
  spdlog::info("group {}: downgraded to the classic protocol at generation {} with {} members", group.id,
               group.generation, group.members.size());
  log_.append(partition_for(group.id), std::move(entries), [alive = alive_, id = group.id, written](ErrorCode error) {
    if (!*alive) return;
    if (error != ErrorCode::kNone)
      spdlog::warn("group {}: its downgrade could not be written ({})", id, error_name(error));
    written(error);
  });
  prepare_rebalance(group, "downgraded from the consumer protocol");
  return true;
}

void GroupCoordinator::join_consumer_group(Group& group, JoinRequest request, JoinCallback done) {
  auto fail = [&](ErrorCode error) {
    JoinResult result;
    result.error = error;
    result.member_id = request.member_id;
    done(std::move(result));
  };
  if (request.protocol_type != "consumer") return fail(ErrorCode::kInconsistentGroupProtocol);
  consumer::ClassicJoinRequest r;
  r.member_id_given = !request.member_id.empty();
  r.member_id = request.member_id;
  if (r.member_id.empty()) {
    r.member_id = new_member_id(request.group_instance_id.value_or(request.client_id));
    if (!request.group_instance_id && request.member_id_required) {
      // KIP-394 as for a classic group; the id is not reserved, the member is created by its next join.
      JoinResult result;
      result.error = ErrorCode::kMemberIdRequired;
      result.member_id = r.member_id;
      return done(std::move(result));
    }
  }
  // Every protocol's metadata carries the same subscription; the first is read.
  auto subscription = parse_subscription(request.protocols.front().second);
  if (!subscription) return fail(ErrorCode::kInconsistentGroupProtocol);
  r.instance_id = request.group_instance_id;
  r.rack_id = subscription->rack_id;
  r.rebalance_timeout_ms = request.rebalance_timeout_ms;
  r.classic.session_timeout_ms = request.session_timeout_ms;
  for (const auto& [name, bytes] : request.protocols) r.classic.protocols.push_back({name, bytes});
  r.subscribed_topic_names = subscription->topics;
  r.owned = by_id(subscription->owned);
  r.client_id = request.client_id;
  r.client_host = request.client_host;
  auto joined =
      group.consumer->classic_join(r, settings_.consumer, topic_catalog(), topic_matcher(), clock_.monotonic_ms());
  if (joined.error != ErrorCode::kNone) {
    spdlog::info("group {}: classic member {} refused: {}", group.id, r.member_id, joined.error_message);
    return fail(joined.error);
  }
  JoinResult result;
  result.generation = joined.generation;
  result.protocol_type = "consumer";
  result.protocol_name = joined.protocol_name;
  result.member_id = joined.member_id;
  // No leader: the broker assigns, and every classic member syncs as a follower.
  auto changes = group.consumer->take_changes();
  if (changes.empty()) return done(std::move(result));
  write_consumer_changes(group.id, std::move(changes),
                         [done = std::move(done), result = std::move(result)](ErrorCode error) {
                           if (error == ErrorCode::kNone) return done(result);
                           JoinResult failed;
                           failed.error = ErrorCode::kCoordinatorNotAvailable;
                           failed.member_id = result.member_id;
                           done(std::move(failed));
                         });
}

void GroupCoordinator::sync_consumer_group(Group& group, const SyncRequest& request, SyncCallback done) {
  SyncResult result;
  if (request.protocol_type && *request.protocol_type != "consumer") {
    result.error = ErrorCode::kInconsistentGroupProtocol;
    return done(std::move(result));
  }
  auto synced = group.consumer->classic_sync(request.member_id, request.group_instance_id, request.generation,
                                             request.protocol_name, clock_.monotonic_ms());
  result.error = synced.error;
  if (synced.error == ErrorCode::kNone) {
    result.protocol_type = "consumer";
    result.protocol_name = synced.protocol_name;
    result.assignment = encode_assignment(named(*group.consumer, synced.assignment));
  }
  done(std::move(result));
}

std::vector<ErrorCode> GroupCoordinator::leave_consumer_group(Group& group, const std::vector<LeavingMember>& members) {
  std::vector<ErrorCode> errors;
  for (const auto& leaving : members) {
    errors.push_back(group.consumer->classic_leave(leaving.member_id, leaving.group_instance_id));
    if (errors.back() == ErrorCode::kNone) {
      spdlog::info("group {}: classic member {} leaves", group.id,
                   leaving.member_id.empty() ? leaving.group_instance_id.value_or("") : leaving.member_id);
    }
  }
  auto changes = group.consumer->take_changes();
  if (!changes.empty()) write_consumer_changes(group.id, std::move(changes), [](ErrorCode) {});
  return errors;
}

}  // namespace fjord::coordinator
