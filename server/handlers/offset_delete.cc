// OffsetDelete: removes a group's committed offsets for some partitions, unless an active member of the group
// subscribes to the topic.
#include "protocol/messages/offset_delete.h"

#include <memory>

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_offset_delete(RequestContext context) {
  auto request = context.decode<protocol::OffsetDeleteRequest>();
  auto response = std::make_shared<protocol::OffsetDeleteResponse>();
  // DELETE on the group, and READ on each topic whose offsets go.
  if (!context.authorized(AclOperation::kDelete, AclResourceType::kGroup, request.group_id)) {
    response->error_code = wire(ErrorCode::kGroupAuthorizationFailed);
    context.respond(*response);
    return;
  }
  std::vector<std::pair<std::string, int32_t>> partitions;
  std::vector<std::pair<size_t, size_t>> slots;
  for (const auto& t : request.topics) {
    auto& topic_out = response->topics.emplace_back();
    topic_out.name = t.name;
    const bool readable = context.authorized(AclOperation::kRead, AclResourceType::kTopic, t.name);
    for (const auto& p : t.partitions) {
      auto& partition_out = topic_out.partitions.emplace_back();
      partition_out.partition_index = p.partition_index;
      if (!readable) {
        partition_out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      if (!context.server().partitions.partition(t.name, p.partition_index)) {
        partition_out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      partitions.emplace_back(t.name, p.partition_index);
      slots.emplace_back(response->topics.size() - 1, topic_out.partitions.size() - 1);
    }
  }
  context.server().groups.delete_offsets(
      request.group_id, partitions, [context, response, slots](ErrorCode error, std::vector<ErrorCode> errors) {
        response->error_code = wire(error);
        if (error == ErrorCode::kNone) {
          for (size_t i = 0; i < errors.size(); ++i) {
            response->topics[slots[i].first].partitions[slots[i].second].error_code = wire(errors[i]);
          }
        } else {
          response->topics.clear();
        }
        context.respond(*response);
      });
}

}  // namespace fjord::server
