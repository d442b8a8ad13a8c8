// What the console shows of the cluster, published by the event loop every interval as JSON for the admin
// endpoint's thread (GET /api/cluster): the brokers, and each topic's partitions with leader, replicas, ISR,
// whether it is under-replicated, and, for the partitions this broker hosts, log start, high watermark and log end.
// One broker's view: every broker holds the whole cluster's assignments, the offsets only of what it hosts.
// A snapshot of thousands of partitions costs the loop tens of milliseconds, so it is taken only while someone
// looks: a request after a quiet minute waits for the next tick (at most about an interval) for a fresh one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/membership.h"
#include "cluster/partition_manager.h"
#include "model/clock.h"
#include "model/executor.h"

namespace fjord::observe {

class ClusterSnapshot {
 public:
  using BrokerList = std::function<std::vector<cluster::BrokerEndpoint>()>;
  ClusterSnapshot(cluster::PartitionManager& partitions, BrokerList brokers, Scheduler& scheduler, const Clock& clock,
                  int64_t interval_ms = 1000);
  ~ClusterSnapshot();

  // Takes a snapshot now (the timer does it every interval); on the event loop.
  void take();
  // The last snapshot, fresh within an interval; any thread.
  std::string last_json() const;
  // Whether a request in the last minute wants snapshots taken.
  bool wanted() const {
    std::lock_guard lock(mutex_);
    return clock_.monotonic_ms() < wanted_until_ms_;
  }
  // How many have been taken (tests).
  uint64_t snapshots_taken() const {
    std::lock_guard lock(mutex_);
    return snapshots_taken_;
  }

 private:
  void schedule();

  cluster::PartitionManager& partitions_;
  BrokerList brokers_;
  Scheduler& scheduler_;
  const Clock& clock_;
  const int64_t interval_ms_;
  std::unique_ptr<TimerHandle> timer_;
  mutable std::mutex mutex_;
  mutable std::condition_variable taken_;
  std::string last_json_ = "{\"brokers\":[],\"topics\":[]}";
  uint64_t snapshots_taken_ = 0;
  int64_t last_taken_ms_ = 0;  // monotonic
  // Snapshots are taken on the interval until this time (monotonic ms), which each request moves a minute on.
  mutable int64_t wanted_until_ms_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::observe
