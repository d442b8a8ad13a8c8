// DescribeGroups: state, protocol, and members with their metadata and assignments (once stable). Before v6 a
// group that does not exist is described as Dead with no error; v6 answers GROUP_ID_NOT_FOUND.
#include "protocol/messages/describe_groups.h"

#include "server/handlers/registry.h"

namespace fjord::server {

namespace {

// READ, DELETE and DESCRIBE, Kafka's operations on a group, as AclOperation bits.
constexpr int32_t kGroupOperations = (1 << 3) | (1 << 6) | (1 << 8);

}  // namespace

void handle_describe_groups(RequestContext context) {
  auto request = context.decode<protocol::DescribeGroupsRequest>();
  protocol::DescribeGroupsResponse response;
  for (const auto& group_id : request.groups) {
    if (!context.authorized(AclOperation::kDescribe, AclResourceType::kGroup, group_id)) {
      auto& refused = response.groups.emplace_back();
      refused.group_id = group_id;
      refused.error_code = wire(ErrorCode::kGroupAuthorizationFailed);
      continue;
    }
    auto d = context.server().groups.describe(group_id);
    auto& out = response.groups.emplace_back();
    out.group_id = group_id;
    if (d.error == ErrorCode::kGroupIdNotFound) {
      out.group_state = "Dead";
      if (context.version() >= 6) {
        out.error_code = wire(d.error);
        out.error_message = "Group " + group_id + " not found.";
      }
      continue;
    }
    out.group_state = d.state_name;
    out.protocol_type = d.protocol_type;
    out.protocol_data = d.protocol_name;
    for (auto& m : d.members) {
      auto& member = out.members.emplace_back();
      member.member_id = m.member_id;
      member.group_instance_id = m.group_instance_id;
      member.client_id = m.client_id;
      member.client_host = m.client_host;
      member.member_metadata = std::move(m.metadata);
      member.member_assignment = std::move(m.assignment);
    }
    if (request.include_authorized_operations) out.authorized_operations = kGroupOperations;
  }
  context.respond(response);
}

}  // namespace fjord::server
