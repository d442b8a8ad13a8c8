// Test-only: the topics a consumer-protocol group subscribes to, set by the test (topic ids are 0…0N).
#pragma once

#include <map>
#include <string>

#include "coordinator/consumer_group/consumer_group.h"

namespace fjord::coordinator::testing {

inline consumer::TopicId topic_id(uint8_t n) {
  consumer::TopicId id;
  id.bytes[15] = n;
  return id;
}

class FakeTopicCatalog : public consumer::TopicCatalog {
 public:
  void add(const std::string& name, uint8_t id, int32_t partitions) {
    topics_[name] = {topic_id(id), name, partitions};
    ++version_;
  }
  std::optional<consumer::TopicMetadata> by_name(const std::string& name) const override {
    auto it = topics_.find(name);
    if (it == topics_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<consumer::TopicMetadata> all() const override {
    std::vector<consumer::TopicMetadata> out;
    for (const auto& [name, t] : topics_) out.push_back(t);
    return out;
  }
  uint64_t version() const override { return version_; }

 private:
  std::map<std::string, consumer::TopicMetadata> topics_;
  uint64_t version_ = 1;
};

}  // namespace fjord::coordinator::testing
