#include "cli/reassignment_plan.h"

#include <algorithm>
#include <stdexcept>

namespace fjord::cli {
namespace {

bool contains(const std::vector<int32_t>& nodes, int32_t node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

// The least loaded of `candidates` not in `taken`; ties go to the earliest after `rotation` places, so that equal
// brokers take turns. -1 when none is left.
int32_t least_loaded(const std::vector<int32_t>& candidates, const std::vector<int32_t>& taken,
                     const std::map<int32_t, int>& load, size_t rotation) {
  int32_t best = -1;
  int best_load = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const int32_t b = candidates[(i + rotation) % candidates.size()];
    if (contains(taken, b)) continue;
    auto it = load.find(b);
    const int l = it == load.end() ? 0 : it->second;
    if (best < 0 || l < best_load) {
      best = b;
      best_load = l;
    }
  }
  return best;
}

}  // namespace

std::vector<Placement> plan_onto(const std::vector<Placement>& current, const std::vector<int32_t>& brokers) {
  std::map<int32_t, int> load;
  std::vector<Placement> plan;
  for (size_t i = 0; i < current.size(); ++i) {
    const auto& p = current[i];
    if (p.replicas.size() > brokers.size()) {
      throw std::invalid_argument(p.topic + "-" + std::to_string(p.partition) + " has " +
                                  std::to_string(p.replicas.size()) + " replicas but only " +
                                  std::to_string(brokers.size()) + " brokers were given");
    }
    Placement target{p.topic, p.partition, {}};
    for (int32_t r : p.replicas) {
      if (contains(brokers, r)) target.replicas.push_back(r);
    }
    while (target.replicas.size() < p.replicas.size()) {
      target.replicas.push_back(least_loaded(brokers, target.replicas, load, i));
    }
    for (int32_t r : target.replicas) ++load[r];
    plan.push_back(std::move(target));
  }
  return plan;
}

std::vector<Placement> plan_drain(const std::vector<Placement>& current, int32_t broker,
                                  const std::vector<int32_t>& brokers) {
  std::map<int32_t, int> load;
  for (const auto& p : current) {
    for (int32_t r : p.replicas) ++load[r];
  }
  std::vector<int32_t> others;
  for (int32_t b : brokers) {
    if (b != broker) others.push_back(b);
  }
  std::vector<Placement> plan;
  for (size_t i = 0; i < current.size(); ++i) {
    const auto& p = current[i];
    if (!contains(p.replicas, broker)) continue;
    Placement target{p.topic, p.partition, {}};
    for (int32_t r : p.replicas) {
      if (r != broker) target.replicas.push_back(r);
    }
    const int32_t replacement = least_loaded(others, target.replicas, load, i);
    if (replacement < 0) {
      throw std::invalid_argument("no broker can take " + p.topic + "-" + std::to_string(p.partition) +
                                  "'s replica from broker " + std::to_string(broker) +
                                  ": every other broker holds one");
    }
    target.replicas.push_back(replacement);
    ++load[replacement];
    plan.push_back(std::move(target));
  }
  return plan;
}

std::map<std::string, ThrottledReplicas> throttled_replicas(const std::vector<Placement>& from,
                                                            const std::vector<Placement>& to) {
  std::map<std::string, ThrottledReplicas> lists;
  auto add = [](std::string& list, int32_t partition, int32_t broker) {
    if (!list.empty()) list += ",";
    list += std::to_string(partition) + ":" + std::to_string(broker);
  };
  for (size_t i = 0; i < from.size() && i < to.size(); ++i) {
    auto& lists_of_topic = lists[from[i].topic];
    for (int32_t r : from[i].replicas) add(lists_of_topic.leader, from[i].partition, r);
    for (int32_t r : to[i].replicas) {
      if (!contains(from[i].replicas, r)) add(lists_of_topic.follower, to[i].partition, r);
    }
  }
  return lists;
}

}  // namespace fjord::cli
