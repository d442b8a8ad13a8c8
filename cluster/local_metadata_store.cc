#include "cluster/local_metadata_store.h"

#include <nlohmann/json.hpp>
#include <random>

#include "cluster/metadata_json.h"

namespace fjord::cluster {

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
  write_cluster_fields(doc, metadata);
  auto& topics = doc["topics"] = nlohmann::json::object();
  for (const auto& [name, topic] : metadata.topics) {
    auto& t = topics[name] = topic_to_json(topic);
    if (!topic.assignments.empty()) {
      auto& assignments = t["assignments"] = nlohmann::json::array();
      for (const auto& a : topic.assignments) assignments.push_back(assignment_to_json(a));
    }
  }
  return doc.dump(2) + "\n";
}

ClusterMetadata LocalMetadataStore::from_json(const std::string& text) {
  auto doc = nlohmann::json::parse(text);
  ClusterMetadata m;
  read_cluster_fields(doc, m);
  for (const auto& [name, t] : doc.at("topics").items()) {
    TopicMetadata topic = topic_from_json(name, t);
    if (t.contains("assignments")) {
      for (const auto& a : t["assignments"]) topic.assignments.push_back(assignment_from_json(a));
    }
    m.topics[name] = std::move(topic);
  }
  return m;
}

}  // namespace fjord::cluster
