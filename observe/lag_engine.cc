#include "observe/lag_engine.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "coordinator/consumer_protocol.h"

namespace fjord::observe {
namespace {

struct PartitionReport {
  std::string group, topic;
  int32_t partition = 0;
  int64_t committed_offset = -1;
  int64_t end_offset = -1;
  int64_t lag = 0;
  double lag_seconds = 0;
  double velocity = 0;
  std::optional<double> seconds_to_data_loss;
  LagStatus status = LagStatus::kOk;
  std::string consumer_id, client_id, host;
};

struct GroupReport {
  std::string state;
  LagStatus status = LagStatus::kOk;
  int64_t max_lag = 0;
  double max_lag_seconds = 0;
  int64_t sum_lag = 0;
  double commit_rate = 0;
  std::vector<PartitionReport> partitions;
};

}  // namespace

LagEngine::LagEngine(cluster::PartitionManager& partitions, coordinator::GroupCoordinator& groups, Metrics& metrics,
                     const Clock& clock, Scheduler& scheduler, LagEngineSettings settings, RemotePartitions* remote)
    : partitions_(partitions),
      groups_(groups),
      remote_(remote),
      clock_(clock),
      scheduler_(scheduler),
      settings_(std::move(settings)),
      lag_{&metrics.gauge_family("kafka_consumergroup_group_lag",
                                 "Records a group has not consumed: the partition's last stable offset minus the "
                                 "group's committed offset"),
           {}},
      lag_seconds_{&metrics.gauge_family(
                       "kafka_consumergroup_group_lag_seconds",
                       "Now minus the timestamp of the first record the group has not consumed (0 when caught up)"),
                   {}},
      max_lag_{&metrics.gauge_family("kafka_consumergroup_group_max_lag", "A group's largest partition lag"), {}},
      max_lag_seconds_{&metrics.gauge_family("kafka_consumergroup_group_max_lag_seconds",
                                             "A group's largest partition lag in seconds"),
                       {}},
      sum_lag_{&metrics.gauge_family("kafka_consumergroup_group_sum_lag", "A group's lag over all partitions"), {}},
      topic_sum_lag_{
          &metrics.gauge_family("kafka_consumergroup_group_topic_sum_lag", "A group's lag over a topic's partitions"),
          {}},
      latest_offset_{
          &metrics.gauge_family("kafka_partition_latest_offset", "A partition's high watermark (led by this broker)"),
          {}},
      earliest_offset_{&metrics.gauge_family("kafka_partition_earliest_offset",
                                             "A partition's log start offset (led by this broker)"),
                       {}},
      velocity_{&metrics.gauge_family("fjord_consumergroup_lag_velocity",
                                      "Lag change per second over fjord.lag.window.ms (positive: falling behind)"),
                {}},
      time_to_data_loss_{
          &metrics.gauge_family("fjord_consumergroup_time_to_data_loss_seconds",
                                "Seconds until retention deletes the first record the group has not consumed, at "
                                "the current produce rate (only while records wait and retention limits the topic)"),
          {}},
      partition_status_{&metrics.gauge_family("fjord_consumergroup_partition_status",
                                              "1 for a partition's lag status (OK, REWIND, WARN, ERR, STOP, STALL)"),
                        {}},
      group_status_{
          &metrics.gauge_family("fjord_consumergroup_status", "1 for a group's lag status: its worst partition's"), {}},
      commit_rate_{&metrics.gauge_family("fjord_consumergroup_commit_rate",
                                         "Partition offsets a group commits per second, over fjord.lag.window.ms"),
                   {}},
      dropped_{&metrics.gauge_family("fjord_lag_series_dropped",
                                     "Group-partition pairs left out of the lag series (past fjord.lag.max.series)"),
               {}},
      group_members_{&metrics.gauge_family("fjord_consumergroup_members", "Members of a group this broker coordinates"),
                     {}},
      group_rebalances_{&metrics.gauge_family(
                            "fjord_consumergroup_rebalances",
                            "Rebalances a group completed since this broker became its coordinator (rises by one per "
                            "generation)"),
                        {}},
      groups_by_state_{&metrics.gauge_family("fjord_consumergroups", "Groups this broker coordinates, by state"), {}} {
  schedule();
}

LagEngine::~LagEngine() {
  *alive_ = false;
  // Its series go with it (a registry may outlive a broker, as in tests that start several in one process).
  for (Series* s : {&lag_, &lag_seconds_, &max_lag_, &max_lag_seconds_, &sum_lag_, &topic_sum_lag_, &latest_offset_,
                    &earliest_offset_, &velocity_, &time_to_data_loss_, &partition_status_, &group_status_,
                    &commit_rate_, &dropped_, &group_members_, &group_rebalances_, &groups_by_state_}) {
    s->clear();
  }
}

void LagEngine::Series::set(const std::map<prometheus::Labels, double>& wanted) {
  for (auto it = gauges.begin(); it != gauges.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    family->Remove(it->second);
    it = gauges.erase(it);
  }
  for (const auto& [labels, value] : wanted) {
    auto& gauge = gauges[labels];
    if (!gauge) gauge = &family->Add(labels);
    gauge->Set(value);
  }
}

void LagEngine::Series::clear() { set({}); }

void LagEngine::schedule() {
  timer_ = scheduler_.schedule_after(settings_.interval_ms, [this, alive = std::weak_ptr<bool>(alive_)] {
    auto still = alive.lock();
    if (!still || !*still) return;
    sample();
    schedule();
  });
}

prometheus::Labels LagEngine::labels(std::initializer_list<std::pair<const std::string, std::string>> values) const {
  prometheus::Labels out(values);
  if (!settings_.cluster_name.empty()) out["cluster_name"] = settings_.cluster_name;
  return out;
}

std::map<std::pair<std::string, int32_t>, LagEngine::Owner> LagEngine::owners(const std::string& group) const {
  std::map<std::pair<std::string, int32_t>, Owner> out;
  const auto description = groups_.describe(group);
  if (description.error != ErrorCode::kNone || description.protocol_type != "consumer") return out;
  for (const auto& member : description.members) {
    auto assignment = coordinator::parse_assignment(member.assignment);
    if (!assignment) continue;
    for (const auto& [topic, partitions] : *assignment) {
      for (int32_t p : partitions) out[{topic, p}] = {member.member_id, member.client_id, member.client_host};
    }
  }
  return out;
}

double LagEngine::commit_rate(const std::string& group, uint64_t committed, int64_t now) {
  auto& samples = commits_[group].samples;
  if (!samples.empty() && committed < samples.back().second) samples.clear();  // loaded again: counts restart
  samples.emplace_back(now, committed);
  while (samples.size() > 2 && samples[1].first <= now - settings_.thresholds.window_ms) samples.pop_front();
  const auto& [first_at, first_count] = samples.front();
  if (now <= first_at) return 0;
  return static_cast<double>(committed - first_count) * 1000.0 / static_cast<double>(now - first_at);
}

int32_t LagEngine::leader_of(const std::string& topic, int32_t partition) const {
  const auto* metadata = partitions_.topic(topic);
  if (!metadata || partition < 0 || static_cast<size_t>(partition) >= metadata->assignments.size()) return -1;
  return metadata->assignments[static_cast<size_t>(partition)].leader;
}

void LagEngine::sample() {
  const int64_t now = clock_.now_ms();
  const int64_t monotonic = clock_.monotonic_ms();
  const auto& thresholds = settings_.thresholds;
  std::map<std::string, GroupReport> reports;
  std::map<Key, Tracked> still_tracked;
  std::map<std::string, GroupCommits> still_committing;
  int64_t kept = 0, dropped = 0;

  std::map<RemotePartitions::Key, std::pair<int32_t, int64_t>> remote_wanted;
  auto listings = groups_.list();
  std::sort(listings.begin(), listings.end(), [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
  for (const auto& listing : listings) {
    auto committed_offsets = groups_.fetch(listing.group_id, std::nullopt);
    std::sort(committed_offsets.begin(), committed_offsets.end(), [](const auto& a, const auto& b) {
      return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
    });
    std::optional<std::map<std::pair<std::string, int32_t>, Owner>> owned;  // read once a partition is reported
    for (const auto& committed : committed_offsets) {
      if (committed.error != ErrorCode::kNone || committed.offset < 0) continue;
      cluster::Partition* partition = partitions_.partition(committed.topic, committed.partition);
      if (partition && !partition->is_leader()) partition = nullptr;
      const RemotePartitions::State* remote = nullptr;
      if (!partition) {
        // Led by another broker: reported from what its leader last answered (asked again below).
        const int32_t leader = leader_of(committed.topic, committed.partition);
        if (!remote_ || leader < 0 || leader == partitions_.local_node()) continue;
        remote_wanted[{committed.topic, committed.partition}] = {leader, committed.offset};
        remote = remote_->find({committed.topic, committed.partition});
        if (!remote) continue;
      }
      if (kept >= settings_.max_series) {
        ++dropped;
        continue;
      }
      ++kept;
      Key key{listing.group_id, committed.topic, committed.partition};
      auto previous = tracked_.find(key);
      Tracked tracked = previous != tracked_.end() ? std::move(previous->second) : Tracked{};

      PartitionReport r;
      r.group = listing.group_id;
      r.topic = committed.topic;
      r.partition = committed.partition;
      r.committed_offset = committed.offset;
      r.end_offset = partition ? partition->last_stable_offset() : remote->end_offset;
      // A committed offset below the log start counts from the log start: the records before it are gone.
      const int64_t next =
          std::max(committed.offset, partition ? partition->log().log_start_offset() : remote->log_start_offset);
      r.lag = std::max<int64_t>(0, r.end_offset - next);
      if (r.lag > 0) {
        if (!partition) {
          tracked.first_unconsumed_offset = next;
          tracked.first_unconsumed_timestamp = remote->timestamp_offset == committed.offset ? remote->timestamp : -1;
        } else if (tracked.first_unconsumed_offset != next || tracked.first_unconsumed_timestamp < 0) {
          tracked.first_unconsumed_offset = next;
          try {
            tracked.first_unconsumed_timestamp = partition->log().timestamp_at(next, r.end_offset).value_or(-1);
          } catch (const std::exception&) {
            tracked.first_unconsumed_timestamp = -1;  // unreadable now: tried again at the next sample
          }
        }
        if (tracked.first_unconsumed_timestamp >= 0)
          r.lag_seconds = std::max<double>(0, static_cast<double>(now - tracked.first_unconsumed_timestamp) / 1000);
      }
      tracked.history.add(
          {monotonic, committed.offset, committed.commit_timestamp_ms, r.end_offset, r.lag, r.lag_seconds}, thresholds);
      r.velocity = tracked.history.velocity();
      r.status = tracked.history.status(now, thresholds);
      if (r.lag > 0 && partition) {  // the retention outlook needs the log: partitions led here only
        const storage::Log& log = partition->log();
        const auto outlook = log.retention_outlook(next);
        const int64_t records = log.log_end_offset() - log.log_start_offset();
        const double bytes_per_record =
            records > 0 ? static_cast<double>(log.size_bytes()) / static_cast<double>(records) : 0;
        r.seconds_to_data_loss = seconds_to_data_loss(outlook.deletable_at_ms, outlook.bytes_until_deleted,
                                                      tracked.history.produce_rate() * bytes_per_record, now);
      }
      if (!owned) owned = owners(listing.group_id);
      if (auto owner = owned->find({r.topic, r.partition}); owner != owned->end()) {
        r.consumer_id = owner->second.consumer_id;
        r.client_id = owner->second.client_id;
        r.host = owner->second.host;
      }
      still_tracked[key] = std::move(tracked);

      GroupReport& g = reports[listing.group_id];
      g.state = listing.state;
      g.status = std::max(g.status, r.status);
      g.max_lag = std::max(g.max_lag, r.lag);
      g.max_lag_seconds = std::max(g.max_lag_seconds, r.lag_seconds);
      g.sum_lag += r.lag;
      g.partitions.push_back(std::move(r));
    }
    if (auto g = reports.find(listing.group_id); g != reports.end()) {
      g->second.commit_rate = commit_rate(listing.group_id, listing.offsets_committed, monotonic);
      still_committing[listing.group_id] = std::move(commits_[listing.group_id]);
    }
  }
  tracked_ = std::move(still_tracked);
  commits_ = std::move(still_committing);
  if (remote_) remote_->refresh(remote_wanted);

  std::map<prometheus::Labels, double> members, rebalances, by_state;
  for (const char* state : {"Empty", "PreparingRebalance", "CompletingRebalance", "Stable"})
    by_state[labels({{"state", state}})] = 0;
  for (const auto& listing : listings) {
    const auto group_labels = labels({{"group", listing.group_id}});
    members[group_labels] = static_cast<double>(listing.members);
    rebalances[group_labels] = static_cast<double>(listing.rebalances);
    by_state[labels({{"state", listing.state}})] += 1;
  }
  group_members_.set(members);
  group_rebalances_.set(rebalances);
  groups_by_state_.set(by_state);

  std::map<prometheus::Labels, double> lag, lag_seconds, max_lag, max_lag_seconds, sum_lag, topic_sum, velocity,
      data_loss, partition_status, group_status, commit_rate;
  for (const auto& [group, g] : reports) {
    for (const auto& r : g.partitions) {
      const std::string partition = std::to_string(r.partition);
      const auto member_labels = labels({{"group", group},
                                         {"topic", r.topic},
                                         {"partition", partition},
                                         {"member_host", r.host},
                                         {"consumer_id", r.consumer_id},
                                         {"client_id", r.client_id}});
      lag[member_labels] = static_cast<double>(r.lag);
      lag_seconds[member_labels] = r.lag_seconds;
      const auto partition_labels = labels({{"group", group}, {"topic", r.topic}, {"partition", partition}});
      velocity[partition_labels] = r.velocity;
      if (r.seconds_to_data_loss) data_loss[partition_labels] = *r.seconds_to_data_loss;
      auto with_status = partition_labels;
      with_status["status"] = status_name(r.status);
      partition_status[with_status] = 1;
      topic_sum[labels({{"group", group}, {"topic", r.topic}})] += static_cast<double>(r.lag);
    }
    const auto group_labels = labels({{"group", group}});
    max_lag[group_labels] = static_cast<double>(g.max_lag);
    max_lag_seconds[group_labels] = g.max_lag_seconds;
    sum_lag[group_labels] = static_cast<double>(g.sum_lag);
    commit_rate[group_labels] = g.commit_rate;
    group_status[labels({{"group", group}, {"status", std::string(status_name(g.status))}})] = 1;
  }
  std::map<prometheus::Labels, double> latest, earliest;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (cluster::Partition* p : partitions_.partitions_of(name)) {
      if (!p || !p->is_leader()) continue;
      const auto partition_labels = labels({{"topic", name}, {"partition", std::to_string(p->index())}});
      latest[partition_labels] = static_cast<double>(p->high_watermark());
      earliest[partition_labels] = static_cast<double>(p->log().log_start_offset());
    }
  }
  lag_.set(lag);
  lag_seconds_.set(lag_seconds);
  max_lag_.set(max_lag);
  max_lag_seconds_.set(max_lag_seconds);
  sum_lag_.set(sum_lag);
  topic_sum_lag_.set(topic_sum);
  latest_offset_.set(latest);
  earliest_offset_.set(earliest);
  velocity_.set(velocity);
  time_to_data_loss_.set(data_loss);
  partition_status_.set(partition_status);
  group_status_.set(group_status);
  commit_rate_.set(commit_rate);
  dropped_.set({{labels({}), static_cast<double>(dropped)}});

  // /api/lag: per group, its partitions and the aggregates, in the metrics' terms.
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& [group, g] : reports) {
    nlohmann::json partitions = nlohmann::json::array();
    for (const auto& r : g.partitions) {
      partitions.push_back(
          {{"topic", r.topic},
           {"partition", r.partition},
           {"committed_offset", r.committed_offset},
           {"end_offset", r.end_offset},
           {"lag", r.lag},
           {"lag_seconds", r.lag_seconds},
           {"velocity", r.velocity},
           {"time_to_data_loss_seconds",
            r.seconds_to_data_loss ? nlohmann::json(*r.seconds_to_data_loss) : nlohmann::json(nullptr)},
           {"status", status_name(r.status)},
           {"consumer_id", r.consumer_id},
           {"client_id", r.client_id},
           {"member_host", r.host}});
    }
    groups.push_back({{"group", group},
                      {"state", g.state},
                      {"status", status_name(g.status)},
                      {"max_lag", g.max_lag},
                      {"max_lag_seconds", g.max_lag_seconds},
                      {"sum_lag", g.sum_lag},
                      {"commit_rate", g.commit_rate},
                      {"partitions", std::move(partitions)}});
  }
  std::string json =
      nlohmann::json{{"sampled_at_ms", now}, {"series_dropped", dropped}, {"groups", std::move(groups)}}.dump();
  {
    std::lock_guard lock(json_mutex_);
    last_json_ = std::move(json);
  }

  std::lock_guard lock(history_mutex_);
  std::erase_if(history_, [&](const auto& entry) { return !reports.contains(entry.first); });
  for (const auto& [group, g] : reports) {
    if (!history_.contains(group) && history_.size() >= kHistoryGroups) continue;
    auto& points = history_[group];
    points.push_back({now, g.sum_lag, g.max_lag_seconds});
    if (points.size() > kHistoryPoints) points.pop_front();
  }
}

std::string LagEngine::history_json() const {
  nlohmann::json groups = nlohmann::json::object();
  {
    std::lock_guard lock(history_mutex_);
    for (const auto& [group, points] : history_) {
      auto& out = groups[group] = nlohmann::json::array();
      for (const auto& p : points) out.push_back({p.at_ms, p.sum_lag, p.max_lag_seconds});
    }
  }
  return nlohmann::json{{"interval_ms", settings_.interval_ms}, {"groups", std::move(groups)}}.dump();
}

std::string LagEngine::last_json() const {
  std::lock_guard lock(json_mutex_);
  return last_json_;
}

}  // namespace fjord::observe
