#include "cli/acl_command.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/admin_client.h"
#include "cli/kafka_connection.h"
#include "model/acl.h"
#include "model/error_codes.h"
#include "protocol/messages/create_acls.h"
#include "protocol/messages/delete_acls.h"
#include "protocol/messages/describe_acls.h"

namespace fjord::cli {
namespace {

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

// The resource the options name, if any; throws when they name more than one.
std::optional<std::pair<AclResourceType, std::string>> resource(const AclOptions& options) {
  std::vector<std::pair<AclResourceType, std::string>> named;
  if (!options.topic.empty()) named.emplace_back(AclResourceType::kTopic, options.topic);
  if (!options.group.empty()) named.emplace_back(AclResourceType::kGroup, options.group);
  if (!options.transactional_id.empty())
    named.emplace_back(AclResourceType::kTransactionalId, options.transactional_id);
  if (options.cluster) named.emplace_back(AclResourceType::kCluster, std::string(kClusterResourceName));
  if (named.size() > 1)
    throw std::runtime_error("name one resource: --topic, --group, --transactional-id or --cluster");
  if (named.empty()) return std::nullopt;
  return named.front();
}

std::optional<AclOperation> operation(const AclOptions& options) {
  if (options.operation.empty()) return std::nullopt;
  auto op = acl_operation_by_name(upper(options.operation));
  if (!op || *op == AclOperation::kAny) throw std::runtime_error("unknown operation " + options.operation);
  return op;
}

std::string describe_error(int16_t code, const std::optional<std::string>& message) {
  return std::string(error_name(static_cast<ErrorCode>(code))) + (message ? " (" + *message + ")" : "");
}

}  // namespace

int run_acl_create(const AclOptions& options) {
  try {
    auto target = resource(options);
    auto op = operation(options);
    if (!target || !op || options.principal.empty()) {
      throw std::runtime_error("create needs --principal, --operation and a resource");
    }
    protocol::CreateAclsRequest request;
    auto& c = request.creations.emplace_back();
    c.resource_type = static_cast<int8_t>(target->first);
    c.resource_name = target->second;
    c.resource_pattern_type =
        static_cast<int8_t>(options.prefixed ? AclPatternType::kPrefixed : AclPatternType::kLiteral);
    c.principal = options.principal;
    c.host = options.host;
    c.operation = static_cast<int8_t>(*op);
    c.permission_type = static_cast<int8_t>(options.deny ? AclPermission::kDeny : AclPermission::kAllow);
    auto connection = connect_any(options.bootstrap);
    auto response = connection->call<protocol::CreateAclsResponse>(request, 3);
    const auto& result = response.results.at(0);
    if (result.error_code != 0) throw std::runtime_error(describe_error(result.error_code, result.error_message));
    std::printf("%s %s %s on %s %s%s\n", options.deny ? "denied" : "allowed", options.principal.c_str(),
                std::string(acl_operation_name(*op)).c_str(),
                std::string(acl_resource_type_name(target->first)).c_str(), target->second.c_str(),
                options.prefixed ? " (prefix)" : "");
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_acl_list(const AclOptions& options) {
  try {
    auto target = resource(options);
    auto op = operation(options);
    protocol::DescribeAclsRequest request;
    request.resource_type_filter = static_cast<int8_t>(target ? target->first : AclResourceType::kAny);
    if (target) request.resource_name_filter = target->second;
    request.pattern_type_filter = static_cast<int8_t>(!target            ? AclPatternType::kAny
                                                      : options.prefixed ? AclPatternType::kPrefixed
                                                                         : AclPatternType::kMatch);
    if (!options.principal.empty()) request.principal_filter = options.principal;
    request.operation = static_cast<int8_t>(op.value_or(AclOperation::kAny));
    request.permission_type = static_cast<int8_t>(AclPermission::kAny);
    auto connection = connect_any(options.bootstrap);
    auto response = connection->call<protocol::DescribeAclsResponse>(request, 3);
    if (response.error_code != 0) throw std::runtime_error(describe_error(response.error_code, response.error_message));
    std::vector<std::vector<std::string>> rows = {
        {"RESOURCE-TYPE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION"}};
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : response.resources) {
      for (const auto& a : r.acls) {
        const std::string type(acl_resource_type_name(static_cast<AclResourceType>(r.resource_type)));
        const std::string pattern(acl_pattern_type_name(static_cast<AclPatternType>(r.pattern_type)));
        const std::string operation_name(acl_operation_name(static_cast<AclOperation>(a.operation)));
        const std::string permission(acl_permission_name(static_cast<AclPermission>(a.permission_type)));
        rows.push_back({type, r.resource_name, pattern, a.principal, a.host, operation_name, permission});
        out.push_back({{"resource_type", type},
                       {"resource_name", r.resource_name},
                       {"pattern_type", pattern},
                       {"principal", a.principal},
                       {"host", a.host},
                       {"operation", operation_name},
                       {"permission", permission}});
      }
    }
    print_listing(options.format, rows, out);
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_acl_delete(const AclOptions& options) {
  try {
    auto target = resource(options);
    auto op = operation(options);
    if (!target && options.principal.empty()) {
      throw std::runtime_error("delete needs --principal or a resource (it would remove every ACL)");
    }
    protocol::DeleteAclsRequest request;
    auto& f = request.filters.emplace_back();
    f.resource_type_filter = static_cast<int8_t>(target ? target->first : AclResourceType::kAny);
    if (target) f.resource_name_filter = target->second;
    f.pattern_type_filter = static_cast<int8_t>(!target            ? AclPatternType::kAny
                                                : options.prefixed ? AclPatternType::kPrefixed
                                                                   : AclPatternType::kLiteral);
    if (!options.principal.empty()) f.principal_filter = options.principal;
    f.operation = static_cast<int8_t>(op.value_or(AclOperation::kAny));
    f.permission_type = static_cast<int8_t>(AclPermission::kAny);
    auto connection = connect_any(options.bootstrap);
    auto response = connection->call<protocol::DeleteAclsResponse>(request, 3);
    const auto& result = response.filter_results.at(0);
    if (result.error_code != 0) throw std::runtime_error(describe_error(result.error_code, result.error_message));
    std::printf("deleted %zu ACL(s)\n", result.matching_acls.size());
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

}  // namespace fjord::cli
