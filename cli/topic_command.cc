#include "cli/topic_command.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "cli/admin_client.h"
#include "cli/kafka_connection.h"
#include "protocol/messages/incremental_alter_configs.h"

namespace fjord::cli {
namespace {

struct PartitionHealth {
  int32_t partition = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  bool offline = false;
  bool under_replicated = false;
  bool under_min_isr = false;
};

struct TopicHealth {
  std::string name;
  int min_insync_replicas = 1;
  std::vector<PartitionHealth> partitions;
};

// min.insync.replicas of each topic, as the cluster resolves it (topic override or broker default).
std::map<std::string, int> min_insync_replicas(AdminClient& admin, const std::vector<std::string>& topics) {
  std::map<std::string, int> out;
  for (const auto& [topic, settings] : describe_configs(admin, RD_KAFKA_RESOURCE_TOPIC, topics)) {
    if (auto it = settings.find("min.insync.replicas"); it != settings.end()) out[topic] = std::stoi(it->second);
  }
  return out;
}

std::vector<TopicHealth> describe_topics(AdminClient& admin, const std::vector<std::string>& wanted) {
  const rd_kafka_metadata_t* metadata = nullptr;
  auto err = rd_kafka_metadata(admin.handle(), 1, nullptr, &metadata, kAdminTimeoutMs);
  if (err) throw std::runtime_error(std::string("Metadata: ") + rd_kafka_err2str(err));
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(metadata,
                                                                                         rd_kafka_metadata_destroy);
  std::vector<TopicHealth> out;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const auto& tm = metadata->topics[t];
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), tm.topic) == wanted.end()) continue;
    if (tm.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
    TopicHealth topic;
    topic.name = tm.topic;
    for (int p = 0; p < tm.partition_cnt; ++p) {
      const auto& pm = tm.partitions[p];
      PartitionHealth h;
      h.partition = pm.id;
      h.leader = pm.err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ? -1 : pm.leader;
      h.replicas.assign(pm.replicas, pm.replicas + pm.replica_cnt);
      h.isr.assign(pm.isrs, pm.isrs + pm.isr_cnt);
      topic.partitions.push_back(std::move(h));
    }
    std::sort(topic.partitions.begin(), topic.partitions.end(),
              [](const auto& a, const auto& b) { return a.partition < b.partition; });
    out.push_back(std::move(topic));
  }
  for (const auto& name : wanted) {
    bool found = std::any_of(out.begin(), out.end(), [&](const auto& t) { return t.name == name; });
    if (!found) throw std::runtime_error("topic " + name + " does not exist");
  }
  std::vector<std::string> names;
  for (const auto& t : out) names.push_back(t.name);
  auto min_isr = min_insync_replicas(admin, names);
  for (auto& t : out) {
    if (min_isr.count(t.name)) t.min_insync_replicas = min_isr[t.name];
    for (auto& p : t.partitions) {
      p.offline = p.leader < 0;
      p.under_replicated = p.isr.size() < p.replicas.size();
      p.under_min_isr = static_cast<int>(p.isr.size()) < t.min_insync_replicas;
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string status_of(const PartitionHealth& p) {
  if (p.offline) return "OFFLINE";
  if (p.under_min_isr) return "UNDER-MIN-ISR";
  if (p.under_replicated) return "UNDER-REPLICATED";
  return "OK";
}

// Throws on the first topic an Admin result reports an error for.
void check_topic_results(const rd_kafka_topic_result_t** results, size_t count, const std::string& what) {
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_topic_result_error(results[i])) {
      throw std::runtime_error(what + " " + rd_kafka_topic_result_name(results[i]) + ": " +
                               rd_kafka_topic_result_error_string(results[i]));
    }
  }
}

}  // namespace

int run_topic_create(const TopicOptions& options) try {
  std::vector<client::NewTopic> topics;
  for (const auto& name : options.topics) {
    client::NewTopic topic{name, options.partitions, options.replication_factor, {}};
    for (const auto& kv : options.configs) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) throw std::runtime_error("--config " + kv + ": expected key=value");
      topic.configs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    topics.push_back(std::move(topic));
  }
  AdminClient admin(options.bootstrap);
  admin.create_topics(topics);
  for (const auto& name : options.topics) std::printf("created topic %s\n", name.c_str());
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

