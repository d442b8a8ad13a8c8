#include "cluster/etcd/metadata_layout.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cluster/metadata_json.h"

namespace fjord::cluster::etcd {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string partition_key(const std::string& topic, size_t index) {
  return kPartitionsPrefix + topic + "/" + std::to_string(index);
}

std::string cluster_value(const ClusterMetadata& m) {
  nlohmann::json doc = nlohmann::json::object();
  write_cluster_fields(doc, m);
  return doc.dump();
}

bool same_cluster_fields(const ClusterMetadata& a, const ClusterMetadata& b) {
  if (a.transactional_producers.size() != b.transactional_producers.size()) return false;
  for (auto i = a.transactional_producers.begin(), j = b.transactional_producers.begin();
       i != a.transactional_producers.end(); ++i, ++j) {
    if (i->first != j->first || i->second.producer_id != j->second.producer_id || i->second.epoch != j->second.epoch) {
      return false;
    }
  }
  return a.cluster_id == b.cluster_id && a.broker_dynamic_configs == b.broker_dynamic_configs &&
         a.producer_id_block_end == b.producer_id_block_end && a.scram_credentials == b.scram_credentials &&
         a.acls == b.acls && a.client_quotas == b.client_quotas;
}

bool same_topic_fields(const TopicMetadata& a, const TopicMetadata& b) {
  return a.id == b.id && a.partitions == b.partitions && a.replication_factor == b.replication_factor &&
         a.configs == b.configs;
}

}  // namespace

bool is_metadata_key(const std::string& key) {
  return key == kClusterKey || starts_with(key, kTopicsPrefix) || starts_with(key, kPartitionsPrefix);
}

std::vector<KeyWrite> changed_keys(const ClusterMetadata& before, const ClusterMetadata& after) {
  std::vector<KeyWrite> topics, partitions, deleted_partitions, deleted_topics;
  for (const auto& [name, topic] : after.topics) {
    auto old = before.topics.find(name);
    const TopicMetadata* was = old == before.topics.end() ? nullptr : &old->second;
    if (!was || !same_topic_fields(*was, topic)) {
      topics.push_back({kTopicsPrefix + name, topic_to_json(topic).dump(), was != nullptr});
    }
    for (size_t i = 0; i < topic.assignments.size(); ++i) {
      const bool existed = was && i < was->assignments.size();
      if (existed && was->assignments[i] == topic.assignments[i]) continue;
      partitions.push_back({partition_key(name, i), assignment_to_json(topic.assignments[i]).dump(), existed});
    }
    for (size_t i = topic.assignments.size(); was && i < was->assignments.size(); ++i) {
      deleted_partitions.push_back({partition_key(name, i), std::nullopt});
    }
  }
  for (const auto& [name, topic] : before.topics) {
    if (after.topics.count(name)) continue;
    for (size_t i = 0; i < topic.assignments.size(); ++i) {
      deleted_partitions.push_back({partition_key(name, i), std::nullopt});
    }
    deleted_topics.push_back({kTopicsPrefix + name, std::nullopt});
  }
  std::vector<KeyWrite> writes;
  if (!same_cluster_fields(before, after)) writes.push_back({kClusterKey, cluster_value(after)});
  for (auto* group : {&topics, &partitions, &deleted_partitions, &deleted_topics}) {
    writes.insert(writes.end(), std::make_move_iterator(group->begin()), std::make_move_iterator(group->end()));
  }
  return writes;
}

std::vector<KeyWrite> all_keys(const ClusterMetadata& metadata) {
  ClusterMetadata nothing;
  auto writes = changed_keys(nothing, metadata);
  // The cluster's fields may equal an empty metadata's; its key is written all the same.
  if (writes.empty() || writes.front().key != kClusterKey) {
    writes.insert(writes.begin(), KeyWrite{kClusterKey, cluster_value(metadata)});
  }
  for (auto& w : writes) w.existed = false;
  return writes;
}

void apply_metadata_key(ClusterMetadata& metadata, const std::string& key, const std::optional<std::string>& value) {
  if (key == kClusterKey) {
    if (value) read_cluster_fields(nlohmann::json::parse(*value), metadata);
    return;
  }
  if (starts_with(key, kTopicsPrefix)) {
    const std::string name = key.substr(kTopicsPrefix.size());
    if (!value) {
      metadata.topics.erase(name);
      return;
    }
    TopicMetadata topic = topic_from_json(name, nlohmann::json::parse(*value));
    auto& slot = metadata.topics[name];
    topic.assignments = std::move(slot.assignments);
    // A topic deleted and created again under its name starts without the old one's placement.
    if (slot.id != topic.id && !slot.id.is_zero()) topic.assignments.clear();
    slot = std::move(topic);
    return;
  }
  if (!starts_with(key, kPartitionsPrefix)) throw std::invalid_argument("not a metadata key: " + key);
  const std::string rest = key.substr(kPartitionsPrefix.size());
  const size_t slash = rest.rfind('/');
  if (slash == std::string::npos || slash == 0) throw std::invalid_argument("malformed partition key: " + key);
  const std::string name = rest.substr(0, slash);
  const size_t index = std::stoul(rest.substr(slash + 1));
  auto it = metadata.topics.find(name);
  if (!value) {
    // A partition goes only with its topic: its key's deletion comes just before the topic's.
    if (it != metadata.topics.end() && index + 1 == it->second.assignments.size()) it->second.assignments.pop_back();
    return;
  }
  // The topic's key comes before its partitions' (changed_keys' order), except in a full read, which is sorted by
  // key: then the partition waits in a topic that its own key fills in a moment later.
  auto& topic = metadata.topics[name];
  if (topic.name.empty()) topic.name = name;
  if (topic.assignments.size() <= index) topic.assignments.resize(index + 1);
  topic.assignments[index] = assignment_from_json(nlohmann::json::parse(*value));
}

}  // namespace fjord::cluster::etcd
