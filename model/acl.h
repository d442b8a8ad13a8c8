// Access control lists with Kafka's model: who (principal, host) may or may not (permission) do what (operation)
// to which resources (type, and a name matched literally, by prefix, or "*" for all). Numbers are Kafka's wire
// values (DescribeAcls, CreateAcls, DeleteAcls).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fjord {

enum class AclResourceType : int8_t {
  kUnknown = 0,
  kAny = 1,
  kTopic = 2,
  kGroup = 3,
  kCluster = 4,
  kTransactionalId = 5,
  kDelegationToken = 6,
  kUser = 7,
};

enum class AclPatternType : int8_t { kUnknown = 0, kAny = 1, kMatch = 2, kLiteral = 3, kPrefixed = 4 };

enum class AclOperation : int8_t {
  kUnknown = 0,
  kAny = 1,
  kAll = 2,
  kRead = 3,
  kWrite = 4,
  kCreate = 5,
  kDelete = 6,
  kAlter = 7,
  kDescribe = 8,
  kClusterAction = 9,
  kDescribeConfigs = 10,
  kAlterConfigs = 11,
  kIdempotentWrite = 12,
  kCreateTokens = 13,
  kDescribeTokens = 14,
  kTwoPhaseCommit = 15,
};

enum class AclPermission : int8_t { kUnknown = 0, kAny = 1, kDeny = 2, kAllow = 3 };

// The one cluster resource's name.
inline constexpr std::string_view kClusterResourceName = "kafka-cluster";
// Matches every resource of its type (literal pattern), every principal, every host.
inline constexpr std::string_view kAclWildcard = "*";
inline constexpr std::string_view kAnyUser = "User:*";

struct AclBinding {
  AclResourceType resource_type = AclResourceType::kTopic;
  std::string resource_name;
  AclPatternType pattern_type = AclPatternType::kLiteral;
  std::string principal;  // "User:alice"
  std::string host = "*";
  AclOperation operation = AclOperation::kRead;
  AclPermission permission = AclPermission::kAllow;
  bool operator==(const AclBinding&) const = default;
};

// A filter over bindings (DescribeAcls, DeleteAcls): ANY and null match everything; a MATCH pattern matches the
// bindings that would apply to the named resource (literal, "*", or a prefix of it).
struct AclFilter {
  AclResourceType resource_type = AclResourceType::kAny;
  std::optional<std::string> resource_name;
  AclPatternType pattern_type = AclPatternType::kAny;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::kAny;
  AclPermission permission = AclPermission::kAny;
  bool matches(const AclBinding& binding) const;
};

// Why a binding cannot be stored (an unknown type, a pattern other than LITERAL or PREFIXED, a principal not of
// the form Type:name, the cluster under another name, ...), or nullopt.
std::optional<std::string> invalid_acl_binding(const AclBinding& binding);

// Kafka's names ("TOPIC", "READ", ...), for tools and logs.
std::string_view acl_resource_type_name(AclResourceType type);
std::string_view acl_operation_name(AclOperation operation);
std::string_view acl_pattern_type_name(AclPatternType type);
std::string_view acl_permission_name(AclPermission permission);
std::optional<AclResourceType> acl_resource_type_by_name(std::string_view name);
std::optional<AclOperation> acl_operation_by_name(std::string_view name);

// What decides a request: super users may do anything; otherwise a matching DENY refuses, then a matching ALLOW
// (or one that implies the operation: READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies
// DESCRIBE_CONFIGS; ALL implies every operation) permits; a resource no binding names at all is permitted only
// with allow.everyone.if.no.acl.found.
struct AclPolicy {
  std::vector<std::string> super_users;  // "User:admin"
  bool allow_if_no_acl_found = false;
};

bool acl_allows(const std::vector<AclBinding>& bindings, const AclPolicy& policy, const std::string& principal,
                const std::string& host, AclOperation operation, AclResourceType resource_type,
                std::string_view resource_name);

// Whether some resource of `resource_type` may get `operation` from `principal` (Kafka's authorizeByResourceType:
// an idempotent producer may write if it may write to any topic): an ALLOW for it with no DENY of the same
// pattern, and no DENY of every resource of the type.
bool acl_allows_any(const std::vector<AclBinding>& bindings, const AclPolicy& policy, const std::string& principal,
                    const std::string& host, AclOperation operation, AclResourceType resource_type);

}  // namespace fjord
