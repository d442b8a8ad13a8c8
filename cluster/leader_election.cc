#include "cluster/leader_election.h"

#include <algorithm>
#include <map>

namespace fjord::cluster {
namespace {

bool contains(const std::vector<int32_t>& nodes, int32_t node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

void change_leader(PartitionAssignment& a, int32_t leader) {
  a.leader = leader;
  ++a.leader_epoch;
  ++a.partition_epoch;
}

}  // namespace

ErrorCode elect_leader(PartitionAssignment& a, ElectionType type, const std::vector<int32_t>& live_brokers) {
  if (type == ElectionType::kPreferred) {
    if (a.replicas.empty() || a.leader == a.replicas.front()) return ErrorCode::kElectionNotNeeded;
    const int32_t preferred = a.replicas.front();
    if (!contains(live_brokers, preferred) || !contains(a.isr, preferred)) {
      return ErrorCode::kPreferredLeaderNotAvailable;
    }
    change_leader(a, preferred);
    return ErrorCode::kNone;
  }
  if (a.leader >= 0) return ErrorCode::kElectionNotNeeded;
  for (int32_t r : a.replicas) {
    if (!contains(live_brokers, r)) continue;
    // A replica in the last ISR loses nothing; prefer one before settling for any live replica.
    if (!contains(a.isr, r) &&
        std::any_of(a.isr.begin(), a.isr.end(), [&](int32_t i) { return contains(live_brokers, i); })) {
      continue;
    }
    a.isr = {r};
    change_leader(a, r);
    return ErrorCode::kNone;
  }
  return ErrorCode::kEligibleLeadersNotAvailable;
}

int rebalance_preferred_leaders(ClusterMetadata& metadata, const std::vector<int32_t>& live_brokers,
                                int32_t imbalance_percentage) {
  // Per preferred broker: how many partitions it prefers, and how many of those it does not lead.
  std::map<int32_t, std::pair<int, int>> counts;
  for (const auto& [name, topic] : metadata.topics) {
    for (const auto& a : topic.assignments) {
      if (a.replicas.empty()) continue;
      auto& [preferred, imbalanced] = counts[a.replicas.front()];
      ++preferred;
      if (a.leader != a.replicas.front()) ++imbalanced;
    }
  }
  int moved = 0;
  for (const auto& [broker, count] : counts) {
    const auto [preferred, imbalanced] = count;
    if (!contains(live_brokers, broker) || imbalanced == 0) continue;
    if (imbalanced * 100 <= imbalance_percentage * preferred) continue;
    for (auto& [name, topic] : metadata.topics) {
      for (auto& a : topic.assignments) {
        if (!a.replicas.empty() && a.replicas.front() == broker &&
            elect_leader(a, ElectionType::kPreferred, live_brokers) == ErrorCode::kNone) {
          ++moved;
        }
      }
    }
  }
  return moved;
}

namespace {

ElectionOutcome::Partition elect_one(TopicMetadata* topic, int32_t index, ElectionType type,
                                     const std::vector<int32_t>& live_brokers) {
  ElectionOutcome::Partition out{index, ErrorCode::kNone, {}};
  if (!topic || index < 0 || index >= topic->partitions) {
    out.error = ErrorCode::kUnknownTopicOrPartition;
    out.message = "The partition does not exist.";
    return out;
  }
  if (topic->assignments.empty()) {
    out.error = ErrorCode::kElectionNotNeeded;  // a single node leads everything it has
    return out;
  }
  if (index >= static_cast<int32_t>(topic->assignments.size())) {
    out.error = type == ElectionType::kPreferred ? ErrorCode::kPreferredLeaderNotAvailable
                                                 : ErrorCode::kEligibleLeadersNotAvailable;
    out.message = "The partition has not been placed on brokers yet.";
    return out;
  }
  auto& a = topic->assignments[static_cast<size_t>(index)];
  out.error = elect_leader(a, type, live_brokers);
  if (out.error == ErrorCode::kPreferredLeaderNotAvailable) {
    out.message = "Preferred replica " + std::to_string(a.replicas.front()) + " is not alive and in sync.";
  } else if (out.error == ErrorCode::kEligibleLeadersNotAvailable) {
    out.message = "No replica of the partition is alive.";
  }
  return out;
}

}  // namespace

std::vector<ElectionOutcome> elect_leaders(ClusterMetadata& metadata, ElectionType type,
                                           const std::optional<std::vector<ElectionTarget>>& targets,
                                           const std::vector<int32_t>& live_brokers) {
  std::vector<ElectionOutcome> outcomes;
  if (!targets) {
    for (auto& [name, topic] : metadata.topics) {
      ElectionOutcome outcome{name, {}};
      for (int32_t p = 0; p < topic.partitions; ++p) {
        auto result = elect_one(&topic, p, type, live_brokers);
        if (result.error != ErrorCode::kElectionNotNeeded) outcome.partitions.push_back(std::move(result));
      }
      outcomes.push_back(std::move(outcome));
    }
    return outcomes;
  }
  for (const auto& target : *targets) {
    auto it = metadata.topics.find(target.topic);
    TopicMetadata* topic = it == metadata.topics.end() ? nullptr : &it->second;
    ElectionOutcome outcome{target.topic, {}};
    for (int32_t p : target.partitions) outcome.partitions.push_back(elect_one(topic, p, type, live_brokers));
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

HandOff hand_off_leadership(ClusterMetadata& metadata, int32_t node, const std::vector<int32_t>& live_brokers) {
  HandOff result;
  for (auto& [name, topic] : metadata.topics) {
    for (auto& a : topic.assignments) {
      if (!contains(a.isr, node)) continue;
      if (a.leader != node) {
        a.isr.erase(std::find(a.isr.begin(), a.isr.end(), node));
        ++a.partition_epoch;
        ++result.left_isr;
        continue;
      }
      int32_t next = -1;
      for (int32_t r : a.replicas) {
        if (r != node && contains(a.isr, r) && contains(live_brokers, r)) {
          next = r;
          break;
        }
      }
      if (next < 0) {
        ++result.kept;
        continue;
      }
      a.isr.erase(std::find(a.isr.begin(), a.isr.end(), node));
      change_leader(a, next);
      ++result.moved;
    }
  }
  return result;
}

}  // namespace fjord::cluster
