#include "observe/lag_engine.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace fjord::observe {

LagEngine::LagEngine(cluster::PartitionManager& partitions, coordinator::GroupCoordinator& groups, Metrics& metrics,
                     const Clock& clock, Scheduler& scheduler, int64_t interval_ms)
    : partitions_(partitions),
      groups_(groups),
      clock_(clock),
      scheduler_(scheduler),
      interval_ms_(interval_ms),
      lag_family_(metrics.gauge_family("kafka_consumergroup_group_lag",
                                       "Records a group has not consumed: the partition's last stable offset minus "
                                       "the group's committed offset")),
      lag_seconds_family_(metrics.gauge_family(
          "kafka_consumergroup_group_lag_seconds",
          "Now minus the timestamp of the first record the group has not consumed (0 when caught up)")),
      max_lag_family_(metrics.gauge_family("kafka_consumergroup_group_max_lag", "A group's largest partition lag")),
      max_lag_seconds_family_(metrics.gauge_family("kafka_consumergroup_group_max_lag_seconds",
                                                   "A group's largest partition lag in seconds")),
      sum_lag_family_(metrics.gauge_family("kafka_consumergroup_group_sum_lag", "A group's lag over all partitions")),
      topic_sum_lag_family_(
          metrics.gauge_family("kafka_consumergroup_group_topic_sum_lag", "A group's lag over a topic's partitions")),
      latest_offset_family_(
          metrics.gauge_family("kafka_partition_latest_offset", "A partition's high watermark (led by this broker)")),
      earliest_offset_family_(metrics.gauge_family("kafka_partition_earliest_offset",
                                                   "A partition's log start offset (led by this broker)")) {
  schedule();
}

LagEngine::~LagEngine() {
  *alive_ = false;
  // Its series go with it (a registry may outlive a broker, as in tests that start several in one process).
  auto remove_all = [](auto& family, auto& series) {
    for (auto& [key, gauge] : series) family.Remove(gauge);
    series.clear();
  };
  remove_all(lag_family_, lag_series_);
  remove_all(lag_seconds_family_, lag_seconds_series_);
  remove_all(max_lag_family_, max_lag_series_);
  remove_all(max_lag_seconds_family_, max_lag_seconds_series_);
  remove_all(sum_lag_family_, sum_lag_series_);
  remove_all(topic_sum_lag_family_, topic_sum_lag_series_);
  remove_all(latest_offset_family_, latest_offset_series_);
  remove_all(earliest_offset_family_, earliest_offset_series_);
}

void LagEngine::schedule() {
  timer_ = scheduler_.schedule_after(interval_ms_, [this, alive = std::weak_ptr<bool>(alive_)] {
    auto still = alive.lock();
    if (!still || !*still) return;
    sample();
    schedule();
  });
}

