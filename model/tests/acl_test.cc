#include "model/acl.h"

#include <gtest/gtest.h>

namespace fjord {
namespace {

AclBinding allow(AclResourceType type, std::string name, AclOperation op, std::string principal = "User:alice",
                 AclPatternType pattern = AclPatternType::kLiteral) {
  return {type, std::move(name), pattern, std::move(principal), "*", op, AclPermission::kAllow};
}

AclBinding deny(AclResourceType type, std::string name, AclOperation op, std::string principal = "User:alice") {
  return {type, std::move(name), AclPatternType::kLiteral, std::move(principal), "*", op, AclPermission::kDeny};
}

bool may(const std::vector<AclBinding>& acls, AclOperation op, AclResourceType type, const std::string& name,
         const std::string& principal = "User:alice", const AclPolicy& policy = {}) {
  return acl_allows(acls, policy, principal, "10.0.0.1", op, type, name);
}

TEST(Acl, LiteralPrefixedAndWildcardNamesMatchAsInKafka) {
  const std::vector<AclBinding> acls = {
      allow(AclResourceType::kTopic, "payments", AclOperation::kWrite),
      allow(AclResourceType::kTopic, "orders-", AclOperation::kRead, "User:alice", AclPatternType::kPrefixed),
      allow(AclResourceType::kGroup, "*", AclOperation::kRead),
  };
  EXPECT_TRUE(may(acls, AclOperation::kWrite, AclResourceType::kTopic, "payments"));
  EXPECT_FALSE(may(acls, AclOperation::kWrite, AclResourceType::kTopic, "payments-eu"));
  EXPECT_TRUE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "orders-eu"));
  EXPECT_FALSE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "order"));
  EXPECT_TRUE(may(acls, AclOperation::kRead, AclResourceType::kGroup, "anything"));
  EXPECT_FALSE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "payments"));  // only WRITE there
  EXPECT_FALSE(may(acls, AclOperation::kWrite, AclResourceType::kTopic, "payments", "User:bob"));
}

TEST(Acl, DenyWinsAndSomeOperationsImplyOthers) {
  const std::vector<AclBinding> acls = {
      allow(AclResourceType::kTopic, "*", AclOperation::kAll),
      deny(AclResourceType::kTopic, "secrets", AclOperation::kRead),
      allow(AclResourceType::kTopic, "audit", AclOperation::kAlterConfigs, "User:bob"),
      allow(AclResourceType::kTopic, "audit", AclOperation::kRead, "User:carol"),
  };
  EXPECT_TRUE(may(acls, AclOperation::kDelete, AclResourceType::kTopic, "anything"));
  EXPECT_FALSE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "secrets"));
  // A denied READ does not deny DESCRIBE.
  EXPECT_TRUE(may(acls, AclOperation::kDescribe, AclResourceType::kTopic, "secrets"));
  EXPECT_TRUE(may(acls, AclOperation::kDescribeConfigs, AclResourceType::kTopic, "audit", "User:bob"));
  EXPECT_FALSE(may(acls, AclOperation::kAlter, AclResourceType::kTopic, "audit", "User:bob"));
  EXPECT_TRUE(may(acls, AclOperation::kDescribe, AclResourceType::kTopic, "audit", "User:carol"));
  EXPECT_FALSE(may(acls, AclOperation::kWrite, AclResourceType::kTopic, "audit", "User:carol"));
}

TEST(Acl, HostsAndEveryoneAndSuperUsers) {
  std::vector<AclBinding> acls = {allow(AclResourceType::kTopic, "t", AclOperation::kRead, "User:*")};
  acls[0].host = "10.0.0.2";
  EXPECT_FALSE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "t"));
  acls[0].host = "10.0.0.1";
  EXPECT_TRUE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "t", "User:anyone"));
  AclPolicy policy;
  policy.super_users = {"User:admin"};
  acls.push_back(deny(AclResourceType::kTopic, "t", AclOperation::kAll, "User:admin"));
  EXPECT_TRUE(may(acls, AclOperation::kDelete, AclResourceType::kCluster, "kafka-cluster", "User:admin", policy));
  EXPECT_TRUE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "t", "User:admin", policy));
}

TEST(Acl, AResourceNoBindingNamesFollowsAllowEveryoneIfNoAclFound) {
  const std::vector<AclBinding> acls = {allow(AclResourceType::kTopic, "named", AclOperation::kRead, "User:bob")};
  AclPolicy open;
  open.allow_if_no_acl_found = true;
  EXPECT_FALSE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "unnamed"));
  EXPECT_TRUE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "unnamed", "User:alice", open));
  // Named by a binding for someone else: closed to alice even so.
  EXPECT_FALSE(may(acls, AclOperation::kRead, AclResourceType::kTopic, "named", "User:alice", open));
}

TEST(Acl, WritingSomewhereAllowsAnIdempotentProducer) {
  const AclPolicy policy;
  std::vector<AclBinding> acls = {
      allow(AclResourceType::kTopic, "in-", AclOperation::kWrite, "User:alice", AclPatternType::kPrefixed)};
  EXPECT_TRUE(acl_allows_any(acls, policy, "User:alice", "h", AclOperation::kWrite, AclResourceType::kTopic));
  EXPECT_FALSE(acl_allows_any(acls, policy, "User:bob", "h", AclOperation::kWrite, AclResourceType::kTopic));
  acls.push_back(deny(AclResourceType::kTopic, "*", AclOperation::kWrite));
  EXPECT_FALSE(acl_allows_any(acls, policy, "User:alice", "h", AclOperation::kWrite, AclResourceType::kTopic));
}

TEST(Acl, OnlyConcreteBindingsAreStored) {
  EXPECT_FALSE(invalid_acl_binding(allow(AclResourceType::kTopic, "t", AclOperation::kRead)));
  EXPECT_TRUE(invalid_acl_binding(allow(AclResourceType::kAny, "t", AclOperation::kRead)));
  EXPECT_TRUE(invalid_acl_binding(allow(AclResourceType::kTopic, "t", AclOperation::kAny)));
  EXPECT_TRUE(invalid_acl_binding(allow(AclResourceType::kTopic, "t", AclOperation::kRead, "alice")));
  EXPECT_TRUE(invalid_acl_binding(allow(AclResourceType::kCluster, "mine", AclOperation::kAlter)));
  EXPECT_TRUE(invalid_acl_binding(
      allow(AclResourceType::kTopic, "t", AclOperation::kRead, "User:alice", AclPatternType::kMatch)));
  auto wild_prefix = allow(AclResourceType::kTopic, "*", AclOperation::kRead, "User:alice", AclPatternType::kPrefixed);
  EXPECT_TRUE(invalid_acl_binding(wild_prefix));
}

TEST(Acl, FiltersMatchAnyOrExactlyOrByWhatWouldApply) {
  const auto prefixed =
      allow(AclResourceType::kTopic, "orders-", AclOperation::kRead, "User:alice", AclPatternType::kPrefixed);
  AclFilter any;
  EXPECT_TRUE(any.matches(prefixed));
  AclFilter exact;
  exact.resource_type = AclResourceType::kTopic;
  exact.resource_name = "orders-eu";
  exact.pattern_type = AclPatternType::kLiteral;
  EXPECT_FALSE(exact.matches(prefixed));
  AclFilter applying = exact;
  applying.pattern_type = AclPatternType::kMatch;
  EXPECT_TRUE(applying.matches(prefixed));
  applying.principal = "User:bob";
  EXPECT_FALSE(applying.matches(prefixed));
}

}  // namespace
}  // namespace fjord
