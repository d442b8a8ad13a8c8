#include "cli/admin_client.h"

#include <algorithm>
#include <cstdio>

namespace fjord::cli {

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

void print_listing(const std::string& format, const std::vector<std::vector<std::string>>& rows,
                   const nlohmann::json& json) {
  if (format == "json") {
    std::printf("%s\n", json.dump(2).c_str());
  } else {
    print_table(rows);
  }
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 1, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

std::map<std::string, std::map<std::string, std::string>> describe_configs(AdminClient& admin,
                                                                           rd_kafka_ResourceType_t type,
                                                                           const std::vector<std::string>& names) {
  std::map<std::string, std::map<std::string, std::string>> out;
  if (names.empty()) return out;
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& name : names) resources.push_back(rd_kafka_ConfigResource_new(type, name.c_str()));
  auto* options = admin.options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_DescribeConfigs(admin.handle(), resources.data(), resources.size(), options, admin.queue());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
  auto event = admin.wait("DescribeConfigs");
  size_t count = 0;
  const auto** results =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_ConfigResource_error(results[i])) continue;
    auto& settings = out[rd_kafka_ConfigResource_name(results[i])];
    size_t entries = 0;
    const auto** configs = rd_kafka_ConfigResource_configs(results[i], &entries);
    for (size_t c = 0; c < entries; ++c) {
      if (const char* value = rd_kafka_ConfigEntry_value(configs[c]))
        settings[rd_kafka_ConfigEntry_name(configs[c])] = value;
    }
  }
  return out;
}

int failed(const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}

}  // namespace fjord::cli
