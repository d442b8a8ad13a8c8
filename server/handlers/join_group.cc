// JoinGroup: a member joins (or rejoins) a classic group and waits until the rebalance gives it a generation.
#include "protocol/messages/join_group.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_join_group(RequestContext context) {
  auto request = context.decode<protocol::JoinGroupRequest>();
  if (!context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id)) {
    protocol::JoinGroupResponse response;
    response.error_code = wire(ErrorCode::kGroupAuthorizationFailed);
    response.protocol_name = context.version() >= 7 ? std::nullopt : std::optional<std::string>("");
    context.respond(response);
    return;
  }
  coordinator::JoinRequest join;
  join.group_id = request.group_id;
  join.member_id = request.member_id;
  join.group_instance_id = request.group_instance_id;
  join.client_id = context.client_id();
  join.client_host = context.client_host();
  join.session_timeout_ms = request.session_timeout_ms;
  join.rebalance_timeout_ms = request.rebalance_timeout_ms;
  join.protocol_type = request.protocol_type;
  for (auto& p : request.protocols) join.protocols.emplace_back(p.name, std::move(p.metadata));
  join.member_id_required = context.version() >= 4;
  join.supports_skip_assignment = context.version() >= 9;
  if (auto* activity = context.server().activity) {
    GroupMemberUse use;
    use.protocol_type = request.protocol_type;
    for (const auto& p : request.protocols) use.protocols.push_back(p.name);
    use.group_instance_id = request.group_instance_id;
    use.session_timeout_ms = request.session_timeout_ms;
    use.rebalance_timeout_ms = request.rebalance_timeout_ms;
    activity->joined(context.client_identity(), request.group_id, std::move(use), context.server().clock.now_ms());
  }
  context.server().groups.join(std::move(join), [context](coordinator::JoinResult result) {
    protocol::JoinGroupResponse response;
    response.error_code = wire(result.error);
    response.generation_id = result.generation;
    response.protocol_type = result.protocol_type;
    // Before v7 the protocol name is not nullable: an error answer carries an empty one.
    response.protocol_name = context.version() >= 7 ? result.protocol_name : result.protocol_name.value_or("");
    response.leader = result.leader;
    response.skip_assignment = result.skip_assignment;
    response.member_id = result.member_id;
    for (auto& m : result.members) {
      auto& out = response.members.emplace_back();
      out.member_id = m.member_id;
      out.group_instance_id = m.group_instance_id;
      out.metadata = std::move(m.metadata);
    }
    context.respond(response);
  });
}

}  // namespace fjord::server
