#include "cluster/controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "cluster/leader_election.h"
#include "cluster/reassignment.h"

namespace fjord::cluster {
namespace {

bool contains(const std::vector<int32_t>& nodes, int32_t node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

// Where a topic's round-robin starts: stable for the topic, different between topics, so leaders spread.
size_t start_for(const std::string& topic, size_t brokers) {
  size_t h = 0;
  for (unsigned char c : topic) h = h * 31 + c;
  return h % brokers;
}

// The brokers in the order placement walks them: with racks, one broker of each rack in turn (racks in name
// order, brokers in id order within a rack; brokers without a rack form one more), so that consecutive brokers —
// a partition's replicas — are on different racks whenever there are enough racks. Kafka's rack-aware assignment
// interleaves the same way.
std::vector<int32_t> rack_alternating(const std::vector<int32_t>& live, const BrokerRacks& racks) {
  if (racks.empty()) return live;
  std::map<std::string, std::vector<int32_t>> by_rack;
  for (int32_t b : live) {
    auto it = racks.find(b);
    by_rack[it == racks.end() ? std::string() : it->second].push_back(b);
  }
  std::vector<int32_t> order;
  for (size_t round = 0; order.size() < live.size(); ++round) {
    for (const auto& [rack, brokers] : by_rack) {
      if (round < brokers.size()) order.push_back(brokers[round]);
    }
  }
  return order;
}

bool place(TopicMetadata& topic, const std::vector<int32_t>& live) {
  const size_t wanted = static_cast<size_t>(topic.partitions);
  if (topic.assignments.size() >= wanted) return false;
  const size_t replication = static_cast<size_t>(std::max<int16_t>(topic.replication_factor, 1));
  // Too few brokers for the replication factor: wait for more rather than place fewer replicas.
  if (live.empty() || live.size() < replication) return false;
  const size_t start = start_for(topic.name, live.size());
  for (size_t p = topic.assignments.size(); p < wanted; ++p) {
    PartitionAssignment a;
    for (size_t r = 0; r < replication; ++r) a.replicas.push_back(live[(start + p + r) % live.size()]);
    a.leader = a.replicas.front();
    a.isr = a.replicas;
    topic.assignments.push_back(std::move(a));
  }
  return true;
}

bool fail_over(PartitionAssignment& a, const std::vector<int32_t>& live, bool unclean_allowed) {
  PartitionAssignment before = a;
  const bool leader_alive = a.leader >= 0 && contains(live, a.leader);
  if (!leader_alive) {
    int32_t next = -1;
    for (int32_t r : a.replicas) {
      if (contains(live, r) && contains(a.isr, r)) {
        next = r;
        break;
      }
    }
    if (next < 0 && unclean_allowed) {
      for (int32_t r : a.replicas) {
        if (contains(live, r)) {
          next = r;
          a.isr = {r};
          break;
        }
      }
    }
    if (next != a.leader) {
      a.leader = next;
      ++a.leader_epoch;
    }
  }
  if (a.leader >= 0) {
    std::vector<int32_t> isr;
    for (int32_t r : a.isr) {
      if (r == a.leader || contains(live, r)) isr.push_back(r);
    }
    if (!contains(isr, a.leader)) isr.insert(isr.begin(), a.leader);
    a.isr = std::move(isr);
  }
  if (a == before) return false;
  ++a.partition_epoch;
  return true;
}

}  // namespace

bool plan_assignments(ClusterMetadata& metadata, const std::vector<int32_t>& live_brokers,
                      const ControllerPolicy& policy, const BrokerRacks& racks) {
  bool changed = false;
  const auto placement_order = rack_alternating(live_brokers, racks);
  for (auto& [name, topic] : metadata.topics) {
    changed |= place(topic, placement_order);
    const bool unclean = policy.unclean_election_allowed(topic);
    for (auto& a : topic.assignments) {
      changed |= fail_over(a, live_brokers, unclean);
      changed |= complete_reassignment(a, live_brokers);
    }
  }
  return changed;
}

bool fence_broker(ClusterMetadata& metadata, int32_t node, const std::vector<int32_t>& live_brokers,
                  const ControllerPolicy& policy) {
  std::vector<int32_t> others;
  for (int32_t b : live_brokers) {
    if (b != node) others.push_back(b);
  }
  bool changed = false;
  for (auto& [name, topic] : metadata.topics) {
    const bool unclean = policy.unclean_election_allowed(topic);
    for (auto& a : topic.assignments) {
      if (contains(a.replicas, node)) changed |= fail_over(a, others, unclean);
    }
  }
  return changed;
}

BrokerRacks live_racks(const Membership& membership) {
  BrokerRacks racks;
  for (const auto& b : membership.live_brokers()) {
    if (b.rack) racks[b.node_id] = *b.rack;
  }
  return racks;
}

std::vector<int32_t> live_node_ids(const Membership& membership) {
  std::vector<int32_t> ids;
  for (const auto& b : membership.live_brokers()) ids.push_back(b.node_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Controller::Controller(MetadataStore& metadata, const Membership& membership, int32_t self, ControllerPolicy policy,
                       Scheduler& scheduler)
    : metadata_(metadata), membership_(membership), self_(self), policy_(std::move(policy)), scheduler_(scheduler) {}

Controller::~Controller() {
  *alive_ = false;
  if (rebalance_timer_) rebalance_timer_->cancel();
}

void Controller::start() {
  std::weak_ptr<bool> alive = alive_;
  metadata_.on_remote_change([this, alive] {
    if (auto a = alive.lock(); a && *a) run();
  });
  run();
  schedule_rebalance();
}

void Controller::schedule_rebalance() {
  if (!policy_.auto_leader_rebalance) return;
  rebalance_timer_ =
      scheduler_.schedule_after(policy_.imbalance_check_interval_ms, [this, alive = std::weak_ptr<bool>(alive_)] {
        auto a = alive.lock();
        if (!a || !*a) return;
        rebalance_leaders();
        schedule_rebalance();
      });
}

void Controller::rebalance_leaders() {
  if (membership_.controller_id() != self_) return;
  ClusterMetadata planned = metadata_.current();
  auto live = live_node_ids(membership_);
  const int32_t percentage = policy_.imbalance_percentage;
  const int moved = rebalance_preferred_leaders(planned, live, percentage);
  if (moved == 0) return;
  spdlog::info("controller: moving {} leaders back to their preferred replicas", moved);
  metadata_.update([live, percentage](ClusterMetadata& m) { rebalance_preferred_leaders(m, live, percentage); },
                   [](std::error_code error) {
                     // The next check tries again.
                     if (error) spdlog::warn("controller: preferred leaders not stored: {}", error.message());
                   });
}

void Controller::run() {
  if (membership_.controller_id() != self_) return;
  if (writing_) {
    again_ = true;
    return;
  }
  ClusterMetadata planned = metadata_.current();
  auto live = live_node_ids(membership_);
  auto racks = live_racks(membership_);
  if (!plan_assignments(planned, live, policy_, racks)) return;
  writing_ = true;
  auto policy = policy_;
  metadata_.update([live, policy, racks](ClusterMetadata& m) { plan_assignments(m, live, policy, racks); },
                   [this, alive = std::weak_ptr<bool>(alive_)](std::error_code error) {
                     auto a = alive.lock();
                     if (!a || !*a) return;
                     writing_ = false;
                     if (error) spdlog::warn("controller: assignments not stored: {}", error.message());
                     if (error) return;  // the next change (etcd back, a broker event) plans again
                     if (again_) {
                       again_ = false;
                       run();
                     }
                   });
}

}  // namespace fjord::cluster
