#include "model/acl.h"

#include <algorithm>

namespace fjord {
namespace {

bool name_matches(const AclBinding& binding, std::string_view name) {
  if (binding.pattern_type == AclPatternType::kLiteral) {
    return binding.resource_name == name || binding.resource_name == kAclWildcard;
  }
  if (binding.pattern_type == AclPatternType::kPrefixed)
    return name.substr(0, binding.resource_name.size()) == binding.resource_name;
  return false;
}

bool applies_to(const AclBinding& binding, const std::string& principal, const std::string& host) {
  return (binding.principal == principal || binding.principal == kAnyUser) &&
         (binding.host == host || binding.host == kAclWildcard);
}

// Whether an ALLOW of `granted` permits `wanted`.
bool implies(AclOperation granted, AclOperation wanted) {
  if (granted == wanted || granted == AclOperation::kAll) return true;
  if (wanted == AclOperation::kDescribe) {
    return granted == AclOperation::kRead || granted == AclOperation::kWrite || granted == AclOperation::kDelete ||
           granted == AclOperation::kAlter;
  }
  if (wanted == AclOperation::kDescribeConfigs) return granted == AclOperation::kAlterConfigs;
  return false;
}

bool is_super_user(const AclPolicy& policy, const std::string& principal) {
  return std::find(policy.super_users.begin(), policy.super_users.end(), principal) != policy.super_users.end();
}

}  // namespace

bool AclFilter::matches(const AclBinding& b) const {
  if (resource_type != AclResourceType::kAny && resource_type != b.resource_type) return false;
  if (operation != AclOperation::kAny && operation != b.operation) return false;
  if (permission != AclPermission::kAny && permission != b.permission) return false;
  if (principal && *principal != b.principal) return false;
  if (host && *host != b.host) return false;
  if (pattern_type == AclPatternType::kMatch) {
    return !resource_name || name_matches(b, *resource_name);
  }
  if (pattern_type != AclPatternType::kAny && pattern_type != b.pattern_type) return false;
  return !resource_name || *resource_name == b.resource_name;
}

std::optional<std::string> invalid_acl_binding(const AclBinding& b) {
  switch (b.resource_type) {
    case AclResourceType::kTopic:
    case AclResourceType::kGroup:
    case AclResourceType::kCluster:
    case AclResourceType::kTransactionalId:
    case AclResourceType::kDelegationToken:
    case AclResourceType::kUser:
      break;
    default:
      return "the resource type must be TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, DELEGATION_TOKEN or USER";
  }
  if (b.pattern_type != AclPatternType::kLiteral && b.pattern_type != AclPatternType::kPrefixed) {
    return "the pattern type must be LITERAL or PREFIXED";
  }
  if (b.resource_name.empty()) return "the resource name must not be empty";
  if (b.resource_type == AclResourceType::kCluster &&
      (b.resource_name != kClusterResourceName || b.pattern_type != AclPatternType::kLiteral)) {
    return "the cluster resource is named kafka-cluster, literally";
  }
  if (b.pattern_type == AclPatternType::kPrefixed && b.resource_name == kAclWildcard) {
    return "a prefixed pattern cannot be *: use a literal *";
  }
  const auto colon = b.principal.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == b.principal.size()) {
    return "the principal must be Type:name (User:alice, or User:* for everyone)";
  }
  if (b.host.empty()) return "the host must be an address or *";
  if (b.operation == AclOperation::kUnknown || b.operation == AclOperation::kAny ||
      static_cast<int>(b.operation) > static_cast<int>(AclOperation::kTwoPhaseCommit)) {
    return "the operation must be a concrete one (READ, WRITE, ..., ALL)";
  }
  if (b.permission != AclPermission::kAllow && b.permission != AclPermission::kDeny) {
    return "the permission must be ALLOW or DENY";
  }
  return std::nullopt;
}

