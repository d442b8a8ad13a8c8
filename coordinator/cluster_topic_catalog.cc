#include "coordinator/cluster_topic_catalog.h"

namespace fjord::coordinator {

std::optional<consumer::TopicMetadata> ClusterTopicCatalog::by_name(const std::string& name) const {
  const auto& topics = partitions_.metadata().topics;
  auto it = topics.find(name);
  if (it == topics.end()) return std::nullopt;
  return consumer::TopicMetadata{it->second.id, name, it->second.partitions};
}

std::vector<consumer::TopicMetadata> ClusterTopicCatalog::all() const {
  std::vector<consumer::TopicMetadata> out;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    if (name.starts_with("__")) continue;
    out.push_back({topic.id, name, topic.partitions});
  }
  return out;
}

uint64_t ClusterTopicCatalog::version() const {
  // FNV-1a over what a subscription depends on.
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&](const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  };
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    mix(name.data(), name.size());
    mix(topic.id.bytes.data(), topic.id.bytes.size());
    mix(&topic.partitions, sizeof(topic.partitions));
  }
  return hash;
}

}  // namespace fjord::coordinator
