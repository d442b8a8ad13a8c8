// Turns the controller's assignments into roles on this broker: after every metadata change it opens the
// partitions newly placed here, makes each one leader or follower at the recorded epoch with the recorded ISR,
// and points the fetcher at the leaders. As leader of a partition it also proposes ISR changes — a follower that
// fell behind for replica.lag.time.max.ms leaves, one that caught up returns — written to the metadata only if
// nobody changed the partition meanwhile (leader epoch and partition epoch unchanged), as Kafka's AlterPartition.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cluster/membership.h"
#include "cluster/metadata_store.h"
#include "cluster/partition_manager.h"
#include "cluster/probe.h"
#include "cluster/replica_fetcher.h"
#include "model/executor.h"

namespace fjord::cluster {

class ReplicaManager {
 public:
  ReplicaManager(PartitionManager& partitions, MetadataStore& metadata, const Membership& membership,
                 ReplicaFetcher& fetcher, Scheduler& scheduler, int64_t isr_check_interval_ms,
                 PartitionProbe* probe = nullptr);
  ~ReplicaManager();

  // Told when this broker takes or loses the lead of a partition (coordinators load and drop their state).
  using LeadershipListener = std::function<void(const std::string& topic, int32_t partition, bool leading)>;
  void on_leadership_change(LeadershipListener listener) { leadership_listener_ = std::move(listener); }

  // Applies the current metadata now and after every change.
  void start();
  void apply();
  // ISR changes proposed and not yet answered (metrics, tests).
  size_t isr_changes_in_flight() const { return in_flight_.size(); }

 private:
  void check_isr();
  void update_health();
  // An ISR this broker, as leader, wants for a partition it saw at these epochs.
  struct IsrProposal {
    std::string topic;
    int32_t partition;
    int32_t leader_epoch;
    int32_t partition_epoch;
    std::vector<int32_t> isr;
  };
  // Every change one check found goes as one metadata update (Kafka's AlterPartition batches them too): a broker
  // that comes back to a cluster of thousands of partitions rejoins their ISRs in a few transactions, not one
  // etcd round trip per partition.
  void propose_isr(std::vector<IsrProposal> proposals);

  PartitionManager& partitions_;
  MetadataStore& metadata_;
  const Membership& membership_;
  ReplicaFetcher& fetcher_;
  Scheduler& scheduler_;
  int64_t isr_check_interval_ms_;
  PartitionProbe* probe_;
  std::unique_ptr<TimerHandle> isr_timer_;
  LeadershipListener leadership_listener_;
  std::set<std::pair<std::string, int32_t>> in_flight_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::cluster
