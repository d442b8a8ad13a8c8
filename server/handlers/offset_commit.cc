// OffsetCommit: a consumer records how far it has processed. Members commit within their generation; consumers
// without membership commit with generation -1. Answered once the commit is durable in __consumer_offsets. From
// v10 a topic is named by its id: an id the cluster does not know answers UNKNOWN_TOPIC_ID.
#include "protocol/messages/offset_commit.h"

#include <memory>

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_offset_commit(RequestContext context) {
  auto request = context.decode<protocol::OffsetCommitRequest>();
  auto response = std::make_shared<protocol::OffsetCommitResponse>();
  coordinator::CommitRequest commit;
  commit.group_id = request.group_id;
  commit.generation = request.generation_id_or_member_epoch;
  commit.member_id = request.member_id;
  commit.group_instance_id = request.group_instance_id;
  // Where each committed offset's answer goes: (topic index, partition index) in the response.
  std::vector<std::pair<size_t, size_t>> slots;
  const auto& partitions = context.server().partitions;
  const bool by_id = context.version() >= 10;
  // READ on the group, and READ on each topic committed for.
  const bool may_use_group = context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id);
  for (const auto& t : request.topics) {
    auto& topic_out = response->topics.emplace_back();
    topic_out.name = t.name;
    topic_out.topic_id = t.topic_id;
    // Known to the cluster (this broker need not host it).
    const auto* topic = by_id ? partitions.topic_by_id(t.topic_id) : partitions.topic(t.name);
    const std::string topic_name = topic ? topic->name : t.name;
    const ErrorCode refused =
        !may_use_group ? ErrorCode::kGroupAuthorizationFailed
        : (topic || !by_id) && !context.authorized(AclOperation::kRead, AclResourceType::kTopic, topic_name)
            ? ErrorCode::kTopicAuthorizationFailed
            : ErrorCode::kNone;
    for (const auto& p : t.partitions) {
      auto& partition_out = topic_out.partitions.emplace_back();
      partition_out.partition_index = p.partition_index;
      if (refused != ErrorCode::kNone) {
        partition_out.error_code = wire(refused);
        continue;
      }
      if (!topic) {
        partition_out.error_code = wire(by_id ? ErrorCode::kUnknownTopicId : ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      if (p.partition_index < 0 || p.partition_index >= topic->partitions) {
        partition_out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      commit.offsets.push_back(
          {topic->name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.committed_metadata});
      slots.emplace_back(response->topics.size() - 1, topic_out.partitions.size() - 1);
    }
  }
  if (auto* activity = context.server().activity; activity && !commit.offsets.empty()) {
    activity->committed(context.client_identity(), request.group_id, request.member_id,
                        context.server().clock.now_ms());
  }
  // Nothing reaches the group without READ on it, not even an empty commit (which would create the group or
  // refresh a member).
  if (!may_use_group || (commit.offsets.empty() && !request.topics.empty())) {
    context.respond(*response);
    return;
  }
  context.server().groups.commit(std::move(commit), [context, response, slots](std::vector<ErrorCode> errors) {
    for (size_t i = 0; i < errors.size() && i < slots.size(); ++i) {
      response->topics[slots[i].first].partitions[slots[i].second].error_code = wire(errors[i]);
    }
    context.respond(*response);
  });
}

}  // namespace fjord::server
