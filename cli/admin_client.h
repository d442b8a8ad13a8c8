// What the operator subcommands (`fjord group`, `fjord topic`) share: the Admin API (client/admin.h) and the
// way they print tables and report errors. These subcommands are clients of any Kafka-compatible cluster.
#pragma once

#include <compare>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/client_security.h"
#include "client/admin.h"

namespace fjord::cli {

// The Admin API with the process's client security settings (--command-config).
class AdminClient : public client::AdminClient {
 public:
  explicit AdminClient(const std::string& bootstrap) : client::AdminClient(bootstrap, with_client_security({})) {}
};

using client::AdminEvent;
using client::kAdminTimeoutMs;

struct PartitionKey {
  std::string topic;
  int32_t partition;
  auto operator<=>(const PartitionKey&) const = default;
};

// DescribeConfigs: each named resource's settings as the cluster resolves them (name -> value; null values left
// out). Resources the cluster refuses are left out.
std::map<std::string, std::map<std::string, std::string>> describe_configs(AdminClient& admin,
                                                                           rd_kafka_ResourceType_t type,
                                                                           const std::vector<std::string>& names);

// Broker ids as "1,2,3".
std::string join_ids(const std::vector<int32_t>& ids);
// Columns padded to their widest cell, one space apart.
void print_table(const std::vector<std::vector<std::string>>& rows);
// A listing as `--format` asks: `json` (indented) for "json", else the table.
void print_listing(const std::string& format, const std::vector<std::vector<std::string>>& rows,
                   const nlohmann::json& json);
// Reports an error the way every subcommand does: one line on stderr, exit status 1.
int failed(const std::exception& e);

}  // namespace fjord::cli
