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
  std::vector<IsrProposal> proposals;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (auto* p : partitions_.partitions_of(name)) {
      if (!p->is_leader() || p->index() >= static_cast<int32_t>(topic.assignments.size())) continue;
      if (in_flight_.count({name, p->index()})) continue;
      if (auto wanted = p->wanted_isr()) {
        const auto& seen = topic.assignments[static_cast<size_t>(p->index())];
        proposals.push_back({name, p->index(), seen.leader_epoch, seen.partition_epoch, std::move(*wanted)});
        spdlog::info("{}-{}: proposing ISR {} (was {})", name, p->index(), fmt::join(proposals.back().isr, ","),
                     fmt::join(seen.isr, ","));
        if (probe_)
          (proposals.back().isr.size() < seen.isr.size() ? probe_->isr_shrinks : probe_->isr_expands).Increment();
      }
    }
  }
  if (!proposals.empty()) propose_isr(std::move(proposals));
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

void ReplicaManager::propose_isr(std::vector<IsrProposal> proposals) {
  for (const auto& proposal : proposals) in_flight_.insert({proposal.topic, proposal.partition});
  auto shared = std::make_shared<const std::vector<IsrProposal>>(std::move(proposals));
  const int32_t self = partitions_.local_node();
  metadata_.update(
      [shared, self](ClusterMetadata& m) {
        for (const auto& proposal : *shared) {
          auto it = m.topics.find(proposal.topic);
          if (it == m.topics.end() || proposal.partition >= static_cast<int32_t>(it->second.assignments.size())) {
            continue;
          }
          auto& a = it->second.assignments[static_cast<size_t>(proposal.partition)];
          // Refused when the controller or an election got there first: the next check starts from the new state.
          // The same check makes this change safe to run again on top of its own earlier effect (a change written
          // in parts, metadata_store.h): a partition it already changed has a newer partition epoch.
          if (a.leader != self || a.leader_epoch != proposal.leader_epoch ||
              a.partition_epoch != proposal.partition_epoch) {
            continue;
          }
          a.isr = proposal.isr;
          ++a.partition_epoch;
          // The replica this change brings into the ISR may be the last one a reassignment waited for.
          complete_reassignment(a);
        }
      },
      [this, alive = std::weak_ptr<bool>(alive_), shared](std::error_code error) {
        auto a = alive.lock();
        if (!a || !*a) return;
        for (const auto& proposal : *shared) in_flight_.erase({proposal.topic, proposal.partition});
        if (error) spdlog::warn("{} ISR changes not stored: {}", shared->size(), error.message());
        apply();
      });
}

}  // namespace fjord::cluster
