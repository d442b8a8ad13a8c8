// `fjord acl create | list | delete`: access control lists over the Kafka protocol (CreateAcls, DescribeAcls,
// DeleteAcls), so against Fjord or Kafka alike. A binding names a principal (User:alice, or User:* for everyone), a
// host (* by default), an operation (READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION,
// DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALL), ALLOW or DENY, and one resource: a topic, a group or a
// transactional id (by name, or by prefix with --prefixed), or the cluster.
#pragma once

#include <string>

namespace fjord::cli {

struct AclOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";  // or "json"
  std::string principal;
  std::string host = "*";
  std::string operation;
  bool deny = false;
  std::string topic;
  std::string group;
  std::string transactional_id;
  bool cluster = false;
  bool prefixed = false;
};

int run_acl_create(const AclOptions& options);
// Lists every binding, or those matching what the options name.
int run_acl_list(const AclOptions& options);
// Deletes the bindings matching what the options name (at least a principal or a resource).
int run_acl_delete(const AclOptions& options);

}  // namespace fjord::cli
