// ListGroups: every group this coordinator holds, optionally filtered by state (v4+) and type (v5+; all of
// Fjord's groups are "classic").
#include "protocol/messages/list_groups.h"

#include <algorithm>
#include <cctype>

#include "server/handlers/registry.h"

namespace fjord::server {

namespace {

bool equal_ignoring_case(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool listed(const std::vector<std::string>& filter, const std::string& value) {
  return filter.empty() ||
         std::any_of(filter.begin(), filter.end(), [&](const auto& f) { return equal_ignoring_case(f, value); });
}

}  // namespace

void handle_list_groups(RequestContext context) {
  auto request = context.decode<protocol::ListGroupsRequest>();
  protocol::ListGroupsResponse response;
  // DESCRIBE on the cluster lists every group; otherwise the groups the client may describe.
  const bool every_group = context.authorized_on_cluster(AclOperation::kDescribe);
  for (const auto& g : context.server().groups.list()) {
    if (!listed(request.types_filter, g.group_type) || !listed(request.states_filter, g.state)) continue;
    if (!every_group && !context.authorized(AclOperation::kDescribe, AclResourceType::kGroup, g.group_id)) continue;
    auto& out = response.groups.emplace_back();
    out.group_id = g.group_id;
    out.protocol_type = g.protocol_type;
    out.group_state = g.state;
    out.group_type = g.group_type;
  }
  context.respond(response);
}

}  // namespace fjord::server
