// What DescribeAcls, CreateAcls and DeleteAcls share: the filter a request names, and the checks before any.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "model/acl.h"
#include "server/request_context.h"

namespace fjord::server {

// A request's filter fields (DescribeAcls' request, a DeleteAcls filter: the same names) as a filter.
template <typename Fields>
AclFilter acl_filter_of(const Fields& f) {
  AclFilter filter;
  filter.resource_type = static_cast<AclResourceType>(f.resource_type_filter);
  filter.resource_name = f.resource_name_filter;
  filter.pattern_type = static_cast<AclPatternType>(f.pattern_type_filter);
  filter.principal = f.principal_filter;
  filter.host = f.host_filter;
  filter.operation = static_cast<AclOperation>(f.operation);
  filter.permission = static_cast<AclPermission>(f.permission_type);
  return filter;
}

// Why the ACL APIs refuse this request before looking at it: no authorizer (SECURITY_DISABLED, as Kafka
// answers), or the principal may not do `operation` to the cluster (DESCRIBE to read ACLs, ALTER to change them).
inline std::optional<std::pair<ErrorCode, std::string>> acl_request_refusal(const RequestContext& context,
                                                                            AclOperation operation) {
  if (!context.server().authorizing) {
    return std::make_pair(ErrorCode::kSecurityDisabled,
                          std::string("No authorizer is configured (authorizer.class.name)"));
  }
  if (!context.authorized_on_cluster(operation)) {
    return std::make_pair(ErrorCode::kClusterAuthorizationFailed,
                          "Not authorized (" + std::string(acl_operation_name(operation)) + " on the cluster)");
  }
  return std::nullopt;
}

}  // namespace fjord::server
