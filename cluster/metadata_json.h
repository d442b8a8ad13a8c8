// The cluster metadata's pieces as JSON, shared by the single-node file (local_metadata_store.h, one document)
// and etcd (etcd/metadata_layout.h, one key per piece), so that both write the same fields the same way:
// - the cluster's own fields: {"cluster_id", "broker_dynamic_configs", "producer_id_block_end",
//   "transactional_producers": {id: {"producer_id", "epoch"}},
//   "scram_credentials": {user: {mechanism: {"salt", "iterations", "stored_key", "server_key"}}} (bytes in hex;
//   left out while there are no users),
//   "acls": [{"resource_type", "resource_name", "pattern_type", "principal", "host", "operation", "permission"}]
//   (Kafka's wire numbers, model/acl.h; left out while there are none),
//   "client_quotas": [{"user": name or null for the default, "client-id": likewise (each left out when the entity
//   does not name that type), "values": {key: value}}] (left out while there are none)};
// - a topic: {"id" (32 hex digits), "partitions", "replication_factor", "configs"};
// - a partition's assignment: {"replicas", "leader", "leader_epoch", "isr", "partition_epoch"}, with
//   "adding_replicas" and "removing_replicas" while a reassignment is in progress.
// Fields added later are read with defaults, so that older documents still load.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cluster/metadata_store.h"

namespace fjord::cluster {

std::string topic_id_hex(const protocol::Uuid& id);
protocol::Uuid topic_id_from_hex(const std::string& text);

// The cluster's own fields into (or from) `doc`, beside whatever else it holds.
void write_cluster_fields(nlohmann::json& doc, const ClusterMetadata& metadata);
void read_cluster_fields(const nlohmann::json& doc, ClusterMetadata& metadata);

// A topic without its assignments.
nlohmann::json topic_to_json(const TopicMetadata& topic);
TopicMetadata topic_from_json(const std::string& name, const nlohmann::json& doc);

nlohmann::json assignment_to_json(const PartitionAssignment& assignment);
PartitionAssignment assignment_from_json(const nlohmann::json& doc);

}  // namespace fjord::cluster
