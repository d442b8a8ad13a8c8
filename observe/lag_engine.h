// The lag engine: every second, for every group this broker coordinates and every partition the group has
// committed an offset for that this broker leads, how far the group is behind, exactly:
// - in records: the end a read_committed consumer can read to (the last stable offset; the high watermark when
//   no transaction is open) minus the committed offset;
// - in seconds: now minus the timestamp of the first record the group has not consumed, read from the log at the
//   committed offset (once per committed offset: an idle group costs nothing). 0 when caught up, so it stays flat
//   on an idle, caught-up partition instead of growing, and it is not extrapolated from rates.
// Exported at /metrics under the names kafka-lag-exporter made common (kafka_consumergroup_group_lag and the
// rest, kafka_partition_latest_offset / earliest_offset), per group and partition and aggregated per group and
// topic. Series of groups and partitions that are gone (deleted, expired, no longer led here) are removed.
//
// In a cluster each broker reports the groups it coordinates for the partitions it leads, so no series is
// reported twice; partitions led by another broker than their group's coordinator are not reported yet.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "cluster/partition_manager.h"
#include "coordinator/group_coordinator.h"
#include "model/clock.h"
#include "model/executor.h"
#include "model/metrics.h"

namespace fjord::observe {

struct PartitionLag {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t committed_offset = -1;
  int64_t end_offset = -1;  // what a read_committed consumer can read to
  int64_t lag = 0;          // records
  double lag_seconds = 0;
};

class LagEngine {
 public:
  LagEngine(cluster::PartitionManager& partitions, coordinator::GroupCoordinator& groups, Metrics& metrics,
            const Clock& clock, Scheduler& scheduler, int64_t interval_ms = 1000);
  ~LagEngine();

  // Samples now (the timer does it every interval) and updates the metrics.
  void sample();
  // The last sample as /api/lag serves it; any thread.
  std::string last_json() const;

 private:
  using Key = std::tuple<std::string, std::string, int32_t>;  // group, topic, partition
  struct FirstUnconsumed {
    int64_t offset = -1;
    int64_t timestamp = -1;  // -1: none readable
  };

  void schedule();
  // Keeps a family's series to exactly `wanted`, adding and removing as needed.
  template <typename K>
  void reconcile(prometheus::Family<prometheus::Gauge>& family, std::map<K, prometheus::Gauge*>& series,
                 const std::map<K, std::pair<prometheus::Labels, double>>& wanted);

  cluster::PartitionManager& partitions_;
  coordinator::GroupCoordinator& groups_;
  const Clock& clock_;
  Scheduler& scheduler_;
  int64_t interval_ms_;
  std::unique_ptr<TimerHandle> timer_;
  mutable std::mutex json_mutex_;
  std::string last_json_ = "{\"sampled_at_ms\":null,\"groups\":[]}";
  // The timestamp of the record at each group's committed offset, read once per committed offset.
  std::map<Key, FirstUnconsumed> first_unconsumed_;

  prometheus::Family<prometheus::Gauge>& lag_family_;
  prometheus::Family<prometheus::Gauge>& lag_seconds_family_;
  prometheus::Family<prometheus::Gauge>& max_lag_family_;
  prometheus::Family<prometheus::Gauge>& max_lag_seconds_family_;
  prometheus::Family<prometheus::Gauge>& sum_lag_family_;
  prometheus::Family<prometheus::Gauge>& topic_sum_lag_family_;
  prometheus::Family<prometheus::Gauge>& latest_offset_family_;
  prometheus::Family<prometheus::Gauge>& earliest_offset_family_;
  std::map<Key, prometheus::Gauge*> lag_series_, lag_seconds_series_;
  std::map<std::string, prometheus::Gauge*> max_lag_series_, max_lag_seconds_series_, sum_lag_series_;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> topic_sum_lag_series_;
  std::map<std::pair<std::string, int32_t>, prometheus::Gauge*> latest_offset_series_, earliest_offset_series_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::observe
