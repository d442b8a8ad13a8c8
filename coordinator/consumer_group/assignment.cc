#include "coordinator/consumer_group/assignment.h"

namespace fjord::coordinator::consumer {

size_t partition_count(const Assignment& assignment) {
  size_t n = 0;
  for (const auto& [topic, partitions] : assignment) n += partitions.size();
  return n;
}

bool contains(const Assignment& assignment, const TopicId& topic, int32_t partition) {
  auto it = assignment.find(topic);
  return it != assignment.end() && it->second.contains(partition);
}

Assignment minus(const Assignment& a, const Assignment& b) {
  Assignment out;
  for (const auto& [topic, partitions] : a) {
    for (int32_t p : partitions) {
      if (!contains(b, topic, p)) out[topic].insert(p);
    }
  }
  return out;
}

std::string describe(const Assignment& assignment, const std::map<TopicId, std::string, TopicIdLess>& names) {
  std::string out;
  for (const auto& [topic, partitions] : assignment) {
    auto name = names.find(topic);
    const std::string topic_name = name != names.end() ? name->second : topic.to_string();
    for (int32_t p : partitions) out += (out.empty() ? "" : ", ") + topic_name + "-" + std::to_string(p);
  }
  return out;
}

}  // namespace fjord::coordinator::consumer
