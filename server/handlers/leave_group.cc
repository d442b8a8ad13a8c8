// LeaveGroup: members leave at once instead of waiting for their sessions to expire (v3+: several at a time,
// by member id or by group.instance.id).
#include "protocol/messages/leave_group.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_leave_group(RequestContext context) {
  auto request = context.decode<protocol::LeaveGroupRequest>();
  if (!context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id)) {
    protocol::LeaveGroupResponse response;
    response.error_code = wire(ErrorCode::kGroupAuthorizationFailed);
    context.respond(response);
    return;
  }
  std::vector<coordinator::LeavingMember> leaving;
  if (context.version() < 3) {
    leaving.push_back({request.member_id, std::nullopt});
  } else {
    for (const auto& m : request.members) leaving.push_back({m.member_id, m.group_instance_id});
  }
  auto [group_error, member_errors] = context.server().groups.leave(request.group_id, leaving);
  protocol::LeaveGroupResponse response;
  if (context.version() < 3) {
    response.error_code = wire(group_error != ErrorCode::kNone ? group_error : member_errors.front());
  } else {
    response.error_code = wire(group_error);
    if (group_error == ErrorCode::kNone) {
      for (size_t i = 0; i < leaving.size(); ++i) {
        auto& out = response.members.emplace_back();
        out.member_id = leaving[i].member_id;
        out.group_instance_id = leaving[i].group_instance_id;
        out.error_code = wire(member_errors[i]);
      }
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
