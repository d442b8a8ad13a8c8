// `fjord audit`: the production checklist against a running cluster, Fjord or any other Kafka-compatible one.
// Through the Admin API it checks topics (replication factor, min.insync.replicas, unclean leader election,
// retention), internal topics and broker settings, and consumer groups (the assignor they run, members without
// group.instance.id). What clients do on the wire (acks, idempotence, the strategies each member offers) only a
// broker that watches its clients can tell: with --admin HOST:PORT, the admin listener of a Fjord broker, its
// findings about clients are included; without it the report says which checks it could not make.
#pragma once

#include <optional>
#include <string>

namespace fjord::cli {

// The exit status when some rule is broken, as `fjord lag` uses for groups that need attention.
inline constexpr int kAuditFindingsExitStatus = 3;

struct AuditOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";
  std::optional<std::string> admin;  // HOST:PORT of a Fjord broker's admin listener
};

int run_audit(const AuditOptions& options);

}  // namespace fjord::cli
