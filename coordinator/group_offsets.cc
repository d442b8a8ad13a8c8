// Committed offsets, listing, describing and deleting groups, and the group records in __consumer_offsets:
// writing them, reading them back when a partition is taken on, and expiring old offsets.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <set>

#include "coordinator/consumer_group_records.h"
#include "coordinator/consumer_protocol.h"
#include "coordinator/group_coordinator.h"

namespace fjord::coordinator {

int32_t GroupCoordinator::partition_for(const std::string& group_id) const {
  return offsets_partition_for(group_id, log_.partition_count());
}

StoredGroup GroupCoordinator::stored(const Group& group) const {
  StoredGroup s;
  s.protocol_type = group.protocol_type.value_or("");
  s.generation = group.generation;
  s.protocol = group.protocol_name;
  s.leader = group.leader;
  s.current_state_timestamp_ms = group.state_timestamp_ms;
  for (const auto& id : group.join_order) {
    const Member& m = group.members.at(id);
    StoredMember sm;
    sm.member_id = m.member_id;
    sm.group_instance_id = m.group_instance_id;
    sm.client_id = m.client_id;
    sm.client_host = m.client_host;
    sm.rebalance_timeout_ms = m.rebalance_timeout_ms;
    sm.session_timeout_ms = m.session_timeout_ms;
    if (group.protocol_name) {
      if (const auto* metadata = m.metadata_for(*group.protocol_name)) sm.subscription = *metadata;
    }
    sm.assignment = m.assignment;
    s.members.push_back(std::move(sm));
  }
  return s;
}

void GroupCoordinator::store_group(Group& group, std::function<void(ErrorCode)> done) {
  std::vector<StateLog::Entry> entries;
  entries.push_back({encode_key(GroupKey{group.id}), encode_group(stored(group))});
  log_.append(partition_for(group.id), std::move(entries), std::move(done));
}

// ---------------------------------------------------------------------------------------------------------------
// OffsetCommit and OffsetFetch

ErrorCode GroupCoordinator::check_commit(const CommitRequest& request, Group*& group, bool transactional) {
  if (request.group_id.empty()) return ErrorCode::kInvalidGroupId;
  if (auto error = coordinator_error(request.group_id); error != ErrorCode::kNone) return error;
  group = find(request.group_id);
  if (!group) {
    // Consumers that assign partitions themselves (no membership) commit with generation -1: the group exists
    // only to hold their offsets.
    if (request.generation >= 0) return ErrorCode::kIllegalGeneration;
    group = &find_or_create(request.group_id);
    return ErrorCode::kNone;
  }
  if (group->state == GroupState::kDead) return ErrorCode::kCoordinatorNotAvailable;
  if (request.group_instance_id) {
    auto known = group->static_members.find(*request.group_instance_id);
    if (known != group->static_members.end() && known->second != request.member_id) {
      return ErrorCode::kFencedInstanceId;
    }
  }
  if (transactional) {
    // TxnOffsetCommit (as Kafka checks it): the member only when named, the generation only when given.
    Member* member = request.member_id.empty() ? nullptr : group->find(request.member_id);
    if (!request.member_id.empty() && !member) return ErrorCode::kUnknownMemberId;
    if (request.generation >= 0 && request.generation != group->generation) return ErrorCode::kIllegalGeneration;
    return ErrorCode::kNone;
  }
  if (group->consumer) {
    // The consumer protocol: a member commits at its epoch (or an older one, for partitions it has held since);
    // with no member named, only while the group has no members (an admin's commit).
    if (request.generation < 0 && request.member_id.empty() && group->consumer->empty()) return ErrorCode::kNone;
    std::vector<std::pair<consumer::TopicId, int32_t>> partitions;
    partitions.reserve(request.offsets.size());
    for (const auto& o : request.offsets) {
      auto topic = topic_catalog().by_name(o.topic);
      // A topic the cluster does not know is held by nobody: the zero id matches no assignment.
      partitions.emplace_back(topic ? topic->id : consumer::TopicId{}, o.partition);
    }
    return group->consumer->check_commit_epoch(request.member_id, request.generation, partitions);
  }
  if (!(request.generation < 0 && group->state == GroupState::kEmpty)) {
    if (group->state == GroupState::kCompletingRebalance) return ErrorCode::kRebalanceInProgress;
    Member* member = group->find(request.member_id);
    if (!member) return ErrorCode::kUnknownMemberId;
    if (request.generation != group->generation) return ErrorCode::kIllegalGeneration;
    member->last_heartbeat_ms = clock_.monotonic_ms();
  }
  return ErrorCode::kNone;
}

void GroupCoordinator::commit(CommitRequest request, std::function<void(std::vector<ErrorCode>)> done) {
  const size_t n = request.offsets.size();
  auto all = [&](ErrorCode error) { done(std::vector<ErrorCode>(n, error)); };
  Group* group = nullptr;
  if (auto error = check_commit(request, group, false); error != ErrorCode::kNone) return all(error);

  std::vector<ErrorCode> errors(n, ErrorCode::kNone);
  std::vector<StateLog::Entry> entries;
  auto accepted = std::make_shared<std::vector<std::pair<size_t, CommittedOffset>>>();
  const int64_t now = clock_.now_ms();
  for (size_t i = 0; i < n; ++i) {
    const auto& o = request.offsets[i];
    if (o.metadata && static_cast<int64_t>(o.metadata->size()) > settings_.max_metadata_bytes) {
      errors[i] = ErrorCode::kOffsetMetadataTooLarge;
      continue;
    }
    CommittedOffset value{o.offset, o.leader_epoch, o.metadata.value_or(""), now, -1};
    entries.push_back({encode_key(OffsetKey{request.group_id, o.topic, o.partition}), encode_offset(value)});
    accepted->emplace_back(i, std::move(value));
  }
  if (entries.empty()) return done(std::move(errors));
  auto alive = alive_;
  auto offsets = std::make_shared<std::vector<PartitionOffset>>(std::move(request.offsets));
  log_.append(partition_for(request.group_id), std::move(entries),
              [this, alive, group_id = request.group_id, accepted, offsets, errors,
               done = std::move(done)](ErrorCode error) mutable {
                if (!*alive) return;
                if (error != ErrorCode::kNone) {
                  for (const auto& [i, value] : *accepted) errors[i] = ErrorCode::kCoordinatorNotAvailable;
                  done(std::move(errors));
                  return;
                }
                // The offsets become visible once durable; a group deleted meanwhile is recreated to hold them,
                // as replaying the log would.
                Group& g = find_or_create(group_id);
                for (const auto& [i, value] : *accepted) {
                  const auto& o = (*offsets)[i];
                  g.offsets[{o.topic, o.partition}] = value;
                  ++g.offsets_committed;
                }
                done(std::move(errors));
              });
}

void GroupCoordinator::commit_transactional(CommitRequest request, int64_t producer_id, int16_t producer_epoch,
                                            std::function<void(std::vector<ErrorCode>)> done) {
  const size_t n = request.offsets.size();
  auto all = [&](ErrorCode error) { done(std::vector<ErrorCode>(n, error)); };
  Group* group = nullptr;
  if (auto error = check_commit(request, group, true); error != ErrorCode::kNone) return all(error);
  std::vector<ErrorCode> errors(n, ErrorCode::kNone);
  std::vector<StateLog::Entry> entries;
  auto accepted = std::make_shared<std::vector<std::pair<std::pair<std::string, int32_t>, CommittedOffset>>>();
  const int64_t now = clock_.now_ms();
  for (size_t i = 0; i < n; ++i) {
    const auto& o = request.offsets[i];
    if (o.metadata && static_cast<int64_t>(o.metadata->size()) > settings_.max_metadata_bytes) {
      errors[i] = ErrorCode::kOffsetMetadataTooLarge;
      continue;
    }
    CommittedOffset value{o.offset, o.leader_epoch, o.metadata.value_or(""), now, -1};
    entries.push_back({encode_key(OffsetKey{request.group_id, o.topic, o.partition}), encode_offset(value)});
    accepted->emplace_back(std::make_pair(o.topic, o.partition), std::move(value));
  }
  if (entries.empty()) return done(std::move(errors));
  // Pending from the moment the records are in the log, in log order: the transaction's marker, which the log
  // can only hold after them, must find them (waiting for durability first would let an abort that overtook the
  // acknowledgement leave them pending for the producer's next transaction to commit).
  auto& pending = group->transactional_offsets[producer_id];
  for (const auto& [key, value] : *accepted) pending[key] = value;
  log_.append_transactional(partition_for(request.group_id), producer_id, producer_epoch, std::move(entries),
                            [this, alive = alive_, group_id = request.group_id, producer_id, accepted, errors,
                             done = std::move(done)](ErrorCode error) mutable {
                              if (!*alive) return;
                              if (error == ErrorCode::kNone) return done(std::move(errors));
                              // Not written (or not acknowledged): what was registered goes, unless something replaced
                              // it since.
                              if (Group* g = find(group_id)) {
                                auto it = g->transactional_offsets.find(producer_id);
                                if (it != g->transactional_offsets.end()) {
                                  for (const auto& [key, value] : *accepted) {
                                    auto at = it->second.find(key);
                                    if (at != it->second.end() && at->second == value) it->second.erase(at);
                                  }
                                  if (it->second.empty()) g->transactional_offsets.erase(it);
                                }
                              }
                              // A fenced producer is told so; anything else, as for commit(), sends the client to the
                              // coordinator.
                              const ErrorCode mapped = error == ErrorCode::kInvalidProducerEpoch
                                                           ? ErrorCode::kProducerFenced
                                                           : ErrorCode::kCoordinatorNotAvailable;
                              for (auto& e : errors) {
                                if (e == ErrorCode::kNone) e = mapped;
                              }
                              done(std::move(errors));
                            });
}

void GroupCoordinator::complete_transaction(int32_t partition, int64_t producer_id, bool commit) {
  if (loading_.count(partition)) {
    // Written after the load began, so past what it reads: applied once the load has read what it ends.
    completed_while_loading_[partition].emplace_back(producer_id, commit);
    return;
  }
  end_transaction_offsets(partition, producer_id, commit);
}

void GroupCoordinator::end_transaction_offsets(int32_t partition, int64_t producer_id, bool commit) {
  for (auto& [id, group] : groups_) {
    if (partition_for(id) != partition) continue;
    auto it = group->transactional_offsets.find(producer_id);
    if (it == group->transactional_offsets.end()) continue;
    if (commit) {
      for (auto& [key, value] : it->second) group->offsets[key] = std::move(value);
      group->offsets_committed += it->second.size();
    }
    group->transactional_offsets.erase(it);
  }
}

std::vector<FetchedOffset> GroupCoordinator::fetch(
    const std::string& group_id, const std::optional<std::vector<std::pair<std::string, int32_t>>>& partitions,
    bool require_stable) const {
  std::vector<FetchedOffset> out;
  const Group* group = find(group_id);
  if (!partitions) {
    if (!group) return out;
    for (const auto& [key, value] : group->offsets) {
      out.push_back({key.first, key.second, value.offset, value.leader_epoch, value.metadata, ErrorCode::kNone,
                     value.commit_timestamp_ms});
    }
    return out;
  }
  for (const auto& [topic, partition] : *partitions) {
    FetchedOffset f{topic, partition, -1, -1, std::string(), ErrorCode::kNone};
    if (group && require_stable) {
      for (const auto& [producer, pending] : group->transactional_offsets) {
        if (pending.count({topic, partition})) f.error = ErrorCode::kUnstableOffsetCommit;
      }
    }
    if (group) {
      auto it = group->offsets.find({topic, partition});
      if (it != group->offsets.end()) {
        f.offset = it->second.offset;
        f.leader_epoch = it->second.leader_epoch;
        f.metadata = it->second.metadata;
        f.commit_timestamp_ms = it->second.commit_timestamp_ms;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

void GroupCoordinator::delete_offsets(const std::string& group_id,
                                      const std::vector<std::pair<std::string, int32_t>>& partitions,
                                      std::function<void(ErrorCode, std::vector<ErrorCode>)> done) {
  if (auto error = coordinator_error(group_id); error != ErrorCode::kNone) {
    done(error, std::vector<ErrorCode>(partitions.size(), ErrorCode::kNone));
    return;
  }
  Group* group = find(group_id);
  if (!group || group->state == GroupState::kDead) {
    done(ErrorCode::kGroupIdNotFound, std::vector<ErrorCode>(partitions.size(), ErrorCode::kNone));
    return;
  }
  // An active consumer group keeps the offsets of topics it subscribes to: deleting them under a running
  // consumer would make it restart from its reset policy.
  std::set<std::string> subscribed;
  if (group->state != GroupState::kEmpty && group->protocol_type == "consumer" && group->protocol_name) {
    for (const auto& [id, m] : group->members) {
      const auto* metadata = m.metadata_for(*group->protocol_name);
      if (!metadata) continue;
      if (auto topics = parse_subscription_topics(*metadata)) subscribed.insert(topics->begin(), topics->end());
    }
  }
  if (group->consumer && !group->consumer->empty()) {
    for (const auto& [id, topic] : group->consumer->subscribed_topics()) subscribed.insert(topic.name);
  }
  std::vector<ErrorCode> errors(partitions.size(), ErrorCode::kNone);
  std::vector<StateLog::Entry> entries;
  std::vector<std::pair<std::string, int32_t>> removed;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto& [topic, partition] = partitions[i];
    if (subscribed.count(topic)) {
      errors[i] = ErrorCode::kGroupSubscribedToTopic;
      continue;
    }
    if (!group->offsets.count({topic, partition})) continue;
    entries.push_back({encode_key(OffsetKey{group_id, topic, partition}), std::nullopt});
    removed.emplace_back(topic, partition);
  }
  if (entries.empty()) {
    done(ErrorCode::kNone, std::move(errors));
    return;
  }
  auto alive = alive_;
  log_.append(partition_for(group_id), std::move(entries),
              [this, alive, group_id, removed, errors, done = std::move(done)](ErrorCode error) mutable {
                if (!*alive) return;
                if (error != ErrorCode::kNone) {
                  done(ErrorCode::kCoordinatorNotAvailable, std::move(errors));
                  return;
                }
                if (Group* g = find(group_id)) {
                  for (const auto& key : removed) g->offsets.erase(key);
                }
                done(ErrorCode::kNone, std::move(errors));
              });
}

// ---------------------------------------------------------------------------------------------------------------
// ListGroups, DescribeGroups, DeleteGroups

std::vector<GroupListing> GroupCoordinator::list() const {
  std::vector<GroupListing> out;
  for (const auto& [id, group] : groups_) {
    if (group->state == GroupState::kDead) continue;
    if (group->consumer) {
      out.push_back({id, "consumer", consumer::consumer_group_state_name(group->consumer->state()), "consumer",
                     group->offsets_committed, group->consumer->members().size(),
                     static_cast<uint64_t>(group->consumer->group_epoch())});
      continue;
    }
    out.push_back({id, group->protocol_type.value_or(""), state_name(group->state), "classic", group->offsets_committed,
                   group->members.size(), group->rebalances});
  }
  return out;
}

GroupDescription GroupCoordinator::describe(const std::string& group_id) const {
  GroupDescription d;
  d.group_id = group_id;
  if (auto error = coordinator_error(group_id); error != ErrorCode::kNone) {
    d.error = error;
    return d;
  }
  const Group* group = find(group_id);
  if (!group) {
    d.error = ErrorCode::kGroupIdNotFound;
    return d;
  }
  d.state = group->state;
  d.state_name = state_name(group->state);
  if (group->consumer) return describe_consumer_group(*group);
  d.protocol_type = group->protocol_type.value_or("");
  // Member metadata and assignments are only meaningful once a generation is settled.
  const bool stable = group->state == GroupState::kStable;
  d.protocol_name = stable ? group->protocol_name.value_or("") : "";
  for (const auto& id : group->join_order) {
    const Member& m = group->members.at(id);
    MemberDescription md{m.member_id, m.group_instance_id, m.client_id, m.client_host, {}, {}};
    if (stable && group->protocol_name) {
      if (const auto* metadata = m.metadata_for(*group->protocol_name)) md.metadata = *metadata;
      md.assignment = m.assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

void GroupCoordinator::delete_groups(const std::vector<std::string>& group_ids,
                                     std::function<void(std::vector<ErrorCode>)> done) {
  struct Pending {
    std::vector<ErrorCode> errors;
    size_t waiting = 0;
    std::function<void(std::vector<ErrorCode>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->errors.assign(group_ids.size(), ErrorCode::kNone);
  pending->done = std::move(done);
  std::vector<std::pair<size_t, std::vector<StateLog::Entry>>> writes;
  for (size_t i = 0; i < group_ids.size(); ++i) {
    if (auto error = coordinator_error(group_ids[i]); error != ErrorCode::kNone) {
      pending->errors[i] = error;
      continue;
    }
    Group* group = find(group_ids[i]);
    if (!group || group->state == GroupState::kDead) {
      pending->errors[i] = ErrorCode::kGroupIdNotFound;
      continue;
    }
    if (group->state != GroupState::kEmpty || group->has_members()) {
      pending->errors[i] = ErrorCode::kNonEmptyGroup;
      continue;
    }
    std::vector<StateLog::Entry> entries;
    for (const auto& [key, value] : group->offsets) {
      entries.push_back({encode_key(OffsetKey{group->id, key.first, key.second}), std::nullopt});
    }
    entries.push_back({encode_key(GroupKey{group->id}), std::nullopt});
    if (group->consumer) {
      for (const auto& record : group->consumer->take_tombstones())
        entries.push_back(encode_consumer_record(group->id, record));
    }
    // Dead until the tombstones are durable: nobody joins or commits into a group being deleted.
    set_state(*group, GroupState::kDead);
    writes.emplace_back(i, std::move(entries));
  }
  if (writes.empty()) {
    pending->done(std::move(pending->errors));
    return;
  }
  pending->waiting = writes.size();
  auto alive = alive_;
  for (auto& write : writes) {
    const size_t i = write.first;
    auto& entries = write.second;
    std::string group_id = group_ids[i];
    log_.append(partition_for(group_id), std::move(entries), [this, alive, pending, i, group_id](ErrorCode error) {
      if (!*alive) return;
      if (error != ErrorCode::kNone) {
        pending->errors[i] = ErrorCode::kCoordinatorNotAvailable;
        if (Group* g = find(group_id)) set_state(*g, GroupState::kEmpty);
      } else {
        groups_.erase(group_id);
        spdlog::info("group {} deleted", group_id);
      }
      if (--pending->waiting == 0) pending->done(std::move(pending->errors));
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading and expiry

void GroupCoordinator::apply(const StateLog::Entry& entry, int32_t partition) {
  // A marker read back ends what its producer wrote before it, in log order: deferring it to the end of the load
  // (as a marker written during the load is) would let it also take, or drop, the offsets of the producer's
  // later transactions read meanwhile.
  if (entry.marker_commit) return end_transaction_offsets(partition, entry.producer_id, *entry.marker_commit);
  auto key = decode_key(entry.key);
  if (!key) return;
  if (const auto* offset_key = std::get_if<OffsetKey>(&*key)) {
    if (entry.producer_id >= 0 && entry.value) {
      // Part of a transaction: pending until its marker, which comes later in the same partition.
      if (auto value = decode_offset(*entry.value)) {
        find_or_create(offset_key->group)
            .transactional_offsets[entry.producer_id][{offset_key->topic, offset_key->partition}] = *value;
      }
      return;
    }
    if (!entry.value) {
      if (Group* g = find(offset_key->group)) g->offsets.erase({offset_key->topic, offset_key->partition});
      return;
    }
    auto value = decode_offset(*entry.value);
    if (!value) return;
    find_or_create(offset_key->group).offsets[{offset_key->topic, offset_key->partition}] = *value;
    return;
  }
  if (const auto* consumer_key = std::get_if<ConsumerGroupKey>(&*key)) {
    std::optional<std::span<const uint8_t>> value;
    if (entry.value) value = std::span<const uint8_t>(*entry.value);
    auto record = decode_consumer_record(*consumer_key, value);
    if (!record) return;
    Group& g = find_or_create(consumer_key->group);
    if (!g.consumer) {
      g.consumer = std::make_unique<consumer::ConsumerGroup>(consumer_key->group);
      g.protocol_type = "consumer";
    }
    g.consumer->replay(*record);
    return;
  }
  const auto& group_id = std::get<GroupKey>(*key).group;
  if (!entry.value) {
    // The classic group is gone: deleted (its offsets' tombstones came before) or become a consumer-protocol
    // group by an online upgrade, whose offsets stay.
    if (Group* g = find(group_id)) {
      g->members.clear();
      g->join_order.clear();
      g->static_members.clear();
      g->generation = 0;
      g->protocol_name.reset();
      g->leader.reset();
      if (!g->consumer) g->protocol_type.reset();
      if (!g->consumer && g->offsets.empty() && g->transactional_offsets.empty()) groups_.erase(group_id);
    }
    return;
  }
  auto value = decode_group(*entry.value);
  if (!value) return;
  Group& g = find_or_create(group_id);
  g.generation = value->generation;
  g.protocol_type = value->protocol_type.empty() ? std::nullopt : std::optional<std::string>(value->protocol_type);
  g.protocol_name = value->protocol;
  g.leader = value->leader;
  g.state_timestamp_ms = value->current_state_timestamp_ms;
  g.members.clear();
  g.join_order.clear();
  g.static_members.clear();
  for (const auto& sm : value->members) {
    Member& m = g.members[sm.member_id];
    m.member_id = sm.member_id;
    m.group_instance_id = sm.group_instance_id;
    m.client_id = sm.client_id;
    m.client_host = sm.client_host;
    m.rebalance_timeout_ms = sm.rebalance_timeout_ms;
    m.session_timeout_ms = sm.session_timeout_ms;
    m.protocol_type = value->protocol_type;
    if (value->protocol) m.protocols = {{*value->protocol, sm.subscription}};
    m.assignment = sm.assignment;
    g.join_order.push_back(sm.member_id);
    if (sm.group_instance_id) g.static_members[*sm.group_instance_id] = sm.member_id;
  }
  g.state = g.members.empty() ? GroupState::kEmpty : GroupState::kStable;
}

void GroupCoordinator::load() {
  serves_all_ = true;
  for (int32_t p = 0; p < log_.partition_count(); ++p) load_partition(p);
  start_timers();
}

void GroupCoordinator::serve_led_partitions() {
  serves_all_ = false;
  start_timers();
}

void GroupCoordinator::start_timers() {
  schedule_sweep();
  schedule_retention();
}

void GroupCoordinator::load_partition(int32_t partition) {
  unload_partition(partition);  // whatever was kept from an earlier lead is stale
  const uint64_t load = ++loads_started_;
  loading_[partition] = load;
  auto current = [this, alive = std::weak_ptr<bool>(alive_), partition, load] {
    auto still = alive.lock();
    if (!still || !*still) return false;
    auto it = loading_.find(partition);
    return it != loading_.end() && it->second == load;
  };
  log_.read_partition(
      partition,
      [this, current, partition](std::vector<StateLog::Entry> entries) {
        if (!current()) return;
        for (const auto& entry : entries) apply(entry, partition);
      },
      [this, current, partition](bool ok) {
        if (!current()) return;
        loading_.erase(partition);
        if (!ok) {
          // Its groups stay unserved (NOT_COORDINATOR): serving them without their history would lose commits.
          spdlog::error("cannot read {}-{} back; its groups are not coordinated here", kOffsetsTopic, partition);
          unload_partition(partition);
          return;
        }
        loaded_partitions_.insert(partition);
        auto completed = std::move(completed_while_loading_[partition]);
        completed_while_loading_.erase(partition);
        for (const auto& [producer_id, commit] : completed) complete_transaction(partition, producer_id, commit);
        // Restored members get a full session to come back (and heartbeat) before they expire.
        const int64_t now = clock_.monotonic_ms();
        size_t loaded = 0, offsets = 0;
        for (auto& [id, group] : groups_) {
          if (partition_for(id) != partition) continue;
          // A consumer-protocol group whose records were all deleted keeps only its offsets, if any.
          if (group->consumer && !group->consumer->restore(now, settings_.consumer, topic_catalog(), topic_matcher())) {
            group->consumer.reset();
          }
          // An empty consumer-protocol group with a classic group written after it (from before its records were
          // removed when it became classic) is the classic group.
          if (group->consumer && group->consumer->empty() && !group->members.empty()) group->consumer.reset();
          ++loaded;
          offsets += group->offsets.size();
          for (auto& [member_id, m] : group->members) m.last_heartbeat_ms = now;
        }
        if (loaded > 0) {
          spdlog::info("coordinating {} groups ({} committed offsets) of {}-{}", loaded, offsets, kOffsetsTopic,
                       partition);
        }
      });
}

void GroupCoordinator::unload_partition(int32_t partition) {
  loading_.erase(partition);
  completed_while_loading_.erase(partition);
  loaded_partitions_.erase(partition);
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (partition_for(it->first) == partition) {
      // Members waiting on a join or sync are answered, so that they look for the new coordinator now.
      fail_waiting_members(*it->second, ErrorCode::kNotCoordinator);
      it = groups_.erase(it);
    } else {
      ++it;
    }
  }
}

void GroupCoordinator::fail_waiting_members(Group& group, ErrorCode error) {
  for (auto& [id, m] : group.members) {
    if (m.awaiting_join) {
      auto callback = std::move(m.awaiting_join);
      m.awaiting_join = nullptr;
      JoinResult result;
      result.error = error;
      result.member_id = id;
      callback(std::move(result));
    }
    if (m.awaiting_sync) {
      auto callback = std::move(m.awaiting_sync);
      m.awaiting_sync = nullptr;
      SyncResult result;
      result.error = error;
      callback(std::move(result));
    }
  }
}

ErrorCode GroupCoordinator::coordinator_error(const std::string& group_id) const {
  const int32_t partition = partition_for(group_id);
  if (loading_.count(partition)) return ErrorCode::kCoordinatorLoadInProgress;
  if (serves_all_ || loaded_partitions_.count(partition)) return ErrorCode::kNone;
  return ErrorCode::kNotCoordinator;
}

void GroupCoordinator::schedule_retention() {
  auto alive = alive_;
  retention_timer_ = scheduler_.schedule_after(settings_.retention_check_interval_ms, [this, alive] {
    if (!*alive) return;
    expire_offsets();
    schedule_retention();
  });
}

void GroupCoordinator::expire_offsets() {
  const int64_t now = clock_.now_ms();
  struct Expiry {
    std::string group_id;
    std::vector<StateLog::Entry> entries;
    std::vector<std::pair<std::string, int32_t>> expired;
    bool whole_group;
  };
  // Collected first and written after: an append may complete at once, and its completion can remove a group.
  std::vector<Expiry> expiries;
  for (auto& [group_id, group] : groups_) {
    // A group still being read back may have newer commits to come: nothing of it expires before they are in.
    if (group->state != GroupState::kEmpty || group->has_members() || loading_.count(partition_for(group_id))) {
      continue;
    }
    Expiry e{group_id, {}, {}, false};
    for (const auto& [key, value] : group->offsets) {
      // A consumer group's offsets expire counted from when its last member left; a group without membership
      // (its consumers assign partitions themselves) counts from each commit.
      const bool had_members = group->generation > 0;
      int64_t since = had_members ? group->state_timestamp_ms : value.commit_timestamp_ms;
      if (since + settings_.offsets_retention_ms <= now) {
        e.entries.push_back({encode_key(OffsetKey{group_id, key.first, key.second}), std::nullopt});
        e.expired.push_back(key);
      }
    }
    if (e.entries.empty()) continue;
    e.whole_group = e.expired.size() == group->offsets.size();
    if (e.whole_group) {
      e.entries.push_back({encode_key(GroupKey{group_id}), std::nullopt});
      if (group->consumer) {
        for (const auto& record : group->consumer->take_tombstones())
          e.entries.push_back(encode_consumer_record(group_id, record));
      }
    }
    expiries.push_back(std::move(e));
  }
  auto alive = alive_;
  for (auto& e : expiries) {
    spdlog::info("group {}: {} committed offsets expired", e.group_id, e.expired.size());
    log_.append(partition_for(e.group_id), std::move(e.entries),
                [this, alive, id = e.group_id, expired = e.expired, whole = e.whole_group](ErrorCode error) {
                  if (!*alive || error != ErrorCode::kNone) return;
                  Group* g = find(id);
                  if (!g) return;
                  for (const auto& key : expired) g->offsets.erase(key);
                  if (whole && g->offsets.empty() && g->state == GroupState::kEmpty && !g->has_members())
                    groups_.erase(id);
                });
  }
}

}  // namespace fjord::coordinator
