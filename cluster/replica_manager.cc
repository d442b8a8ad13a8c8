#include "cluster/replica_manager.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <tuple>

#include "cluster/reassignment.h"

namespace fjord::cluster {

ReplicaManager::ReplicaManager(PartitionManager& partitions, MetadataStore& metadata, const Membership& membership,
                               ReplicaFetcher& fetcher, Scheduler& scheduler, int64_t isr_check_interval_ms,
                               PartitionProbe* probe)
    : partitions_(partitions),
      metadata_(metadata),
      membership_(membership),
      fetcher_(fetcher),
      scheduler_(scheduler),
      isr_check_interval_ms_(isr_check_interval_ms),
      probe_(probe) {}

ReplicaManager::~ReplicaManager() { *alive_ = false; }

void ReplicaManager::start() {
  std::weak_ptr<bool> alive = alive_;
  metadata_.on_remote_change([this, alive] {
    if (auto a = alive.lock(); a && *a) apply();
  });
  apply();
  check_isr();
}

void ReplicaManager::apply() {
  partitions_.reconcile();
  const int32_t self = partitions_.local_node();
  // Told after the loop, so that a listener sees every partition in its new role.
  std::vector<std::tuple<std::string, int32_t, bool>> changes;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (auto* p : partitions_.partitions_of(name)) {
      if (p->index() >= static_cast<int32_t>(topic.assignments.size())) continue;
      const auto& a = topic.assignments[static_cast<size_t>(p->index())];
      if (a.leader == self) {
        if (!p->is_leader() || p->leader_epoch() != a.leader_epoch) {
          spdlog::info("{}-{}: leader at epoch {} (ISR {})", name, p->index(), a.leader_epoch, fmt::join(a.isr, ","));
          p->become_leader(a.leader_epoch, a.replicas, a.isr);
          changes.emplace_back(name, p->index(), true);
        } else {
          if (p->replicas() != a.replicas) p->set_replicas(a.replicas);
          if (p->isr() != a.isr) p->set_isr(a.isr);
        }
      } else if (p->is_leader() || p->leader_id() != a.leader || p->leader_epoch() != a.leader_epoch) {
        spdlog::info("{}-{}: follower of {} at epoch {}", name, p->index(), a.leader, a.leader_epoch);
        if (p->is_leader()) changes.emplace_back(name, p->index(), false);
        p->become_follower(a.leader, a.leader_epoch, a.replicas, a.isr);
      }
    }
  }
  fetcher_.refresh();
  if (leadership_listener_) {
    for (const auto& [topic, index, leading] : changes) leadership_listener_(topic, index, leading);
  }
}

void ReplicaManager::check_isr() {
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (auto* p : partitions_.partitions_of(name)) {
      if (!p->is_leader() || p->index() >= static_cast<int32_t>(topic.assignments.size())) continue;
      if (in_flight_.count({name, p->index()})) continue;
      if (auto wanted = p->wanted_isr()) {
        propose_isr(name, p->index(), topic.assignments[static_cast<size_t>(p->index())], std::move(*wanted));
      }
    }
  }
  update_health();
  isr_timer_ = scheduler_.schedule_after(isr_check_interval_ms_, [this] { check_isr(); });
}

void ReplicaManager::update_health() {
  if (!probe_) return;
  int leading = 0, under_replicated = 0, under_min_isr = 0, offline = 0;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (const auto& a : topic.assignments) offline += a.leader < 0 ? 1 : 0;
    for (auto* p : partitions_.partitions_of(name)) {
      if (!p->is_leader()) continue;
      ++leading;
      under_replicated += p->isr().size() < p->replicas().size() ? 1 : 0;
      under_min_isr += static_cast<int32_t>(p->isr().size()) < p->min_insync_replicas() ? 1 : 0;
    }
  }
  probe_->leader_partitions.Set(leading);
  probe_->under_replicated.Set(under_replicated);
  probe_->under_min_isr.Set(under_min_isr);
  // Every broker sees the same assignments; only the controller reports them, so a sum over brokers is right.
  probe_->offline.Set(membership_.controller_id() == partitions_.local_node() ? offline : 0);
}

void ReplicaManager::propose_isr(const std::string& topic, int32_t index, const PartitionAssignment& seen,
                                 std::vector<int32_t> wanted) {
  spdlog::info("{}-{}: proposing ISR {} (was {})", topic, index, fmt::join(wanted, ","), fmt::join(seen.isr, ","));
  if (probe_) (wanted.size() < seen.isr.size() ? probe_->isr_shrinks : probe_->isr_expands).Increment();
  in_flight_.insert({topic, index});
  const int32_t self = partitions_.local_node();
  metadata_.update(
      [topic, index, self, leader_epoch = seen.leader_epoch, partition_epoch = seen.partition_epoch,
       wanted](ClusterMetadata& m) {
        auto it = m.topics.find(topic);
        if (it == m.topics.end() || index >= static_cast<int32_t>(it->second.assignments.size())) return;
        auto& a = it->second.assignments[static_cast<size_t>(index)];
        // Refused when the controller or an election got there first: the next check starts from the new state.
        if (a.leader != self || a.leader_epoch != leader_epoch || a.partition_epoch != partition_epoch) return;
        a.isr = wanted;
        ++a.partition_epoch;
        // The replica this change brings into the ISR may be the last one a reassignment waited for.
        complete_reassignment(a);
      },
      [this, alive = std::weak_ptr<bool>(alive_), topic, index](std::error_code error) {
        auto a = alive.lock();
        if (!a || !*a) return;
        in_flight_.erase({topic, index});
        if (error) spdlog::warn("{}-{}: ISR change not stored: {}", topic, index, error.message());
        apply();
      });
}

}  // namespace fjord::cluster
