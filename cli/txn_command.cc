#include "cli/txn_command.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "cli/admin_client.h"
#include "cli/kafka_connection.h"
#include "cli/properties.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/describe_transactions.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_transactions.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/write_txn_markers.h"

namespace fjord::cli {
namespace {

std::unique_ptr<KafkaConnection> connect_to(const protocol::MetadataResponse& cluster, int32_t node_id) {
  for (const auto& b : cluster.brokers) {
    if (b.node_id == node_id) return std::make_unique<KafkaConnection>(b.host, b.port);
  }
  throw std::runtime_error("broker " + std::to_string(node_id) + " is not in the cluster's metadata");
}

// The leader of one partition, with the cluster's metadata.
std::pair<protocol::MetadataResponse, int32_t> leader_of(const TxnOptions& options) {
  auto connection = connect_any(options.bootstrap);
  auto cluster = connection->metadata({options.topic});
  for (const auto& t : cluster.topics) {
    if (t.name != options.topic) continue;
    if (t.error_code != 0) throw std::runtime_error(options.topic + ": " + std::to_string(t.error_code));
    for (const auto& p : t.partitions) {
      if (p.partition_index == options.partition && p.leader_id >= 0) return {cluster, p.leader_id};
    }
  }
  throw std::runtime_error(options.topic + "-" + std::to_string(options.partition) + " has no leader");
}

protocol::DescribeProducersResponse::PartitionResponse describe_producers(const TxnOptions& options,
                                                                          std::unique_ptr<KafkaConnection>* leader) {
  auto [cluster, leader_id] = leader_of(options);
  *leader = connect_to(cluster, leader_id);
  protocol::DescribeProducersRequest request;
  auto& t = request.topics.emplace_back();
  t.name = options.topic;
  t.partition_indexes = {options.partition};
  auto response = (*leader)->call<protocol::DescribeProducersResponse>(request, 0);
  auto& partition = response.topics.at(0).partitions.at(0);
  if (partition.error_code != 0) {
    throw std::runtime_error(options.topic + "-" + std::to_string(options.partition) + ": error " +
                             std::to_string(partition.error_code));
  }
  return partition;
}

}  // namespace

int run_txn_list(const TxnOptions& options) {
  try {
    auto connection = connect_any(options.bootstrap);
    auto cluster = connection->metadata();
    std::vector<std::vector<std::string>> rows = {{"TRANSACTIONAL-ID", "PRODUCER-ID", "STATE", "COORDINATOR"}};
    nlohmann::json out = nlohmann::json::array();
    for (const auto& b : cluster.brokers) {
      KafkaConnection broker(b.host, b.port);
      auto listed = broker.call<protocol::ListTransactionsResponse>(protocol::ListTransactionsRequest{}, 1);
      if (listed.error_code != 0)
        throw std::runtime_error("broker " + std::to_string(b.node_id) + ": error " +
                                 std::to_string(listed.error_code));
      for (const auto& t : listed.transaction_states) {
        rows.push_back(
            {t.transactional_id, std::to_string(t.producer_id), t.transaction_state, std::to_string(b.node_id)});
        out.push_back({{"transactional_id", t.transactional_id},
                       {"producer_id", t.producer_id},
                       {"state", t.transaction_state},
                       {"coordinator", b.node_id}});
      }
    }
    print_listing(options.format, rows, out);
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_txn_describe(const TxnOptions& options) {
  try {
    auto connection = connect_any(options.bootstrap);
    protocol::FindCoordinatorRequest find;
    find.key = options.transactional_id;
    find.key_type = 1;
    auto found = connection->call<protocol::FindCoordinatorResponse>(find, 3);
    if (found.error_code != 0) {
      throw std::runtime_error("no coordinator for " + options.transactional_id + ": error " +
                               std::to_string(found.error_code));
    }
    KafkaConnection coordinator(found.host, found.port);
    protocol::DescribeTransactionsRequest request;
    request.transactional_ids = {options.transactional_id};
    auto described = coordinator.call<protocol::DescribeTransactionsResponse>(request, 0);
    const auto& t = described.transaction_states.at(0);
    if (t.error_code != 0) {
      throw std::runtime_error(options.transactional_id + ": error " + std::to_string(t.error_code) +
                               (t.error_code == 105 ? " (no such transactional id)" : ""));
    }
    std::string partitions;
    nlohmann::json topics = nlohmann::json::array();
    for (const auto& topic : t.topics) {
      for (int32_t p : topic.partitions) {
        partitions += (partitions.empty() ? "" : ",") + topic.topic + "-" + std::to_string(p);
        topics.push_back({{"topic", topic.topic}, {"partition", p}});
      }
    }
    if (options.format == "json") {
      nlohmann::json out = {{"transactional_id", t.transactional_id},
                            {"coordinator", found.node_id},
                            {"state", t.transaction_state},
                            {"producer_id", t.producer_id},
                            {"producer_epoch", t.producer_epoch},
                            {"timeout_ms", t.transaction_timeout_ms},
                            {"start_time_ms", t.transaction_start_time_ms},
                            {"partitions", topics}};
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      print_table(
          {{"TRANSACTIONAL-ID", "COORDINATOR", "STATE", "PRODUCER-ID", "EPOCH", "TIMEOUT-MS", "START-MS", "PARTITIONS"},
           {t.transactional_id, std::to_string(found.node_id), t.transaction_state, std::to_string(t.producer_id),
            std::to_string(t.producer_epoch), std::to_string(t.transaction_timeout_ms),
            std::to_string(t.transaction_start_time_ms), partitions.empty() ? "-" : partitions}});
    }
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_txn_producers(const TxnOptions& options) {
  try {
    std::unique_ptr<KafkaConnection> leader;
    auto partition = describe_producers(options, &leader);
    std::vector<std::vector<std::string>> rows = {
        {"PRODUCER-ID", "EPOCH", "LAST-SEQUENCE", "LAST-TIMESTAMP", "COORDINATOR-EPOCH", "OPEN-TXN-START-OFFSET"}};
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : partition.active_producers) {
      rows.push_back({std::to_string(p.producer_id), std::to_string(p.producer_epoch), std::to_string(p.last_sequence),
                      std::to_string(p.last_timestamp), std::to_string(p.coordinator_epoch),
                      p.current_txn_start_offset < 0 ? "-" : std::to_string(p.current_txn_start_offset)});
      out.push_back({{"producer_id", p.producer_id},
                     {"producer_epoch", p.producer_epoch},
                     {"last_sequence", p.last_sequence},
                     {"last_timestamp", p.last_timestamp},
                     {"coordinator_epoch", p.coordinator_epoch},
                     {"current_txn_start_offset", p.current_txn_start_offset}});
    }
    print_listing(options.format, rows, out);
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_txn_abort(const TxnOptions& options) {
  try {
    std::unique_ptr<KafkaConnection> leader;
    auto partition = describe_producers(options, &leader);
    const protocol::DescribeProducersResponse::ProducerState* producer = nullptr;
    for (const auto& p : partition.active_producers) {
      if (p.producer_id == options.producer_id) producer = &p;
    }
    if (!producer || producer->current_txn_start_offset < 0) {
      throw std::runtime_error("producer " + std::to_string(options.producer_id) + " has no open transaction in " +
                               options.topic + "-" + std::to_string(options.partition));
    }
    protocol::WriteTxnMarkersRequest request;
    auto& marker = request.markers.emplace_back();
    marker.producer_id = producer->producer_id;
    marker.producer_epoch = static_cast<int16_t>(producer->producer_epoch);
    marker.transaction_result = false;
    marker.coordinator_epoch = std::max(producer->coordinator_epoch, 0);
    auto& topic = marker.topics.emplace_back();
    topic.name = options.topic;
    topic.partition_indexes = {options.partition};
    auto answer = leader->call<protocol::WriteTxnMarkersResponse>(request, 1);
    const int16_t error = answer.markers.at(0).topics.at(0).partitions.at(0).error_code;
    if (error != 0) throw std::runtime_error("the abort marker was refused: error " + std::to_string(error));
    std::printf("aborted the transaction of producer %lld in %s-%d that began at offset %lld\n",
                static_cast<long long>(producer->producer_id), options.topic.c_str(), options.partition,
                static_cast<long long>(producer->current_txn_start_offset));
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

}  // namespace fjord::cli
