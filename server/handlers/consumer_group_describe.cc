// ConsumerGroupDescribe: a consumer-protocol group's state, epochs and assignor, and each member's epoch,
// subscription, assignment and target assignment. A classic group, or none, is GROUP_ID_NOT_FOUND.
#include "protocol/messages/consumer_group_describe.h"

#include "server/handlers/registry.h"

namespace fjord::server {
namespace {

// READ, DELETE and DESCRIBE, Kafka's operations on a group, as AclOperation bits.
constexpr int32_t kGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);
constexpr int8_t kClassicMember = 0;  // a classic member of the group, since an online upgrade
constexpr int8_t kConsumerMember = 1;

using Described = protocol::ConsumerGroupDescribeResponse;

Described::Assignment to_wire(const coordinator::consumer::Assignment& assignment,
                              const coordinator::consumer::ConsumerGroup& group) {
  Described::Assignment out;
  for (const auto& [topic, partitions] : assignment) {
    auto& t = out.topic_partitions.emplace_back();
    t.topic_id = topic;
    auto known = group.subscribed_topics().find(topic);
    if (known != group.subscribed_topics().end()) t.topic_name = known->second.name;
    t.partitions.assign(partitions.begin(), partitions.end());
  }
  return out;
}

}  // namespace

void handle_consumer_group_describe(RequestContext context) {
  auto request = context.decode<protocol::ConsumerGroupDescribeRequest>();
  Described response;
  auto& groups = context.server().groups;
  for (const auto& group_id : request.group_ids) {
    auto& out = response.groups.emplace_back();
    out.group_id = group_id;
    if (!context.authorized(AclOperation::kDescribe, AclResourceType::kGroup, group_id)) {
      out.error_code = wire(ErrorCode::kGroupAuthorizationFailed);
      continue;
    }
    ErrorCode error = ErrorCode::kNone;
    const auto* group = groups.consumer_group(group_id, &error);
    if (!group) {
      out.error_code = wire(error);
      if (error == ErrorCode::kGroupIdNotFound) out.error_message = "Group " + group_id + " not found.";
      continue;
    }
    out.group_state = coordinator::consumer::consumer_group_state_name(group->state());
    out.group_epoch = group->group_epoch();
    out.assignment_epoch = group->assignment_epoch();
    out.assignor_name = group->assignor(groups.settings().consumer);
    for (const auto& [id, m] : group->members()) {
      auto& member = out.members.emplace_back();
      member.member_id = id;
      member.instance_id = m.instance_id;
      member.rack_id = m.rack_id;
      member.member_epoch = m.assignment.epoch;
      member.client_id = m.client_id;
      member.client_host = m.client_host;
      member.subscribed_topic_names = m.subscribed_topic_names;
      member.subscribed_topic_regex = m.subscribed_topic_regex;
      member.assignment = to_wire(m.assignment.assigned, *group);
      member.target_assignment = to_wire(group->target_of(id), *group);
      member.member_type = m.classic ? kClassicMember : kConsumerMember;
    }
    if (request.include_authorized_operations) out.authorized_operations = kGroupOperations;
  }
  context.respond(response);
}

}  // namespace fjord::server
