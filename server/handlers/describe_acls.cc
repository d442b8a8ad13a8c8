// DescribeAcls: the stored ACL bindings a filter matches, grouped by resource pattern. SECURITY_DISABLED without
// an authorizer, as Kafka answers.
#include "protocol/messages/describe_acls.h"

#include <map>
#include <tuple>

#include "server/handlers/acls_common.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_acls(RequestContext context) {
  auto request = context.decode<protocol::DescribeAclsRequest>();
  protocol::DescribeAclsResponse response;
  if (auto refusal = acl_request_refusal(context, AclOperation::kDescribe)) {
    response.error_code = wire(refusal->first);
    response.error_message = refusal->second;
    context.respond(response);
    return;
  }
  const AclFilter filter = acl_filter_of(request);
  std::map<std::tuple<int8_t, std::string, int8_t>, size_t> resources;  // pattern -> index in the answer
  for (const auto& acl : context.server().partitions.metadata().acls) {
    if (!filter.matches(acl)) continue;
    auto key = std::make_tuple(static_cast<int8_t>(acl.resource_type), acl.resource_name,
                               static_cast<int8_t>(acl.pattern_type));
    auto [it, added] = resources.emplace(key, response.resources.size());
    if (added) {
      auto& resource = response.resources.emplace_back();
      resource.resource_type = std::get<0>(key);
      resource.resource_name = acl.resource_name;
      resource.pattern_type = std::get<2>(key);
    }
    response.resources[it->second].acls.push_back(
        {acl.principal, acl.host, static_cast<int8_t>(acl.operation), static_cast<int8_t>(acl.permission), {}});
  }
  context.respond(response);
}

}  // namespace fjord::server
