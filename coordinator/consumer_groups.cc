// The consumer group protocol (KIP-848) in the coordinator: ConsumerGroupHeartbeat on a group's ConsumerGroup
// (coordinator/consumer_group/), member expiry, and what a group running it answers to the classic APIs.
// The classic protocol is in group_coordinator.cc; offsets, listing and loading in group_offsets.cc.
#include <spdlog/spdlog.h>

#include <random>

#include "coordinator/consumer_group_records.h"
#include "coordinator/consumer_protocol.h"
#include "coordinator/group_coordinator.h"

namespace fjord::coordinator {
namespace {

// Member ids the broker mints (ConsumerGroupHeartbeat v0): a random UUID in Kafka's printed form.
std::string random_member_id() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  protocol::Uuid id;
  for (size_t i = 0; i < id.bytes.size(); i += 8) {
    uint64_t word = random();
    for (size_t j = 0; j < 8; ++j) id.bytes[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  return id.to_string();
}

class NoTopics final : public consumer::TopicCatalog {
 public:
  std::optional<consumer::TopicMetadata> by_name(const std::string&) const override { return std::nullopt; }
  std::vector<consumer::TopicMetadata> all() const override { return {}; }
  uint64_t version() const override { return 0; }
};

}  // namespace

void GroupCoordinator::consumer_heartbeat(const std::string& group_id, consumer::HeartbeatRequest request,
                                          std::function<void(consumer::HeartbeatResult)> done) {
  auto fail = [&](ErrorCode error, std::string message) {
    consumer::HeartbeatResult result;
    result.error = error;
    result.error_message = std::move(message);
    done(std::move(result));
  };
  if (group_id.empty()) return fail(ErrorCode::kInvalidGroupId, "the group id is empty");
  if (auto error = coordinator_error(group_id); error != ErrorCode::kNone) return fail(error, "");
  if (request.subscribed_topic_regex && !request.subscribed_topic_regex->empty() &&
      !topic_regex_.valid(*request.subscribed_topic_regex)) {
    return fail(ErrorCode::kInvalidRegularExpression,
                "SubscribedTopicRegex is not a valid RE2 expression: " + *request.subscribed_topic_regex);
  }
  Group& group = find_or_create(group_id);
  if (group.state == GroupState::kDead) return fail(ErrorCode::kCoordinatorNotAvailable, "");
  // A classic group: with members, the first consumer-protocol member to join upgrades it (group_migration.cc);
  // an empty one simply changes protocol. Either way its classic record goes, in the same batch.
  std::vector<StateLog::Entry> written_first;
  if (!group.consumer) {
    if (!group.members.empty()) {
      if (request.member_epoch != 0)
        return fail(ErrorCode::kGroupIdNotFound, "Group " + group_id + " is not a consumer group");
      if (auto refused = upgrade_to_consumer_group(group, written_first)) {
        return fail(ErrorCode::kGroupIdNotFound, *refused);
      }
    } else {
      if (group.protocol_type) written_first.push_back({encode_key(GroupKey{group_id}), std::nullopt});
      group.consumer = std::make_unique<consumer::ConsumerGroup>(group_id);
      group.pending_members.clear();
      group.generation = 0;
      group.protocol_name.reset();
      group.leader.reset();
    }
    group.protocol_type = "consumer";
  }
  const bool had_consumer_members = group.consumer->has_consumer_members();
  const int32_t epoch_before = group.consumer->group_epoch();
  auto result = group.consumer->heartbeat(request, settings_.consumer, topic_catalog(), topic_matcher(),
                                          clock_.monotonic_ms(), random_member_id);
  // The last consumer-protocol member left a group of classic members: it becomes classic again.
  if (written_first.empty() && maybe_downgrade_to_classic(group, had_consumer_members, epoch_before,
                                                          [done, result](ErrorCode) { done(result); })) {
    return;
  }
  // What changed is written before the member hears of it: an assignment or epoch it acts on is never one a
  // restarted coordinator would not know.
  auto changes = group.consumer->take_changes();
  if (changes.empty() && written_first.empty()) return done(std::move(result));
  write_consumer_changes(
      group_id, std::move(changes),
      [done = std::move(done), result = std::move(result)](ErrorCode error) {
        if (error == ErrorCode::kNone) return done(result);
        consumer::HeartbeatResult failed;
        failed.error = ErrorCode::kCoordinatorNotAvailable;
        failed.error_message = "the group's state could not be written";
        done(std::move(failed));
      },
      std::move(written_first));
}

void GroupCoordinator::write_consumer_changes(const std::string& group_id,
                                              std::vector<consumer::ConsumerGroupRecord> changes,
                                              std::function<void(ErrorCode)> done,
                                              std::vector<StateLog::Entry> written_first) {
  std::vector<StateLog::Entry> entries = std::move(written_first);
  entries.reserve(entries.size() + changes.size());
  for (const auto& record : changes) entries.push_back(encode_consumer_record(group_id, record));
  log_.append(partition_for(group_id), std::move(entries),
              [this, alive = alive_, group_id, changes = std::move(changes), done = std::move(done)](ErrorCode error) {
                if (!*alive) return;
                if (error != ErrorCode::kNone) {
                  spdlog::warn("group {}: its state could not be written ({})", group_id, error_name(error));
                  // The group moved on in memory: its next records catch the log up with it.
                  if (Group* g = find(group_id); g && g->consumer) g->consumer->forget_written(changes);
                }
                done(error);
              });
}

const consumer::TopicCatalog& GroupCoordinator::topic_catalog() const {
  static const NoTopics no_topics;
  return catalog_ ? *catalog_ : no_topics;
}

consumer::RegexMatcher GroupCoordinator::topic_matcher() {
  return [this](const std::string& regex, const std::string& topic) { return topic_regex_.matches(regex, topic); };
}

const consumer::ConsumerGroup* GroupCoordinator::consumer_group(const std::string& group_id, ErrorCode* error) const {
  auto set = [&](ErrorCode e) {
    if (error) *error = e;
  };
  if (auto e = coordinator_error(group_id); e != ErrorCode::kNone) {
    set(e);
    return nullptr;
  }
  const Group* group = find(group_id);
  if (!group || group->state == GroupState::kDead) {
    set(ErrorCode::kGroupIdNotFound);
    return nullptr;
  }
  if (!group->consumer) {
    set(ErrorCode::kGroupIdNotFound);  // a classic group: ConsumerGroupDescribe does not describe it
    return nullptr;
  }
  set(ErrorCode::kNone);
  return group->consumer.get();
}

ErrorCode GroupCoordinator::check_consumer_member(const std::string& group_id, const std::string& member_id,
                                                  int32_t member_epoch) const {
  const Group* group = find(group_id);
  if (!group || !group->consumer) return ErrorCode::kNone;
  return group->consumer->check_member_epoch(member_id, member_epoch);
}

GroupDescription GroupCoordinator::describe_consumer_group(const Group& group) const {
  // Kafka answers DescribeGroups about such a group with GROUP_ID_NOT_FOUND; describing it instead lets tools
  // that know only the classic API (kcat, older clients, `fjord group describe`) see members and assignments.
  const consumer::ConsumerGroup& c = *group.consumer;
  GroupDescription d;
  d.group_id = group.id;
  d.state = c.empty() ? GroupState::kEmpty : GroupState::kStable;
  d.state_name = consumer::consumer_group_state_name(c.state());
  d.protocol_type = "consumer";
  d.protocol_name = c.assignor(settings_.consumer);
  for (const auto& [id, m] : c.members()) {
    std::vector<std::pair<std::string, std::vector<int32_t>>> assignment;
    for (const auto& [topic, partitions] : m.assignment.assigned) {
      auto known = c.subscribed_topics().find(topic);
      if (known == c.subscribed_topics().end()) continue;
      assignment.emplace_back(known->second.name, std::vector<int32_t>(partitions.begin(), partitions.end()));
    }
    d.members.push_back({id, m.instance_id, m.client_id, m.client_host, {}, encode_assignment(assignment)});
  }
  return d;
}

void GroupCoordinator::expire_consumer_members(Group& group, int64_t now_ms) {
  const bool had_consumer_members = group.consumer->has_consumer_members();
  const int32_t epoch_before = group.consumer->group_epoch();
  auto gone = group.consumer->expire(now_ms);
  if (gone.empty()) return;
  for (const auto& member_id : gone) {
    spdlog::info("group {}: member {} removed (session or rebalance timeout)", group.id, member_id);
  }
  if (maybe_downgrade_to_classic(group, had_consumer_members, epoch_before, [](ErrorCode) {})) return;
  write_consumer_changes(group.id, group.consumer->take_changes(), [](ErrorCode) {});
}

}  // namespace fjord::coordinator
