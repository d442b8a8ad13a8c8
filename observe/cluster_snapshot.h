// What the console shows of the cluster, published by the event loop every interval as JSON for the admin
// endpoint's thread (GET /api/cluster): the brokers, and each topic's partitions with leader, replicas, ISR,
// whether it is under-replicated, and, for the partitions this broker hosts, log start, high watermark and log end.
// One broker's view: every broker holds the whole cluster's assignments, the offsets only of what it hosts.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/membership.h"
#include "cluster/partition_manager.h"
#include "model/executor.h"

namespace fjord::observe {

class ClusterSnapshot {
 public:
  using BrokerList = std::function<std::vector<cluster::BrokerEndpoint>()>;
  ClusterSnapshot(cluster::PartitionManager& partitions, BrokerList brokers, Scheduler& scheduler,
                  int64_t interval_ms = 1000);
  ~ClusterSnapshot();

  // Takes a snapshot now (the timer does it every interval); on the event loop.
  void take();
  // The last snapshot; any thread.
  std::string last_json() const;

 private:
  void schedule();

  cluster::PartitionManager& partitions_;
  BrokerList brokers_;
  Scheduler& scheduler_;
  const int64_t interval_ms_;
  std::unique_ptr<TimerHandle> timer_;
  mutable std::mutex mutex_;
  std::string last_json_ = "{\"brokers\":[],\"topics\":[]}";
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::observe
