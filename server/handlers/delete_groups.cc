// DeleteGroups: removes empty groups and their committed offsets (tombstones in __consumer_offsets).
#include "protocol/messages/delete_groups.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_delete_groups(RequestContext context) {
  auto request = context.decode<protocol::DeleteGroupsRequest>();
  auto names = request.groups_names;
  context.server().groups.delete_groups(names, [context, names](std::vector<ErrorCode> errors) {
    protocol::DeleteGroupsResponse response;
    for (size_t i = 0; i < names.size(); ++i) {
      auto& r = response.results.emplace_back();
      r.group_id = names[i];
      r.error_code = wire(errors[i]);
    }
    context.respond(response);
  });
}

}  // namespace fjord::server
