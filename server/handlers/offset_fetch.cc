// OffsetFetch: where a group's consumers resume. An uncommitted partition answers offset -1 with no error; a
// request without topics (v2+) answers every committed offset of the group. v8+ asks for several groups at once.
// With require_stable (v7+, read_committed consumers) a partition whose offset an open transaction is about to
// change answers UNSTABLE_OFFSET_COMMIT, which clients retry, rather than the offset the transaction replaces.
// From v10 topics are named by id, both ways: an unknown id answers UNKNOWN_TOPIC_ID, and asking for everything
// leaves out offsets of topics that no longer exist (they have no id to give).
#include "protocol/messages/offset_fetch.h"

#include <map>

#include "server/handlers/registry.h"

namespace fjord::server {

namespace {

using PartitionList = std::vector<std::pair<std::string, int32_t>>;

// Fetched offsets grouped by topic, in the order they came.
std::vector<std::pair<std::string, std::vector<coordinator::FetchedOffset>>> by_topic(
    std::vector<coordinator::FetchedOffset> offsets) {
  std::vector<std::pair<std::string, std::vector<coordinator::FetchedOffset>>> out;
  std::map<std::string, size_t> index;
  for (auto& o : offsets) {
    auto [it, added] = index.emplace(o.topic, out.size());
    if (added) out.emplace_back(o.topic, std::vector<coordinator::FetchedOffset>{});
    out[it->second].second.push_back(std::move(o));
  }
  return out;
}

template <typename Topic>
std::optional<PartitionList> requested(const std::optional<std::vector<Topic>>& topics) {
  if (!topics) return std::nullopt;
  PartitionList list;
  for (const auto& t : *topics) {
    for (int32_t p : t.partition_indexes) list.emplace_back(t.name, p);
  }
  return list;
}

}  // namespace

namespace {

// Fills the response topics (classic or per-group form, which differ only in their type names) with the offsets;
// with `ids` (v10) each topic is named by its id as well, and one without an id is left out.
template <typename Topics>
void fill(Topics& topics_out, std::vector<coordinator::FetchedOffset> fetched,
          const cluster::PartitionManager* ids = nullptr) {
  for (auto& [topic, offsets] : by_topic(std::move(fetched))) {
    const cluster::TopicMetadata* metadata = ids ? ids->topic(topic) : nullptr;
    if (ids && !metadata) continue;
    auto& t = topics_out.emplace_back();
    t.name = topic;
    if constexpr (requires { t.topic_id; }) {
      if (metadata) t.topic_id = metadata->id;
    }
    for (const auto& o : offsets) {
      auto& p = t.partitions.emplace_back();
      p.partition_index = o.partition;
      p.committed_offset = o.offset;
      p.committed_leader_epoch = o.leader_epoch;
      p.metadata = o.metadata;
      p.error_code = wire(o.error);
    }
  }
}

}  // namespace

void handle_offset_fetch(RequestContext context) {
  auto request = context.decode<protocol::OffsetFetchRequest>();
  const auto& groups = context.server().groups;
  protocol::OffsetFetchResponse response;
  // DESCRIBE on the group first; then a topic the client may not describe is refused where it was named and left
  // out of an answer for everything.
  auto group_error = [&](const std::string& group) {
    if (!context.authorized(AclOperation::kDescribe, AclResourceType::kGroup, group)) {
      return ErrorCode::kGroupAuthorizationFailed;
    }
    return groups.coordinator_error(group);
  };
  auto screened = [&](std::vector<coordinator::FetchedOffset> offsets, bool named) {
    std::vector<coordinator::FetchedOffset> out;
    for (auto& o : offsets) {
      if (context.authorized(AclOperation::kDescribe, AclResourceType::kTopic, o.topic)) {
        out.push_back(std::move(o));
      } else if (named) {
        out.push_back({o.topic, o.partition, -1, -1, std::string(), ErrorCode::kTopicAuthorizationFailed});
      }
    }
    return out;
  };
  if (context.version() < 8) {
    if (auto error = group_error(request.group_id); error != ErrorCode::kNone) {
      // The request-level error exists from v2; v0-1 read it per partition.
      response.error_code = wire(error);
      std::vector<coordinator::FetchedOffset> refused;
      for (const auto& [topic, partition] : requested(request.topics).value_or(PartitionList{})) {
        refused.push_back({topic, partition, -1, -1, std::string(), error});
      }
      fill(response.topics, std::move(refused));
    } else {
      // Before v2 a request always names its topics; the codec gives them as present.
      fill(response.topics, screened(groups.fetch(request.group_id, requested(request.topics), request.require_stable),
                                     request.topics.has_value()));
    }
  } else {
    for (const auto& g : request.groups) {
      auto& group_out = response.groups.emplace_back();
      group_out.group_id = g.group_id;
      if (auto error = group_error(g.group_id); error != ErrorCode::kNone) {
        group_out.error_code = wire(error);
        continue;
      }
      // v9: a member of a consumer-protocol group reads at its current epoch (STALE_MEMBER_EPOCH otherwise).
      if (g.member_id) {
        if (auto error = groups.check_consumer_member(g.group_id, *g.member_id, g.member_epoch);
            error != ErrorCode::kNone) {
          group_out.error_code = wire(error);
          continue;
        }
      }
      if (context.version() < 10) {
        fill(group_out.topics,
             screened(groups.fetch(g.group_id, requested(g.topics), request.require_stable), g.topics.has_value()));
        continue;
      }
      // v10: ids become names for the coordinator; an id nobody knows is answered on its own.
      const auto& partitions = context.server().partitions;
      std::optional<PartitionList> wanted;
      std::vector<const protocol::OffsetFetchRequest::OffsetFetchRequestTopics*> unknown;
      if (g.topics) {
        wanted.emplace();
        for (const auto& t : *g.topics) {
          const auto* topic = partitions.topic_by_id(t.topic_id);
          if (!topic) {
            unknown.push_back(&t);
            continue;
          }
          for (int32_t p : t.partition_indexes) wanted->emplace_back(topic->name, p);
        }
      }
      fill(group_out.topics, screened(groups.fetch(g.group_id, wanted, request.require_stable), g.topics.has_value()),
           &partitions);
      for (const auto* t : unknown) {
        auto& topic_out = group_out.topics.emplace_back();
        topic_out.topic_id = t->topic_id;
        for (int32_t p : t->partition_indexes) {
          auto& partition_out = topic_out.partitions.emplace_back();
          partition_out.partition_index = p;
          partition_out.committed_offset = -1;
          partition_out.error_code = wire(ErrorCode::kUnknownTopicId);
        }
      }
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
