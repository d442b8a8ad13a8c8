// The lag engine: every second, for every group this broker coordinates and every partition the group has
// committed an offset for that this broker leads, how far the group is behind, exactly:
// - in records: the end a read_committed consumer can read to (the last stable offset; the high watermark when
//   no transaction is open) minus the committed offset;
// - in seconds: now minus the timestamp of the first record the group has not consumed, read from the log at the
//   committed offset (once per committed offset: an idle group costs nothing). 0 when caught up, so it stays flat
//   on an idle, caught-up partition instead of growing, and it is not extrapolated from rates;
// - its velocity (lag change per second over fjord.lag.window.ms), the group's commit rate, a status
//   (observe/lag_status.h) and the time until retention deletes the first record not yet consumed.
// Exported at /metrics under the names kafka-lag-exporter made common (kafka_consumergroup_group_lag and the
// rest, kafka_partition_latest_offset / earliest_offset) with its labels (member_host, consumer_id, client_id for
// a partition a member owns), Fjord's own series beside them (fjord_consumergroup_*), and as JSON at /api/lag.
// Beside lag, every group this broker coordinates: its members, the rebalances it completed since it was loaded
// here, and the number of groups in each state.
// Series of groups and partitions that are gone (deleted, expired, no longer led here) are removed. At most
// fjord.lag.max.series group-partition pairs are exported (the first in group, topic, partition order); the rest
// are counted in fjord_lag_series_dropped (a group's members and rebalances, one series each, are not capped).
//
// In a cluster each broker reports the groups it coordinates, so no group's series come from two brokers: for the
// partitions it leads from its own log, for the others from what their leaders answer (observe/remote_partitions.h,
// one interval later; no time to data loss there, which needs the log's segments). The partition series
// (kafka_partition_latest_offset / earliest_offset) come from each partition's leader.
#pragma once

#include <cstdint>
#include <deque>
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
#include "observe/lag_status.h"
#include "observe/remote_partitions.h"

namespace fjord::observe {

struct LagEngineSettings {
  int64_t interval_ms = 1000;
  LagThresholds thresholds;
  int64_t max_series = 10'000;
  std::string cluster_name;  // empty: no cluster_name label
};

class LagEngine {
 public:
  // `remote` (in a cluster) answers for partitions other brokers lead; without it only those led here are reported.
  LagEngine(cluster::PartitionManager& partitions, coordinator::GroupCoordinator& groups, Metrics& metrics,
            const Clock& clock, Scheduler& scheduler, LagEngineSettings settings = {},
            RemotePartitions* remote = nullptr);
  ~LagEngine();

  // Samples now (the timer does it every interval) and updates the metrics.
  void sample();
  // The last sample as /api/lag serves it; any thread.
  std::string last_json() const;
  // The console's lag-over-time charts (/api/lag/history): per group, its last kHistoryPoints samples of
  // [wall-clock ms, sum of lag, max lag seconds]; any thread. Kept for the first kHistoryGroups groups by name,
  // so its memory is bounded whatever the number of groups.
  std::string history_json() const;
  static constexpr size_t kHistoryPoints = 300;
  static constexpr size_t kHistoryGroups = 1000;

 private:
  using Key = std::tuple<std::string, std::string, int32_t>;  // group, topic, partition
  struct Tracked {
    PartitionLagHistory history;
    int64_t first_unconsumed_offset = -1;  // the offset whose timestamp is cached
    int64_t first_unconsumed_timestamp = -1;
  };
  struct GroupCommits {
    std::deque<std::pair<int64_t, uint64_t>> samples;  // (monotonic ms, offsets committed so far)
  };
  struct Owner {
    std::string consumer_id, client_id, host;
  };
  // One exported family: its series by label set, kept to exactly what the last sample wanted.
  struct Series {
    prometheus::Family<prometheus::Gauge>* family;
    std::map<prometheus::Labels, prometheus::Gauge*> gauges;
    void set(const std::map<prometheus::Labels, double>& wanted);
    void clear();
  };

  void schedule();
  std::map<std::pair<std::string, int32_t>, Owner> owners(const std::string& group) const;
  int32_t leader_of(const std::string& topic, int32_t partition) const;
  double commit_rate(const std::string& group, uint64_t committed, int64_t now);
  prometheus::Labels labels(std::initializer_list<std::pair<const std::string, std::string>> values) const;

  cluster::PartitionManager& partitions_;
  coordinator::GroupCoordinator& groups_;
  RemotePartitions* remote_;
  const Clock& clock_;
  Scheduler& scheduler_;
  const LagEngineSettings settings_;
  std::unique_ptr<TimerHandle> timer_;
  mutable std::mutex json_mutex_;
  std::string last_json_ = "{\"sampled_at_ms\":null,\"groups\":[]}";
  std::map<Key, Tracked> tracked_;
  std::map<std::string, GroupCommits> commits_;
  struct HistoryPoint {
    int64_t at_ms;
    int64_t sum_lag;
    double max_lag_seconds;
  };
  mutable std::mutex history_mutex_;
  std::map<std::string, std::deque<HistoryPoint>> history_;

  Series lag_, lag_seconds_, max_lag_, max_lag_seconds_, sum_lag_, topic_sum_lag_, latest_offset_, earliest_offset_,
      velocity_, time_to_data_loss_, partition_status_, group_status_, commit_rate_, dropped_, group_members_,
      group_rebalances_, groups_by_state_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::observe