void LagEngine::sample() {
  const int64_t now = clock_.now_ms();
  std::vector<PartitionLag> lags;
  std::map<Key, FirstUnconsumed> seen;
  for (const auto& listing : groups_.list()) {
    for (const auto& committed : groups_.fetch(listing.group_id, std::nullopt)) {
      if (committed.error != ErrorCode::kNone || committed.offset < 0) continue;
      cluster::Partition* partition = partitions_.partition(committed.topic, committed.partition);
      if (!partition || !partition->is_leader()) continue;
      PartitionLag lag;
      lag.group = listing.group_id;
      lag.topic = committed.topic;
      lag.partition = committed.partition;
      lag.committed_offset = committed.offset;
      lag.end_offset = partition->last_stable_offset();
      // A committed offset below the log start counts from the log start: the records before it are gone.
      const int64_t next = std::max(committed.offset, partition->log().log_start_offset());
      lag.lag = std::max<int64_t>(0, lag.end_offset - next);
      Key key{lag.group, lag.topic, lag.partition};
      if (lag.lag > 0) {
        auto cached = first_unconsumed_.find(key);
        FirstUnconsumed first;
        if (cached != first_unconsumed_.end() && cached->second.offset == next && cached->second.timestamp >= 0) {
          first = cached->second;
        } else {
          first.offset = next;
          try {
            first.timestamp = partition->log().timestamp_at(next, lag.end_offset).value_or(-1);
          } catch (const std::exception&) {
            first.timestamp = -1;  // unreadable now: tried again at the next sample
          }
        }
        seen[key] = first;
        if (first.timestamp >= 0)
          lag.lag_seconds = std::max<double>(0, static_cast<double>(now - first.timestamp) / 1000);
      }
      lags.push_back(std::move(lag));
    }
  }
  first_unconsumed_ = std::move(seen);
  std::sort(lags.begin(), lags.end(), [](const PartitionLag& a, const PartitionLag& b) {
    return std::tie(a.group, a.topic, a.partition) < std::tie(b.group, b.topic, b.partition);
  });

  std::map<Key, std::pair<prometheus::Labels, double>> lag_values, lag_seconds_values;
  std::map<std::string, std::pair<prometheus::Labels, double>> max_lag, max_lag_seconds, sum_lag;
  std::map<std::pair<std::string, std::string>, std::pair<prometheus::Labels, double>> topic_sum;
  for (const auto& l : lags) {
    prometheus::Labels labels{{"group", l.group}, {"topic", l.topic}, {"partition", std::to_string(l.partition)}};
    lag_values[{l.group, l.topic, l.partition}] = {labels, static_cast<double>(l.lag)};
    lag_seconds_values[{l.group, l.topic, l.partition}] = {labels, l.lag_seconds};
    const prometheus::Labels group_labels{{"group", l.group}};
    auto& m = max_lag.try_emplace(l.group, group_labels, 0.0).first->second.second;
    m = std::max(m, static_cast<double>(l.lag));
    auto& ms = max_lag_seconds.try_emplace(l.group, group_labels, 0.0).first->second.second;
    ms = std::max(ms, l.lag_seconds);
    sum_lag.try_emplace(l.group, group_labels, 0.0).first->second.second += static_cast<double>(l.lag);
    topic_sum.try_emplace({l.group, l.topic}, prometheus::Labels{{"group", l.group}, {"topic", l.topic}}, 0.0)
        .first->second.second += static_cast<double>(l.lag);
  }
  std::map<std::pair<std::string, int32_t>, std::pair<prometheus::Labels, double>> latest, earliest;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (cluster::Partition* p : partitions_.partitions_of(name)) {
      if (!p || !p->is_leader()) continue;
      prometheus::Labels labels{{"topic", name}, {"partition", std::to_string(p->index())}};
      latest[{name, p->index()}] = {labels, static_cast<double>(p->high_watermark())};
      earliest[{name, p->index()}] = {labels, static_cast<double>(p->log().log_start_offset())};
    }
  }
  reconcile(lag_family_, lag_series_, lag_values);
  reconcile(lag_seconds_family_, lag_seconds_series_, lag_seconds_values);
  reconcile(max_lag_family_, max_lag_series_, max_lag);
  reconcile(max_lag_seconds_family_, max_lag_seconds_series_, max_lag_seconds);
  reconcile(sum_lag_family_, sum_lag_series_, sum_lag);
  reconcile(topic_sum_lag_family_, topic_sum_lag_series_, topic_sum);
  reconcile(latest_offset_family_, latest_offset_series_, latest);
  reconcile(earliest_offset_family_, earliest_offset_series_, earliest);
  // /api/lag: per group, its partitions and the aggregates, in the metrics' terms.
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& l : lags) {
    if (groups.empty() || groups.back()["group"] != l.group) {
      groups.push_back({{"group", l.group},
                        {"max_lag", max_lag[l.group].second},
                        {"max_lag_seconds", max_lag_seconds[l.group].second},
                        {"sum_lag", sum_lag[l.group].second},
                        {"partitions", nlohmann::json::array()}});
    }
    groups.back()["partitions"].push_back({{"topic", l.topic},
                                           {"partition", l.partition},
                                           {"committed_offset", l.committed_offset},
                                           {"end_offset", l.end_offset},
                                           {"lag", l.lag},
                                           {"lag_seconds", l.lag_seconds}});
  }
  std::string json = nlohmann::json{{"sampled_at_ms", now}, {"groups", std::move(groups)}}.dump();
  std::lock_guard lock(json_mutex_);
  last_json_ = std::move(json);
}

std::string LagEngine::last_json() const {
  std::lock_guard lock(json_mutex_);
  return last_json_;
}

template <typename K>
void LagEngine::reconcile(prometheus::Family<prometheus::Gauge>& family, std::map<K, prometheus::Gauge*>& series,
                          const std::map<K, std::pair<prometheus::Labels, double>>& wanted) {
  for (auto it = series.begin(); it != series.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    family.Remove(it->second);
    it = series.erase(it);
  }
  for (const auto& [key, value] : wanted) {
    auto& gauge = series[key];
    if (!gauge) gauge = &family.Add(value.first);
    gauge->Set(value.second);
  }
}

}  // namespace fjord::observe
