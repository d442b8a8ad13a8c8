#include "cli/reassign_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "cli/admin_client.h"
#include "cli/kafka_connection.h"
#include "cli/reassignment_plan.h"
#include "model/error_codes.h"
#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/list_partition_reassignments.h"

namespace fjord::cli {
namespace {

constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;
constexpr int8_t kSet = 0;
constexpr int8_t kDelete = 1;

std::string describe_error(int16_t code, const std::optional<std::string>& message) {
  std::string text(error_name(static_cast<ErrorCode>(code)));
  if (message && !message->empty()) text += ": " + *message;
  return text;
}

std::vector<Placement> placements_of(const protocol::MetadataResponse& metadata, const std::string& only_topic) {
  std::vector<Placement> placements;
  for (const auto& t : metadata.topics) {
    if (!t.name || (!only_topic.empty() && *t.name != only_topic)) continue;
    if (t.error_code != 0) throw std::runtime_error(*t.name + ": " + describe_error(t.error_code, std::nullopt));
    for (const auto& p : t.partitions) placements.push_back({*t.name, p.partition_index, p.replica_nodes});
  }
  std::sort(placements.begin(), placements.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return placements;
}

std::vector<int32_t> broker_ids(const protocol::MetadataResponse& metadata) {
  std::vector<int32_t> ids;
  for (const auto& b : metadata.brokers) ids.push_back(b.node_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

void alter_configs(KafkaConnection& connection, protocol::IncrementalAlterConfigsRequest request) {
  auto response = connection.call<protocol::IncrementalAlterConfigsResponse>(request, 1);
  for (const auto& r : response.responses) {
    if (r.error_code != 0) {
      throw std::runtime_error("setting the throttle on " + r.resource_name + ": " +
                               describe_error(r.error_code, r.error_message));
    }
  }
}

// Kafka's replication throttle for these moves: the rate on every broker (the cluster-wide dynamic default), the
// replicas on each topic. `set` false removes all of it.
void throttle(KafkaConnection& connection, const std::map<std::string, ThrottledReplicas>& lists, int64_t rate,
              bool set) {
  protocol::IncrementalAlterConfigsRequest request;
  auto& brokers = request.resources.emplace_back();
  brokers.resource_type = kBrokerResource;
  brokers.resource_name = "";
  for (const char* key : {"leader.replication.throttled.rate", "follower.replication.throttled.rate"}) {
    auto& c = brokers.configs.emplace_back();
    c.name = key;
    c.config_operation = set ? kSet : kDelete;
    if (set) c.value = std::to_string(rate);
  }
  for (const auto& [topic, replicas] : lists) {
    auto& t = request.resources.emplace_back();
    t.resource_type = kTopicResource;
    t.resource_name = topic;
    for (const auto& [key, list] : {std::pair{"leader.replication.throttled.replicas", replicas.leader},
                                    std::pair{"follower.replication.throttled.replicas", replicas.follower}}) {
      auto& c = t.configs.emplace_back();
      c.name = key;
      c.config_operation = set ? kSet : kDelete;
      if (set) c.value = list;
    }
  }
  alter_configs(connection, std::move(request));
}

// Sends the moves (`replicas` null cancels); returns how many were refused, each reported on stderr.
int alter(KafkaConnection& connection, const std::vector<Placement>& moves, bool cancel) {
  const int16_t version = connection.usable_version(protocol::AlterPartitionReassignmentsRequest::kApiKey, 0);
  if (version < 0) throw std::runtime_error("the cluster does not serve AlterPartitionReassignments");
  protocol::AlterPartitionReassignmentsRequest request;
  for (const auto& m : moves) {
    if (request.topics.empty() || request.topics.back().name != m.topic) request.topics.emplace_back().name = m.topic;
    auto& p = request.topics.back().partitions.emplace_back();
    p.partition_index = m.partition;
    if (!cancel) p.replicas = m.replicas;
  }
  auto response = connection.call<protocol::AlterPartitionReassignmentsResponse>(request, version);
  if (response.error_code != 0) throw std::runtime_error(describe_error(response.error_code, response.error_message));
  int refused = 0;
  for (const auto& t : response.responses) {
    for (const auto& p : t.partitions) {
      if (p.error_code == 0) continue;
      ++refused;
      std::fprintf(stderr, "%s-%d: %s\n", t.name.c_str(), p.partition_index,
                   describe_error(p.error_code, p.error_message).c_str());
    }
  }
  return refused;
}

// The partitions of `moves` still moving, as ListPartitionReassignments says, with their replicas now.
std::vector<Placement> still_moving(KafkaConnection& connection, const std::vector<Placement>& moves) {
  protocol::ListPartitionReassignmentsRequest request;
  request.topics.emplace();
  for (const auto& m : moves) {
    if (request.topics->empty() || request.topics->back().name != m.topic) {
      request.topics->emplace_back().name = m.topic;
    }
    request.topics->back().partition_indexes.push_back(m.partition);
  }
  auto response = connection.call<protocol::ListPartitionReassignmentsResponse>(request, 0);
  if (response.error_code != 0) throw std::runtime_error(describe_error(response.error_code, response.error_message));
  std::vector<Placement> moving;
  for (const auto& t : response.topics) {
    for (const auto& p : t.partitions) moving.push_back({t.name, p.partition_index, p.replicas});
  }
  return moving;
}

int execute(const ReassignOptions& options, KafkaConnection& connection, const std::vector<Placement>& from,
            const std::vector<Placement>& to) {
  std::vector<std::vector<std::string>> rows{{"TOPIC", "PARTITION", "FROM", "TO"}};
  std::vector<Placement> from_moving, to_moving;
  for (size_t i = 0; i < from.size(); ++i) {
    if (from[i].replicas == to[i].replicas) continue;
    from_moving.push_back(from[i]);
    to_moving.push_back(to[i]);
    rows.push_back(
        {to[i].topic, std::to_string(to[i].partition), join_ids(from[i].replicas), join_ids(to[i].replicas)});
  }
  if (to_moving.empty()) {
    std::printf("nothing to move\n");
    return 0;
  }
  print_table(rows);
  const auto lists = throttled_replicas(from_moving, to_moving);
  const bool throttled = options.throttle_bytes_per_second > 0;
  if (throttled) throttle(connection, lists, options.throttle_bytes_per_second, true);
  if (const int refused = alter(connection, to_moving, false); refused > 0) {
    std::fprintf(stderr, "error: %d of %zu moves refused\n", refused, to_moving.size());
    return 1;
  }
  std::printf(
      "started moving %zu partitions%s\n", to_moving.size(),
      throttled ? (", throttled to " + std::to_string(options.throttle_bytes_per_second) + " B/s").c_str() : "");
  if (!options.wait) {
    if (throttled) std::printf("the throttle stays until removed: run again with --wait, or delete the settings\n");
    return 0;
  }
  const auto started = std::chrono::steady_clock::now();
  size_t reported = to_moving.size();
  for (;;) {
    const size_t moving = still_moving(connection, to_moving).size();
    if (moving == 0) break;
    if (moving != reported) {
      std::printf("%zu of %zu partitions still moving\n", moving, to_moving.size());
      std::fflush(stdout);
      reported = moving;
    }
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(options.wait_timeout_s)) {
      std::fprintf(stderr, "error: %zu partitions still moving after %d s\n", moving, options.wait_timeout_s);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (throttled) throttle(connection, lists, 0, false);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("moved %zu partitions in %.1f s%s\n", to_moving.size(), seconds, throttled ? "; throttle removed" : "");
  return 0;
}

}  // namespace

int run_topic_reassign(const ReassignOptions& options) try {
  auto connection = connect_any(options.bootstrap);
  auto metadata = connection->metadata({options.topic});
  auto from = placements_of(metadata, options.topic);
  if (from.empty()) throw std::runtime_error("topic " + options.topic + " not found");
  if (options.cancel) {
    const auto moving = still_moving(*connection, from);
    const int refused = moving.empty() ? 0 : alter(*connection, moving, true);
    std::printf("cancelled %zu moves of %s\n", moving.size() - static_cast<size_t>(refused), options.topic.c_str());
    // As Kafka's tool does by default: a cancelled move leaves no throttle behind (the rates and this topic's
    // throttled replicas).
    throttle(*connection, {{options.topic, {}}}, 0, false);
    std::printf("throttle removed\n");
    return refused > 0 ? 1 : 0;
  }
  std::vector<Placement> to;
  if (options.partition >= 0) {
    if (options.replicas.empty()) throw std::runtime_error("--partition needs --replicas");
    std::vector<Placement> one;
    for (const auto& p : from) {
      if (p.partition == options.partition) one.push_back(p);
    }
    if (one.empty()) throw std::runtime_error(options.topic + " has no partition " + std::to_string(options.partition));
    from = one;
    to = {{options.topic, options.partition, options.replicas}};
  } else {
    if (options.brokers.empty()) throw std::runtime_error("give --brokers, or --partition with --replicas");
    to = plan_onto(from, options.brokers);
  }
  return execute(options, *connection, from, to);
} catch (const std::exception& e) {
  return failed(e);
}

int run_cluster_drain(const ReassignOptions& options) try {
  auto connection = connect_any(options.bootstrap);
  auto metadata = connection->metadata_of_all_topics();
  const auto all = placements_of(metadata, "");
  const auto brokers = broker_ids(metadata);
  const auto to = plan_drain(all, options.drain_broker, brokers);
  std::vector<Placement> from;
  for (const auto& p : all) {
    if (std::find(p.replicas.begin(), p.replicas.end(), options.drain_broker) != p.replicas.end()) from.push_back(p);
  }
  const int status = execute(options, *connection, from, to);
  if (status == 0 && options.wait) {
    std::printf("broker %d holds no replicas any more\n", options.drain_broker);
  }
  return status;
} catch (const std::exception& e) {
  return failed(e);
}

}  // namespace fjord::cli
