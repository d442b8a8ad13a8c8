// ConsumerGroupHeartbeat: a member of a consumer-protocol group (KIP-848) joins, heartbeats, leaves, and learns
// its assignment; the group's decisions are in coordinator/consumer_group/. v1 members choose their own id.
#include "protocol/messages/consumer_group_heartbeat.h"

#include "server/handlers/registry.h"

namespace fjord::server {
namespace {

using coordinator::consumer::Assignment;

Assignment from_wire(const std::vector<protocol::ConsumerGroupHeartbeatRequest::TopicPartitions>& topics) {
  Assignment out;
  for (const auto& t : topics) out[t.topic_id].insert(t.partitions.begin(), t.partitions.end());
  return out;
}

}  // namespace

void handle_consumer_group_heartbeat(RequestContext context) {
  auto request = context.decode<protocol::ConsumerGroupHeartbeatRequest>();
  auto respond_error = [&](ErrorCode error, std::string message) {
    protocol::ConsumerGroupHeartbeatResponse response;
    response.error_code = wire(error);
    response.error_message = std::move(message);
    context.respond(response);
  };
  if (context.version() >= 1 && request.member_id.empty()) {
    return respond_error(ErrorCode::kInvalidRequest, "MemberId can't be empty.");
  }
  // READ on the group, and DESCRIBE on every topic subscribed to by name: a member may not learn of topics it may
  // not see through the assignment.
  if (!context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id)) {
    return respond_error(ErrorCode::kGroupAuthorizationFailed, "Not authorized to access group " + request.group_id);
  }
  if (request.subscribed_topic_names) {
    for (const auto& topic : *request.subscribed_topic_names) {
      if (!context.authorized(AclOperation::kDescribe, AclResourceType::kTopic, topic)) {
        return respond_error(ErrorCode::kTopicAuthorizationFailed, "Not authorized to describe topic " + topic);
      }
    }
  }
  coordinator::consumer::HeartbeatRequest heartbeat;
  heartbeat.member_id = request.member_id;
  heartbeat.member_epoch = request.member_epoch;
  heartbeat.instance_id = request.instance_id;
  heartbeat.rack_id = request.rack_id;
  heartbeat.rebalance_timeout_ms = request.rebalance_timeout_ms;
  heartbeat.subscribed_topic_names = request.subscribed_topic_names;
  heartbeat.subscribed_topic_regex = request.subscribed_topic_regex;
  heartbeat.server_assignor = request.server_assignor;
  if (request.topic_partitions) heartbeat.owned = from_wire(*request.topic_partitions);
  heartbeat.client_id = context.client_id();
  heartbeat.client_host = context.client_host();
  if (auto* activity = context.server().activity)
    activity->seen(context.client_identity(), context.server().clock.now_ms());
  context.server().groups.consumer_heartbeat(request.group_id, std::move(heartbeat),
                                             [context](coordinator::consumer::HeartbeatResult result) {
                                               protocol::ConsumerGroupHeartbeatResponse response;
                                               response.error_code = wire(result.error);
                                               response.error_message = std::move(result.error_message);
                                               if (result.error == ErrorCode::kNone) {
                                                 response.member_id = result.member_id;
                                                 response.member_epoch = result.member_epoch;
                                                 response.heartbeat_interval_ms = result.heartbeat_interval_ms;
                                                 if (result.assignment) {
                                                   protocol::ConsumerGroupHeartbeatResponse::Assignment assignment;
                                                   for (const auto& [topic, partitions] : *result.assignment) {
                                                     auto& out = assignment.topic_partitions.emplace_back();
                                                     out.topic_id = topic;
                                                     out.partitions.assign(partitions.begin(), partitions.end());
                                                   }
                                                   response.assignment = std::move(assignment);
                                                 }
                                               }
                                               context.respond(response);
                                             });
}

}  // namespace fjord::server
