// SyncGroup: the leader hands in the assignment it computed; every member waits for its own part of it.
#include "protocol/messages/sync_group.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_sync_group(RequestContext context) {
  auto request = context.decode<protocol::SyncGroupRequest>();
  if (!context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id)) {
    protocol::SyncGroupResponse response;
    response.error_code = wire(ErrorCode::kGroupAuthorizationFailed);
    context.respond(response);
    return;
  }
  coordinator::SyncRequest sync;
  sync.group_id = request.group_id;
  sync.generation = request.generation_id;
  sync.member_id = request.member_id;
  sync.group_instance_id = request.group_instance_id;
  sync.protocol_type = request.protocol_type;
  sync.protocol_name = request.protocol_name;
  for (auto& a : request.assignments) sync.assignments.emplace_back(a.member_id, std::move(a.assignment));
  context.server().groups.sync(std::move(sync), [context](coordinator::SyncResult result) {
    protocol::SyncGroupResponse response;
    response.error_code = wire(result.error);
    response.protocol_type = result.protocol_type;
    response.protocol_name = result.protocol_name;
    response.assignment = std::move(result.assignment);
    context.respond(response);
  });
}

}  // namespace fjord::server
