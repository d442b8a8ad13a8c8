// Heartbeat: a member is alive; the answer tells it whether a rebalance has started.
#include "protocol/messages/heartbeat.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_heartbeat(RequestContext context) {
  auto request = context.decode<protocol::HeartbeatRequest>();
  if (auto* activity = context.server().activity)
    activity->seen(context.client_identity(), context.server().clock.now_ms());
  protocol::HeartbeatResponse response;
  if (!context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id)) {
    response.error_code = wire(ErrorCode::kGroupAuthorizationFailed);
    context.respond(response);
    return;
  }
  response.error_code = wire(context.server().groups.heartbeat(request.group_id, request.generation_id,
                                                               request.member_id, request.group_instance_id));
  context.respond(response);
}

}  // namespace fjord::server
