// `fjord quota set | list | delete`: client quotas over the Kafka protocol (AlterClientQuotas,
// DescribeClientQuotas), so against Fjord or Kafka alike. An entity is a user (--user NAME, or --default-user for
// every user without a quota of its own), a client id (--client-id / --default-client-id), or both; its values are
// producer_byte_rate and consumer_byte_rate (bytes per second) and request_percentage (percent of one event loop).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fjord::cli {

struct QuotaOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";  // or "json"
  std::optional<std::string> user;
  bool default_user = false;
  std::optional<std::string> client_id;
  bool default_client_id = false;
  std::vector<std::string> values;  // KEY=VALUE for set, KEY for delete
};

int run_quota_set(const QuotaOptions& options);
// Every entity with quotas, or those the options name.
int run_quota_list(const QuotaOptions& options);
// Removes the named keys of the entity, or all of its values when none is named.
int run_quota_delete(const QuotaOptions& options);

}  // namespace fjord::cli
