#include "cli/quota_command.h"

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/admin_client.h"
#include "cli/kafka_connection.h"
#include "model/client_quota.h"
#include "model/error_codes.h"
#include "protocol/messages/alter_client_quotas.h"
#include "protocol/messages/describe_client_quotas.h"

namespace fjord::cli {
namespace {

using EntityParts = std::vector<std::pair<std::string, std::optional<std::string>>>;

// The entity the options name (empty when they name none); throws when they name a type twice.
EntityParts entity(const QuotaOptions& options) {
  EntityParts parts;
  if (options.user && options.default_user) throw std::runtime_error("name --user or --default-user, not both");
  if (options.client_id && options.default_client_id) {
    throw std::runtime_error("name --client-id or --default-client-id, not both");
  }
  if (options.user || options.default_user) parts.emplace_back(kQuotaEntityUser, options.user);
  if (options.client_id || options.default_client_id) parts.emplace_back(kQuotaEntityClientId, options.client_id);
  return parts;
}

std::string describe_error(int16_t code, const std::optional<std::string>& message) {
  return std::string(error_name(static_cast<ErrorCode>(code))) + (message ? " (" + *message + ")" : "");
}

int alter(const QuotaOptions& options, const std::vector<protocol::AlterClientQuotasRequest::OpData>& ops,
          const char* done) {
  auto parts = entity(options);
  if (parts.empty())
    throw std::runtime_error("name the entity: --user/--default-user and/or --client-id/--default-client-id");
  protocol::AlterClientQuotasRequest request;
  auto& entry = request.entries.emplace_back();
  for (const auto& [type, name] : parts) entry.entity.push_back({type, name, {}});
  entry.ops = ops;
  auto connection = connect_any(options.bootstrap);
  auto response = connection->call<protocol::AlterClientQuotasResponse>(request, 1);
  const auto& result = response.entries.at(0);
  if (result.error_code != 0) throw std::runtime_error(describe_error(result.error_code, result.error_message));
  ClientQuotaEntity named;
  parse_quota_entity(parts, named);  // the broker accepted it
  std::printf("%s quotas of %s\n", done, quota_entity_text(named).c_str());
  return 0;
}

}  // namespace

int run_quota_set(const QuotaOptions& options) {
  try {
    if (options.values.empty()) throw std::runtime_error("set needs KEY=VALUE (producer_byte_rate=1048576, ...)");
    std::vector<protocol::AlterClientQuotasRequest::OpData> ops;
    for (const auto& kv : options.values) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos) throw std::runtime_error("expected KEY=VALUE, got " + kv);
      size_t used = 0;
      const std::string text = kv.substr(eq + 1);
      double value = 0;
      try {
        value = std::stod(text, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != text.size()) throw std::runtime_error("not a number: " + kv);
      ops.push_back({kv.substr(0, eq), value, false, {}});
    }
    return alter(options, ops, "set");
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_quota_delete(const QuotaOptions& options) {
  try {
    std::vector<std::string> keys = options.values;
    if (keys.empty()) {
      keys = {std::string(kProducerByteRate), std::string(kConsumerByteRate), std::string(kRequestPercentage)};
    }
    std::vector<protocol::AlterClientQuotasRequest::OpData> ops;
    for (const auto& key : keys) ops.push_back({key, 0, true, {}});
    return alter(options, ops, "removed");
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_quota_list(const QuotaOptions& options) {
  try {
    protocol::DescribeClientQuotasRequest request;
    for (const auto& [type, name] : entity(options)) {
      request.components.push_back({type, static_cast<int8_t>(name ? 0 : 1), name, {}});
    }
    auto connection = connect_any(options.bootstrap);
    auto response = connection->call<protocol::DescribeClientQuotasResponse>(request, 1);
    if (response.error_code != 0) throw std::runtime_error(describe_error(response.error_code, response.error_message));
    std::vector<std::vector<std::string>> rows = {{"USER", "CLIENT-ID", "KEY", "VALUE"}};
    nlohmann::json out = nlohmann::json::array();
    for (const auto& entry : response.entries.value_or(decltype(response.entries)::value_type{})) {
      std::string user = "", client = "";
      nlohmann::json item = nlohmann::json::object();
      for (const auto& e : entry.entity) {
        const std::string shown = e.entity_name.value_or("<default>");
        (e.entity_type == kQuotaEntityUser ? user : client) = shown;
        item[e.entity_type] = e.entity_name ? nlohmann::json(*e.entity_name) : nlohmann::json();
      }
      nlohmann::json values = nlohmann::json::object();
      for (const auto& v : entry.values) {
        char number[64];
        auto end = std::to_chars(number, number + sizeof number, v.value).ptr;  // shortest that reads back the same
        rows.push_back({user.empty() ? "-" : user, client.empty() ? "-" : client, v.key, std::string(number, end)});
        values[v.key] = v.value;
      }
      item["values"] = values;
      out.push_back(item);
    }
    print_listing(options.format, rows, out);
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

}  // namespace fjord::cli