std::string_view acl_resource_type_name(AclResourceType type) {
  switch (type) {
    case AclResourceType::kAny:
      return "ANY";
    case AclResourceType::kTopic:
      return "TOPIC";
    case AclResourceType::kGroup:
      return "GROUP";
    case AclResourceType::kCluster:
      return "CLUSTER";
    case AclResourceType::kTransactionalId:
      return "TRANSACTIONAL_ID";
    case AclResourceType::kDelegationToken:
      return "DELEGATION_TOKEN";
    case AclResourceType::kUser:
      return "USER";
    case AclResourceType::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string_view acl_operation_name(AclOperation operation) {
  static constexpr std::string_view kNames[] = {"UNKNOWN",
                                                "ANY",
                                                "ALL",
                                                "READ",
                                                "WRITE",
                                                "CREATE",
                                                "DELETE",
                                                "ALTER",
                                                "DESCRIBE",
                                                "CLUSTER_ACTION",
                                                "DESCRIBE_CONFIGS",
                                                "ALTER_CONFIGS",
                                                "IDEMPOTENT_WRITE",
                                                "CREATE_TOKENS",
                                                "DESCRIBE_TOKENS",
                                                "TWO_PHASE_COMMIT"};
  const auto index = static_cast<size_t>(operation);
  return index < std::size(kNames) ? kNames[index] : "UNKNOWN";
}

std::string_view acl_pattern_type_name(AclPatternType type) {
  switch (type) {
    case AclPatternType::kAny:
      return "ANY";
    case AclPatternType::kMatch:
      return "MATCH";
    case AclPatternType::kLiteral:
      return "LITERAL";
    case AclPatternType::kPrefixed:
      return "PREFIXED";
    case AclPatternType::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string_view acl_permission_name(AclPermission permission) {
  switch (permission) {
    case AclPermission::kAny:
      return "ANY";
    case AclPermission::kDeny:
      return "DENY";
    case AclPermission::kAllow:
      return "ALLOW";
    case AclPermission::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::optional<AclResourceType> acl_resource_type_by_name(std::string_view name) {
  for (int8_t i = 1; i <= 7; ++i) {
    if (acl_resource_type_name(static_cast<AclResourceType>(i)) == name) return static_cast<AclResourceType>(i);
  }
  return std::nullopt;
}

std::optional<AclOperation> acl_operation_by_name(std::string_view name) {
  for (int8_t i = 1; i <= 15; ++i) {
    if (acl_operation_name(static_cast<AclOperation>(i)) == name) return static_cast<AclOperation>(i);
  }
  return std::nullopt;
}

bool acl_allows(const std::vector<AclBinding>& bindings, const AclPolicy& policy, const std::string& principal,
                const std::string& host, AclOperation operation, AclResourceType resource_type,
                std::string_view resource_name) {
  if (is_super_user(policy, principal)) return true;
  bool named = false;
  bool allowed = false;
  for (const auto& b : bindings) {
    if (b.resource_type != resource_type || !name_matches(b, resource_name)) continue;
    named = true;
    if (!applies_to(b, principal, host)) continue;
    if (b.permission == AclPermission::kDeny && (b.operation == operation || b.operation == AclOperation::kAll)) {
      return false;
    }
    if (b.permission == AclPermission::kAllow && implies(b.operation, operation)) allowed = true;
  }
  return allowed || (!named && policy.allow_if_no_acl_found);
}

bool acl_allows_any(const std::vector<AclBinding>& bindings, const AclPolicy& policy, const std::string& principal,
                    const std::string& host, AclOperation operation, AclResourceType resource_type) {
  if (is_super_user(policy, principal)) return true;
  for (const auto& b : bindings) {
    if (b.resource_type != resource_type || !applies_to(b, principal, host)) continue;
    if (b.permission == AclPermission::kDeny && b.resource_name == kAclWildcard &&
        (b.operation == operation || b.operation == AclOperation::kAll)) {
      return false;
    }
  }
  for (const auto& allow : bindings) {
    if (allow.resource_type != resource_type || allow.permission != AclPermission::kAllow ||
        !applies_to(allow, principal, host) || !implies(allow.operation, operation)) {
      continue;
    }
    // The same pattern denied for this principal takes it back.
    const bool denied = std::any_of(bindings.begin(), bindings.end(), [&](const AclBinding& deny) {
      return deny.permission == AclPermission::kDeny && deny.resource_type == resource_type &&
             deny.pattern_type == allow.pattern_type && deny.resource_name == allow.resource_name &&
             applies_to(deny, principal, host) && (deny.operation == operation || deny.operation == AclOperation::kAll);
    });
    if (!denied) return true;
  }
  return false;
}

}  // namespace fjord
