#include "cluster/local_metadata_store.h"

#include <nlohmann/json.hpp>
#include <random>

namespace fjord::cluster {
namespace {

std::string hex(const protocol::Uuid& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id.bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

protocol::Uuid from_hex(const std::string& text) {
  protocol::Uuid id;
  if (text.size() != 32) throw std::invalid_argument("bad topic id " + text);
  for (size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(std::stoi(text.substr(2 * i, 2), nullptr, 16));
  return id;
}

}  // namespace

protocol::Uuid random_uuid() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  protocol::Uuid id;
  do {
    for (auto& b : id.bytes) b = static_cast<uint8_t>(rng());
    id.bytes[6] = static_cast<uint8_t>((id.bytes[6] & 0x0F) | 0x40);  // version 4
    id.bytes[8] = static_cast<uint8_t>((id.bytes[8] & 0x3F) | 0x80);
  } while (id.is_zero());
  return id;
}

LocalMetadataStore::LocalMetadataStore(storage::FileSystem& fs, std::string data_directory)
    : fs_(fs), path_(storage::join_path(data_directory, "cluster-metadata.json")) {
  if (auto bytes = fs_.read_all(path_)) {
    metadata_ = from_json(std::string(bytes->begin(), bytes->end()));
  } else {
    metadata_.cluster_id = random_uuid().to_string();
    write(metadata_);
  }
}

void LocalMetadataStore::update(const std::function<void(ClusterMetadata&)>& change,
                                std::function<void(std::error_code)> done) {
  ClusterMetadata next = metadata_;
  change(next);
  try {
    write(next);
  } catch (const std::system_error& e) {
    done(e.code());
    return;
  }
  metadata_ = std::move(next);
  done({});
}

void LocalMetadataStore::write(const ClusterMetadata& metadata) {
  std::string text = to_json(metadata);
  fs_.write_atomically(path_, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string LocalMetadataStore::to_json(const ClusterMetadata& metadata) {
  nlohmann::json doc;
  doc["version"] = 1;
  doc["cluster_id"] = metadata.cluster_id;
  doc["broker_dynamic_configs"] = metadata.broker_dynamic_configs;
  doc["producer_id_block_end"] = metadata.producer_id_block_end;
  auto& transactional = doc["transactional_producers"] = nlohmann::json::object();
  for (const auto& [id, p] : metadata.transactional_producers) {
    transactional[id] = {{"producer_id", p.producer_id}, {"epoch", p.epoch}};
  }
  auto& topics = doc["topics"] = nlohmann::json::object();
  for (const auto& [name, topic] : metadata.topics) {
    auto& t = topics[name] = {{"id", hex(topic.id)},
                              {"partitions", topic.partitions},
                              {"replication_factor", topic.replication_factor},
                              {"configs", topic.configs}};
    if (!topic.assignments.empty()) {
      auto& assignments = t["assignments"] = nlohmann::json::array();
      for (const auto& a : topic.assignments) {
        nlohmann::json assignment = {{"replicas", a.replicas},
                                     {"leader", a.leader},
                                     {"leader_epoch", a.leader_epoch},
                                     {"isr", a.isr},
                                     {"partition_epoch", a.partition_epoch}};
        if (!a.adding.empty()) assignment["adding_replicas"] = a.adding;
        if (!a.removing.empty()) assignment["removing_replicas"] = a.removing;
        assignments.push_back(std::move(assignment));
      }
    }
  }
  return doc.dump(2) + "\n";
}

ClusterMetadata LocalMetadataStore::from_json(const std::string& text) {
  auto doc = nlohmann::json::parse(text);
  ClusterMetadata m;
  m.cluster_id = doc.at("cluster_id").get<std::string>();
  m.broker_dynamic_configs = doc.value("broker_dynamic_configs", ConfigMap{});
  m.producer_id_block_end = doc.value("producer_id_block_end", int64_t{0});
  if (doc.contains("transactional_producers")) {
    for (const auto& [id, p] : doc["transactional_producers"].items()) {
      m.transactional_producers[id] = {p.at("producer_id").get<int64_t>(), p.at("epoch").get<int16_t>()};
    }
  }
  for (const auto& [name, t] : doc.at("topics").items()) {
    TopicMetadata topic;
    topic.name = name;
    topic.id = from_hex(t.at("id").get<std::string>());
    topic.partitions = t.at("partitions").get<int32_t>();
    topic.replication_factor = t.value("replication_factor", int16_t{1});
    topic.configs = t.value("configs", ConfigMap{});
    if (t.contains("assignments")) {
      for (const auto& a : t["assignments"]) {
        PartitionAssignment assignment;
        assignment.replicas = a.at("replicas").get<std::vector<int32_t>>();
        assignment.leader = a.at("leader").get<int32_t>();
        assignment.leader_epoch = a.at("leader_epoch").get<int32_t>();
        assignment.isr = a.at("isr").get<std::vector<int32_t>>();
        assignment.partition_epoch = a.value("partition_epoch", 0);
        assignment.adding = a.value("adding_replicas", std::vector<int32_t>{});
        assignment.removing = a.value("removing_replicas", std::vector<int32_t>{});
        topic.assignments.push_back(std::move(assignment));
      }
    }
    m.topics[name] = std::move(topic);
  }
  return m;
}

}  // namespace fjord::cluster
