// DescribeAcls: the stored ACL bindings a filter matches, grouped by resource pattern. SECURITY_DISABLED without
// an authorizer, as Kafka answers.
#include "protocol/messages/describe_acls.h"

#include <map>
#include <tuple>

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_acls(RequestContext context) {
  auto request = context.decode<protocol::DescribeAclsRequest>();
  protocol::DescribeAclsResponse response;
  if (!context.server().authorizing) {
    response.error_code = wire(ErrorCode::kSecurityDisabled);
    response.error_message = "No authorizer is configured (authorizer.class.name)";
    context.respond(response);
    return;
  }
  if (!context.authorized_on_cluster(AclOperation::kDescribe)) {
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    response.error_message = "Not authorized to describe ACLs (DESCRIBE on the cluster)";
    context.respond(response);
    return;
  }
  AclFilter filter;
  filter.resource_type = static_cast<AclResourceType>(request.resource_type_filter);
  filter.resource_name = request.resource_name_filter;
  filter.pattern_type = static_cast<AclPatternType>(request.pattern_type_filter);
  filter.principal = request.principal_filter;
  filter.host = request.host_filter;
  filter.operation = static_cast<AclOperation>(request.operation);
  filter.permission = static_cast<AclPermission>(request.permission_type);
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