int run_topic_delete(const TopicOptions& options) try {
  AdminClient admin(options.bootstrap);
  std::vector<rd_kafka_DeleteTopic_t*> topics;
  for (const auto& name : options.topics) topics.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
  auto* o = admin.options(RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_DeleteTopics(admin.handle(), topics.data(), topics.size(), o, admin.queue());
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
  auto event = admin.wait("DeleteTopics");
  size_t count = 0;
  auto** results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  check_topic_results(results, count, "deleting");
  for (const auto& name : options.topics) std::printf("deleted topic %s\n", name.c_str());
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

int run_topic_alter(const TopicOptions& options) try {
  if (options.topics.size() != 1) throw std::invalid_argument("give one topic to alter");
  const std::string& topic = options.topics.front();
  if (options.configs.empty() && options.delete_configs.empty() && options.new_partitions < 0) {
    std::fprintf(stderr, "error: nothing to change: give --config, --delete-config or --partitions\n");
    return 2;
  }
  if (!options.configs.empty() || !options.delete_configs.empty()) {
    constexpr int8_t kTopicResource = 2, kSet = 0, kDelete = 1;
    protocol::IncrementalAlterConfigsRequest request;
    auto& resource = request.resources.emplace_back();
    resource.resource_type = kTopicResource;
    resource.resource_name = topic;
    for (const auto& setting : options.configs) {
      const auto eq = setting.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("--config " + setting + ": expected key=value");
      resource.configs.push_back({setting.substr(0, eq), kSet, setting.substr(eq + 1), {}});
    }
    for (const auto& name : options.delete_configs) resource.configs.push_back({name, kDelete, std::nullopt, {}});
    auto connection = connect_any(options.bootstrap);
    auto response = connection->call<protocol::IncrementalAlterConfigsResponse>(request, 0);
    for (const auto& r : response.responses) {
      if (r.error_code != 0) {
        throw std::runtime_error("altering " + topic + ": " +
                                 rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(r.error_code)) +
                                 (r.error_message && !r.error_message->empty() ? " (" + *r.error_message + ")" : ""));
      }
    }
  }
  if (options.new_partitions >= 0) {
    AdminClient admin(options.bootstrap);
    auto* request = rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(options.new_partitions), nullptr, 0);
    auto* o = admin.options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_CreatePartitions(admin.handle(), &request, 1, o, admin.queue());
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewPartitions_destroy(request);
    auto event = admin.wait("CreatePartitions");
    size_t count = 0;
    auto** results =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(event.get()), &count);
    check_topic_results(results, count, "adding partitions to");
  }
  if (options.format == "json") {
    std::printf("%s\n",
                nlohmann::json{{"topic", topic},
                               {"set", options.configs},
                               {"deleted", options.delete_configs},
                               {"partitions", options.new_partitions >= 0 ? nlohmann::json(options.new_partitions)
                                                                          : nlohmann::json(nullptr)}}
                    .dump(2)
                    .c_str());
  } else {
    std::printf("altered topic %s\n", topic.c_str());
  }
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

int run_topic_list(const TopicOptions& options) try {
  AdminClient admin(options.bootstrap);
  auto topics = describe_topics(admin, {});
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : topics) out.push_back({{"topic", t.name}, {"partitions", t.partitions.size()}});
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"TOPIC", "PARTITIONS", "REPLICAS"}};
  for (const auto& t : topics) {
    const size_t replicas = t.partitions.empty() ? 0 : t.partitions.front().replicas.size();
    rows.push_back({t.name, std::to_string(t.partitions.size()), std::to_string(replicas)});
  }
  print_table(rows);
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

int run_topic_describe(const TopicOptions& options) try {
  AdminClient admin(options.bootstrap);
  auto topics = describe_topics(admin, options.topics);
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : topics) {
      nlohmann::json partitions = nlohmann::json::array();
      for (const auto& p : t.partitions) {
        partitions.push_back({{"partition", p.partition},
                              {"leader", p.leader},
                              {"replicas", p.replicas},
                              {"isr", p.isr},
                              {"offline", p.offline},
                              {"under_replicated", p.under_replicated},
                              {"under_min_isr", p.under_min_isr}});
      }
      out.push_back({{"topic", t.name}, {"min_insync_replicas", t.min_insync_replicas}, {"partitions", partitions}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "MIN-ISR", "STATUS"}};
  for (const auto& t : topics) {
    for (const auto& p : t.partitions) {
      rows.push_back({t.name, std::to_string(p.partition), p.leader < 0 ? "none" : std::to_string(p.leader),
                      join_ids(p.replicas), join_ids(p.isr), std::to_string(t.min_insync_replicas), status_of(p)});
    }
  }
  print_table(rows);
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

}  // namespace fjord::cli
