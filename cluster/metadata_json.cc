#include "cluster/metadata_json.h"

#include <stdexcept>

namespace fjord::cluster {

std::string topic_id_hex(const protocol::Uuid& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id.bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

protocol::Uuid topic_id_from_hex(const std::string& text) {
  protocol::Uuid id;
  if (text.size() != 32) throw std::invalid_argument("bad topic id " + text);
  for (size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(std::stoi(text.substr(2 * i, 2), nullptr, 16));
  return id;
}

namespace {

std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string from_hex(const std::string& text) {
  if (text.size() % 2 != 0) throw std::invalid_argument("odd hex length");
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

void write_cluster_fields(nlohmann::json& doc, const ClusterMetadata& metadata) {
  doc["cluster_id"] = metadata.cluster_id;
  doc["broker_dynamic_configs"] = metadata.broker_dynamic_configs;
  doc["producer_id_block_end"] = metadata.producer_id_block_end;
  auto& transactional = doc["transactional_producers"] = nlohmann::json::object();
  for (const auto& [id, p] : metadata.transactional_producers) {
    transactional[id] = {{"producer_id", p.producer_id}, {"epoch", p.epoch}};
  }
  if (!metadata.acls.empty()) {
    auto& acls = doc["acls"] = nlohmann::json::array();
    for (const auto& acl : metadata.acls) {
      acls.push_back({{"resource_type", static_cast<int>(acl.resource_type)},
                      {"resource_name", acl.resource_name},
                      {"pattern_type", static_cast<int>(acl.pattern_type)},
                      {"principal", acl.principal},
                      {"host", acl.host},
                      {"operation", static_cast<int>(acl.operation)},
                      {"permission", static_cast<int>(acl.permission)}});
    }
  }
  if (!metadata.client_quotas.empty()) {
    auto& quotas = doc["client_quotas"] = nlohmann::json::array();
    for (const auto& [entity, values] : metadata.client_quotas) {
      nlohmann::json entry = {{"values", values}};
      auto put = [&](std::string_view type, const QuotaEntityPart& part) {
        if (part.present) entry[std::string(type)] = part.name ? nlohmann::json(*part.name) : nlohmann::json();
      };
      put(kQuotaEntityUser, entity.user);
      put(kQuotaEntityClientId, entity.client_id);
      quotas.push_back(std::move(entry));
    }
  }
  if (!metadata.scram_credentials.empty()) {
    auto& users = doc["scram_credentials"] = nlohmann::json::object();
    for (const auto& [user, mechanisms] : metadata.scram_credentials) {
      auto& entry = users[user] = nlohmann::json::object();
      for (const auto& [mechanism, c] : mechanisms) {
        entry[mechanism] = {{"salt", hex(c.salt)},
                            {"iterations", c.iterations},
                            {"stored_key", hex(c.stored_key)},
                            {"server_key", hex(c.server_key)}};
      }
    }
  }
}

void read_cluster_fields(const nlohmann::json& doc, ClusterMetadata& metadata) {
  metadata.cluster_id = doc.at("cluster_id").get<std::string>();
  metadata.broker_dynamic_configs = doc.value("broker_dynamic_configs", ConfigMap{});
  metadata.producer_id_block_end = doc.value("producer_id_block_end", int64_t{0});
  metadata.transactional_producers.clear();
  if (doc.contains("transactional_producers")) {
    for (const auto& [id, p] : doc["transactional_producers"].items()) {
      metadata.transactional_producers[id] = {p.at("producer_id").get<int64_t>(), p.at("epoch").get<int16_t>()};
    }
  }
  metadata.acls.clear();
  if (doc.contains("acls")) {
    for (const auto& a : doc["acls"]) {
      metadata.acls.push_back(
          {static_cast<AclResourceType>(a.at("resource_type").get<int>()), a.at("resource_name").get<std::string>(),
           static_cast<AclPatternType>(a.at("pattern_type").get<int>()), a.at("principal").get<std::string>(),
           a.at("host").get<std::string>(), static_cast<AclOperation>(a.at("operation").get<int>()),
           static_cast<AclPermission>(a.at("permission").get<int>())});
    }
  }
  metadata.client_quotas.clear();
  if (doc.contains("client_quotas")) {
    for (const auto& q : doc["client_quotas"]) {
      ClientQuotaEntity entity;
      auto get = [&](std::string_view type, QuotaEntityPart& part) {
        auto found = q.find(std::string(type));
        if (found == q.end()) return;
        part.present = true;
        if (!found->is_null()) part.name = found->get<std::string>();
      };
      get(kQuotaEntityUser, entity.user);
      get(kQuotaEntityClientId, entity.client_id);
      metadata.client_quotas[entity] = q.at("values").get<std::map<std::string, double>>();
    }
  }
  metadata.scram_credentials.clear();
  if (doc.contains("scram_credentials")) {
    for (const auto& [user, mechanisms] : doc["scram_credentials"].items()) {
      auto& entry = metadata.scram_credentials[user];
      for (const auto& [mechanism, c] : mechanisms.items()) {
        entry[mechanism] = {from_hex(c.at("salt").get<std::string>()), c.at("iterations").get<int32_t>(),
                            from_hex(c.at("stored_key").get<std::string>()),
                            from_hex(c.at("server_key").get<std::string>())};
      }
    }
  }
}

nlohmann::json topic_to_json(const TopicMetadata& topic) {
  return {{"id", topic_id_hex(topic.id)},
          {"partitions", topic.partitions},
          {"replication_factor", topic.replication_factor},
          {"configs", topic.configs}};
}

TopicMetadata topic_from_json(const std::string& name, const nlohmann::json& doc) {
  TopicMetadata topic;
  topic.name = name;
  topic.id = topic_id_from_hex(doc.at("id").get<std::string>());
  topic.partitions = doc.at("partitions").get<int32_t>();
  topic.replication_factor = doc.value("replication_factor", int16_t{1});
  topic.configs = doc.value("configs", ConfigMap{});
  return topic;
}

nlohmann::json assignment_to_json(const PartitionAssignment& a) {
  nlohmann::json doc = {{"replicas", a.replicas},
                        {"leader", a.leader},
                        {"leader_epoch", a.leader_epoch},
                        {"isr", a.isr},
                        {"partition_epoch", a.partition_epoch}};
  if (!a.adding.empty()) doc["adding_replicas"] = a.adding;
  if (!a.removing.empty()) doc["removing_replicas"] = a.removing;
  return doc;
}

PartitionAssignment assignment_from_json(const nlohmann::json& doc) {
  PartitionAssignment a;
  a.replicas = doc.at("replicas").get<std::vector<int32_t>>();
  a.leader = doc.at("leader").get<int32_t>();
  a.leader_epoch = doc.at("leader_epoch").get<int32_t>();
  a.isr = doc.at("isr").get<std::vector<int32_t>>();
  a.partition_epoch = doc.value("partition_epoch", 0);
  a.adding = doc.value("adding_replicas", std::vector<int32_t>{});
  a.removing = doc.value("removing_replicas", std::vector<int32_t>{});
  return a;
}

}  // namespace fjord::cluster
