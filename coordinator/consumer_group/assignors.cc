#include "coordinator/consumer_group/assignors.h"

#include <algorithm>

namespace fjord::coordinator::consumer {
namespace {

std::map<std::string, Assignment> empty_assignments(const std::vector<AssignorMember>& members) {
  std::map<std::string, Assignment> out;
  for (const auto& m : members) out[m.member_id];
  return out;
}

class UniformAssignor final : public ServerAssignor {
 public:
  std::string_view name() const override { return "uniform"; }

  std::map<std::string, Assignment> assign(const std::vector<AssignorMember>& members,
                                           const std::map<TopicId, int32_t, TopicIdLess>& partitions) const override {
    auto out = empty_assignments(members);
    std::map<std::string, size_t> load;
    for (const auto& m : members) load[m.member_id] = 0;
    // Subscribers of each topic, in member order.
    std::map<TopicId, std::vector<const AssignorMember*>, TopicIdLess> subscribers;
    for (const auto& m : members) {
      for (const auto& topic : m.subscribed) {
        if (partitions.contains(topic)) subscribers[topic].push_back(&m);
      }
    }
    // 1. Where the last assignment put a partition, while that member still subscribes to its topic.
    std::map<std::pair<TopicId, int32_t>, std::string, PartitionLess> owner;
    for (const auto& m : members) {
      for (const auto& [topic, owned] : m.previous) {
        auto count = partitions.find(topic);
        if (count == partitions.end() || !m.subscribed.contains(topic)) continue;
        for (int32_t p : owned) {
          if (p < 0 || p >= count->second || owner.contains({topic, p})) continue;
          owner[{topic, p}] = m.member_id;
          ++load[m.member_id];
        }
      }
    }
    // 2. The rest to the least loaded of their topic's subscribers.
    for (const auto& [topic, count] : partitions) {
      auto subs = subscribers.find(topic);
      if (subs == subscribers.end()) continue;
      for (int32_t p = 0; p < count; ++p) {
        if (owner.contains({topic, p})) continue;
        const AssignorMember* least = *std::min_element(
            subs->second.begin(), subs->second.end(),
            [&](const AssignorMember* a, const AssignorMember* b) { return load[a->member_id] < load[b->member_id]; });
        owner[{topic, p}] = least->member_id;
        ++load[least->member_id];
      }
    }
    // 3. Balance: a partition moves from its owner to another subscriber of its topic holding two or more fewer,
    // until none can. Each move lowers the sum of squared loads, so this ends.
    for (bool moved = true; moved;) {
      moved = false;
      for (auto& [partition, member] : owner) {
        const auto& subs = subscribers[partition.first];
        const AssignorMember* least = *std::min_element(
            subs.begin(), subs.end(),
            [&](const AssignorMember* a, const AssignorMember* b) { return load[a->member_id] < load[b->member_id]; });
        if (load[member] > load[least->member_id] + 1) {
          --load[member];
          ++load[least->member_id];
          member = least->member_id;
          moved = true;
        }
      }
    }
    for (const auto& [partition, member] : owner) out[member][partition.first].insert(partition.second);
    return out;
  }

 private:
  struct PartitionLess {
    bool operator()(const std::pair<TopicId, int32_t>& a, const std::pair<TopicId, int32_t>& b) const {
      return a.first.bytes != b.first.bytes ? a.first.bytes < b.first.bytes : a.second < b.second;
    }
  };
};

class RangeAssignor final : public ServerAssignor {
 public:
  std::string_view name() const override { return "range"; }

  std::map<std::string, Assignment> assign(const std::vector<AssignorMember>& members,
                                           const std::map<TopicId, int32_t, TopicIdLess>& partitions) const override {
    auto out = empty_assignments(members);
    for (const auto& [topic, count] : partitions) {
      std::vector<const AssignorMember*> subs;
      for (const auto& m : members) {
        if (m.subscribed.contains(topic)) subs.push_back(&m);
      }
      if (subs.empty()) continue;
      // Static members keep their place in the order across restarts, whatever member id they come back with.
      std::sort(subs.begin(), subs.end(), [](const AssignorMember* a, const AssignorMember* b) {
        const std::string& ka = a->instance_id ? *a->instance_id : a->member_id;
        const std::string& kb = b->instance_id ? *b->instance_id : b->member_id;
        return ka != kb ? ka < kb : a->member_id < b->member_id;
      });
      const int32_t n = static_cast<int32_t>(subs.size());
      int32_t next = 0;
      for (int32_t i = 0; i < n; ++i) {
        const int32_t take = count / n + (i < count % n ? 1 : 0);
        for (int32_t p = next; p < next + take; ++p) out[subs[static_cast<size_t>(i)]->member_id][topic].insert(p);
        next += take;
      }
    }
    return out;
  }
};

}  // namespace

const ServerAssignor* find_assignor(std::string_view name) {
  static const UniformAssignor uniform;
  static const RangeAssignor range;
  if (name == uniform.name()) return &uniform;
  if (name == range.name()) return &range;
  return nullptr;
}

}  // namespace fjord::coordinator::consumer
