// DeleteGroups: removes empty groups and their committed offsets (tombstones in __consumer_offsets).
#include "protocol/messages/delete_groups.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_delete_groups(RequestContext context) {
  auto request = context.decode<protocol::DeleteGroupsRequest>();
  // DELETE on each group; the others are refused without being looked at.
  std::vector<std::string> names;
  std::vector<std::string> refused;
  for (auto& name : request.groups_names) {
    (context.authorized(AclOperation::kDelete, AclResourceType::kGroup, name) ? names : refused)
        .push_back(std::move(name));
  }
  context.server().groups.delete_groups(names, [context, names, refused](std::vector<ErrorCode> errors) {
    protocol::DeleteGroupsResponse response;
    for (size_t i = 0; i < names.size(); ++i) {
      auto& r = response.results.emplace_back();
      r.group_id = names[i];
      r.error_code = wire(errors[i]);
    }
    for (const auto& name : refused) {
      auto& r = response.results.emplace_back();
      r.group_id = name;
      r.error_code = wire(ErrorCode::kGroupAuthorizationFailed);
    }
    context.respond(response);
  });
}

}  // namespace fjord::server
