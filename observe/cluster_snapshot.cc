#include "observe/cluster_snapshot.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace fjord::observe {

ClusterSnapshot::ClusterSnapshot(cluster::PartitionManager& partitions, BrokerList brokers, Scheduler& scheduler,
                                 const Clock& clock, int64_t interval_ms)
    : partitions_(partitions),
      brokers_(std::move(brokers)),
      scheduler_(scheduler),
      clock_(clock),
      interval_ms_(interval_ms) {
  schedule();
}

ClusterSnapshot::~ClusterSnapshot() { *alive_ = false; }

void ClusterSnapshot::schedule() {
  timer_ = scheduler_.schedule_after(interval_ms_, [this, alive = std::weak_ptr<bool>(alive_)] {
    auto still = alive.lock();
    if (!still || !*still) return;
    if (wanted()) take();
    schedule();
  });
}

void ClusterSnapshot::take() {
  nlohmann::json brokers = nlohmann::json::array();
  for (const auto& b : brokers_()) {
    brokers.push_back({{"node_id", b.node_id},
                       {"host", b.host},
                       {"port", b.port},
                       {"rack", b.rack ? nlohmann::json(*b.rack) : nlohmann::json(nullptr)}});
  }
  const int32_t self = partitions_.local_node();
  nlohmann::json topics = nlohmann::json::array();
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    nlohmann::json rows = nlohmann::json::array();
    for (int32_t index = 0; index < topic.partitions; ++index) {
      nlohmann::json row = {{"partition", index}};
      if (partitions_.cluster_mode()) {
        if (static_cast<size_t>(index) < topic.assignments.size()) {
          const auto& a = topic.assignments[static_cast<size_t>(index)];
          row["leader"] = a.leader;
          row["replicas"] = a.replicas;
          row["isr"] = a.isr;
          row["under_replicated"] = a.isr.size() < a.replicas.size();
        } else {
          row["leader"] = -1;  // not placed yet
          row["replicas"] = nlohmann::json::array();
          row["isr"] = nlohmann::json::array();
          row["under_replicated"] = false;
        }
      } else {
        row["leader"] = self;
        row["replicas"] = {self};
        row["isr"] = {self};
        row["under_replicated"] = false;
      }
      if (auto* partition = partitions_.partition(name, index)) {
        row["log_start_offset"] = partition->log_start_offset();
        row["high_watermark"] = partition->high_watermark();
        row["log_end_offset"] = partition->log_end_offset();
      }
      rows.push_back(std::move(row));
    }
    topics.push_back({{"topic", name},
                      {"internal", name.starts_with("__")},
                      {"replication_factor", topic.replication_factor},
                      {"partitions", std::move(rows)}});
  }
  auto json = nlohmann::json{{"node_id", self}, {"brokers", std::move(brokers)}, {"topics", std::move(topics)}}.dump();
  const int64_t now = clock_.monotonic_ms();
  {
    std::lock_guard lock(mutex_);
    last_json_ = std::move(json);
    last_taken_ms_ = now;
    ++snapshots_taken_;
  }
  taken_.notify_all();
}

std::string ClusterSnapshot::last_json() const {
  constexpr int64_t kKeepTakingMs = 60'000;
  std::unique_lock lock(mutex_);
  const int64_t now = clock_.monotonic_ms();
  wanted_until_ms_ = now + kKeepTakingMs;
  // Older than the interval (or none yet): taken before a quiet spell, so every request that finds it so waits for
  // the next tick.
  if (snapshots_taken_ == 0 || now - last_taken_ms_ > interval_ms_) {
    const uint64_t before = snapshots_taken_;
    taken_.wait_for(lock, std::chrono::milliseconds(2 * interval_ms_ + 500),
                    [&] { return snapshots_taken_ != before; });
  }
  return last_json_;
}

}  // namespace fjord::observe
