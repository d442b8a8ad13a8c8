#include "cli/lag_command.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "cli/admin_client.h"
#include "cli/client_security.h"
#include "cli/group_view.h"
#include "observe/lag_status.h"

namespace fjord::cli {
namespace {

using observe::LagStatus;

std::atomic<bool> interrupted{false};

int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads the timestamp of the first record at or after an offset (the first one a group has not consumed), the
// way a read_committed consumer sees it: aborted records and control batches are skipped. The consumer only ever
// assigns partitions at explicit offsets: it joins no group and commits nothing.
class FirstRecordReader {
 public:
  explicit FirstRecordReader(const std::string& bootstrap) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char error[512];
    const auto settings = with_client_security({{"bootstrap.servers", bootstrap},
                                                {"group.id", "fjord-lag-reader"},
                                                {"enable.auto.commit", "false"},
                                                {"enable.auto.offset.store", "false"},
                                                {"auto.offset.reset", "earliest"},
                                                {"isolation.level", "read_committed"},
                                                {"fetch.wait.max.ms", "100"},
                                                {"client.id", "fjord-lag"},
                                                {"topic.metadata.refresh.interval.ms", "10000"}});
    for (const auto& [key, value] : settings) {
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(error);
      }
    }
    handle_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    if (!handle_) throw std::runtime_error(error);
    rd_kafka_poll_set_consumer(handle_);
  }
  ~FirstRecordReader() {
    rd_kafka_consumer_close(handle_);
    rd_kafka_destroy(handle_);
  }
  FirstRecordReader(const FirstRecordReader&) = delete;
  FirstRecordReader& operator=(const FirstRecordReader&) = delete;

  // Timestamps (ms) of the first record at or after each offset; a partition whose record does not arrive within
  // the timeout is left out.
  std::map<PartitionKey, int64_t> read(const std::map<PartitionKey, int64_t>& offsets, int timeout_ms) {
    std::map<PartitionKey, int64_t> found;
    if (offsets.empty()) return found;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
    for (const auto& [key, offset] : offsets)
      rd_kafka_topic_partition_list_add(list, key.topic.c_str(), key.partition)->offset = offset;
    rd_kafka_assign(handle_, list);
    rd_kafka_topic_partition_list_destroy(list);
    const int64_t deadline = monotonic_ms() + timeout_ms;
    while (found.size() < offsets.size() && monotonic_ms() < deadline) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(handle_, 100);
      if (!message) continue;
      if (!message->err && message->rkt) {
        PartitionKey key{rd_kafka_topic_name(message->rkt), message->partition};
        auto wanted = offsets.find(key);
        if (wanted != offsets.end() && message->offset >= wanted->second && !found.contains(key))
          found[key] = rd_kafka_message_timestamp(message, nullptr);
      }
      rd_kafka_message_destroy(message);
    }
    rd_kafka_assign(handle_, nullptr);
    return found;
  }

 private:
  rd_kafka_t* handle_ = nullptr;
};

struct PartitionRow {
  PartitionKey key;
  std::optional<int64_t> committed;
  int64_t end_offset = 0;
  std::optional<int64_t> lag;
  double lag_seconds = 0;
  double velocity = 0;
  LagStatus status = LagStatus::kOk;
  std::optional<MemberRow> owner;
};

struct GroupRow {
  std::string group, state;
  size_t members = 0;
  LagStatus status = LagStatus::kOk;
  int64_t max_lag = 0, sum_lag = 0;
  double max_lag_seconds = 0;
  std::vector<PartitionRow> partitions;
};

class LagSampler {
 public:
  LagSampler(const LagOptions& options, observe::LagThresholds thresholds)
      : options_(options), thresholds_(thresholds), admin_(options.bootstrap), reader_(options.bootstrap) {}

  std::vector<GroupRow> sample() {
    std::vector<std::string> groups = options_.groups;
    if (groups.empty()) {
      for (const auto& listed : list_groups(admin_)) groups.push_back(listed.group);
    }
    const int64_t now_monotonic = monotonic_ms();
    std::vector<GroupRow> out;
    std::map<PartitionKey, int64_t> end_offsets;         // one ListOffsets per partition and sample, shared by groups
    std::set<std::pair<PartitionKey, int64_t>> to_read;  // offsets whose record timestamp is not known yet
    std::set<std::pair<PartitionKey, int64_t>> in_use;   // every group's committed offsets now
    std::vector<std::pair<GroupRow, GroupView>> described;
    for (const auto& group : groups) {
      GroupRow row;
      row.group = group;
      GroupView view = describe_group(admin_, group);
      row.state = view.state;
      row.members = view.members;
      std::set<PartitionKey> partitions;
      for (const auto& [key, owner] : view.owners) partitions.insert(key);
      for (const auto& [key, offset] : view.committed) partitions.insert(key);
      for (const auto& key : partitions) {
        if (!end_offsets.contains(key)) end_offsets[key] = admin_.watermarks(key.topic, key.partition).second;
        auto committed = view.committed.find(key);
        if (committed != view.committed.end()) in_use.insert({key, committed->second});
        if (committed != view.committed.end() && committed->second < end_offsets[key] &&
            !timestamps_.contains({key, committed->second})) {
          to_read.insert({key, committed->second});
        }
      }
      described.emplace_back(std::move(row), std::move(view));
    }
    // One offset per partition and pass (groups may read one partition at different offsets). A record's
    // timestamp never changes, so an offset read once stays known while a group stays there.
    while (!to_read.empty()) {
      std::map<PartitionKey, int64_t> pass;
      for (auto it = to_read.begin(); it != to_read.end();) {
        if (pass.contains(it->first)) {
          ++it;
          continue;
        }
        pass[it->first] = it->second;
        it = to_read.erase(it);
      }
      for (const auto& [key, timestamp] : reader_.read(pass, 5000)) timestamps_[{key, pass.at(key)}] = timestamp;
    }
    // What a watch keeps follows what the groups are now: offsets left behind and groups gone are forgotten.
    std::erase_if(timestamps_, [&](const auto& entry) { return !in_use.contains(entry.first); });
    std::erase_if(histories_, [&](const auto& entry) {
      return std::none_of(described.begin(), described.end(),
                          [&](const auto& d) { return d.first.group == entry.first; });
    });
    const int64_t now_wall = wall_ms();
    for (auto& [row, view] : described) {
      auto& histories = histories_[row.group];
      std::set<PartitionKey> partitions;
      for (const auto& [key, owner] : view.owners) partitions.insert(key);
      for (const auto& [key, offset] : view.committed) partitions.insert(key);
      for (const auto& key : partitions) {
        PartitionRow p;
        p.key = key;
        p.end_offset = end_offsets.at(key);
        if (auto owner = view.owners.find(key); owner != view.owners.end()) p.owner = owner->second;
        if (auto committed = view.committed.find(key); committed != view.committed.end()) {
          p.committed = committed->second;
          p.lag = std::max<int64_t>(0, p.end_offset - committed->second);
          if (*p.lag > 0) {
            auto timestamp = timestamps_.find({key, committed->second});
            if (timestamp != timestamps_.end())
              p.lag_seconds = std::max<double>(0, static_cast<double>(now_wall - timestamp->second) / 1000);
          }
          auto& history = histories[key];
          history.add({now_monotonic, committed->second, -1, p.end_offset, *p.lag, p.lag_seconds}, thresholds_);
          p.velocity = history.velocity();
          p.status = history.status(now_wall, thresholds_);
          row.max_lag = std::max(row.max_lag, *p.lag);
          row.sum_lag += *p.lag;
          row.max_lag_seconds = std::max(row.max_lag_seconds, p.lag_seconds);
          row.status = std::max(row.status, p.status);
        }
        row.partitions.push_back(std::move(p));
      }
      out.push_back(std::move(row));
    }
    return out;
  }

 private:
  const LagOptions& options_;
  observe::LagThresholds thresholds_;
  AdminClient admin_;
  FirstRecordReader reader_;
  std::map<std::pair<PartitionKey, int64_t>, int64_t> timestamps_;
  std::map<std::string, std::map<PartitionKey, observe::PartitionLagHistory>> histories_;
};

nlohmann::json or_null(const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
std::string or_dash(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }
std::string fixed(double v, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, v);
  return text;
}

nlohmann::json to_json(const std::vector<GroupRow>& groups) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : groups) {
    nlohmann::json partitions = nlohmann::json::array();
    for (const auto& p : g.partitions) {
      partitions.push_back({{"topic", p.key.topic},
                            {"partition", p.key.partition},
                            {"committed_offset", or_null(p.committed)},
                            {"end_offset", p.end_offset},
                            {"lag", or_null(p.lag)},
                            {"lag_seconds", p.lag_seconds},
                            {"velocity", p.velocity},
                            {"status", observe::status_name(p.status)},
                            {"consumer_id", p.owner ? nlohmann::json(p.owner->consumer_id) : nlohmann::json(nullptr)},
                            {"client_id", p.owner ? nlohmann::json(p.owner->client_id) : nlohmann::json(nullptr)},
                            {"member_host", p.owner ? nlohmann::json(p.owner->host) : nlohmann::json(nullptr)}});
    }
    out.push_back({{"group", g.group},
                   {"state", g.state},
                   {"members", g.members},
                   {"status", observe::status_name(g.status)},
                   {"max_lag", g.max_lag},
                   {"max_lag_seconds", g.max_lag_seconds},
                   {"sum_lag", g.sum_lag},
                   {"partitions", std::move(partitions)}});
  }
  return {{"sampled_at_ms", wall_ms()}, {"groups", std::move(out)}};
}

void print_text(const std::vector<GroupRow>& groups) {
  std::vector<std::vector<std::string>> summary = {
      {"GROUP", "STATUS", "STATE", "MEMBERS", "MAX-LAG", "MAX-LAG-SECONDS", "SUM-LAG"}};
  for (const auto& g : groups) {
    summary.push_back({g.group, std::string(observe::status_name(g.status)), g.state, std::to_string(g.members),
                       std::to_string(g.max_lag), fixed(g.max_lag_seconds, 1), std::to_string(g.sum_lag)});
  }
  print_table(summary);
  std::vector<std::vector<std::string>> rows = {{"GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG",
                                                 "LAG-SECONDS", "VELOCITY", "STATUS", "CONSUMER-ID", "HOST"}};
  for (const auto& g : groups) {
    for (const auto& p : g.partitions) {
      rows.push_back({g.group, p.key.topic, std::to_string(p.key.partition), or_dash(p.committed),
                      std::to_string(p.end_offset), or_dash(p.lag), fixed(p.lag_seconds, 1), fixed(p.velocity, 1),
                      std::string(observe::status_name(p.status)), p.owner ? p.owner->consumer_id : "-",
                      p.owner ? p.owner->host : "-"});
    }
  }
  if (rows.size() > 1) {
    std::printf("\n");
    print_table(rows);
  }
}

bool any_needs_attention(const std::vector<GroupRow>& groups) {
  return std::any_of(groups.begin(), groups.end(), [](const GroupRow& g) { return needs_attention(g.status); });
}

}  // namespace

int run_lag(const LagOptions& options) try {
  if (options.interval_seconds <= 0 || options.observe_seconds < 0 || options.window_seconds < 0) {
    std::fprintf(stderr, "error: --interval must be positive, --for and --window not negative\n");
    return 2;
  }
  observe::LagThresholds thresholds;
  const double window = options.window_seconds > 0    ? options.window_seconds
                        : options.observe_seconds > 0 ? options.observe_seconds
                                                      : 60;
  thresholds.window_ms = static_cast<int64_t>(window * 1000);
  thresholds.warning_seconds = options.warning_seconds;
  thresholds.critical_seconds = options.critical_seconds;
  const auto interval = std::chrono::milliseconds(static_cast<int64_t>(options.interval_seconds * 1000));

  LagSampler sampler(options, thresholds);
  std::signal(SIGINT, [](int) { interrupted = true; });
  std::signal(SIGTERM, [](int) { interrupted = true; });
  std::vector<GroupRow> groups;
  if (!options.watch) {
    const int64_t until = monotonic_ms() + static_cast<int64_t>(options.observe_seconds * 1000);
    groups = sampler.sample();
    while (!interrupted && monotonic_ms() < until) {
      std::this_thread::sleep_for(interval);
      groups = sampler.sample();
    }
    if (options.format == "json") {
      std::printf("%s\n", to_json(groups).dump(2).c_str());
    } else {
      print_text(groups);
    }
  } else {
    for (int refresh = 1; !interrupted; ++refresh) {
      const auto started = std::chrono::steady_clock::now();
      groups = sampler.sample();
      if (options.format == "json") {
        std::printf("%s\n", to_json(groups).dump().c_str());
      } else {
        std::printf("\033[H\033[2J");  // a live view: each refresh replaces the last
        print_text(groups);
        std::printf("\n(every %.1f s; Ctrl-C to stop)\n", options.interval_seconds);
      }
      std::fflush(stdout);
      if (options.iterations > 0 && refresh >= options.iterations) break;
      std::this_thread::sleep_until(started + interval);
    }
  }
  return any_needs_attention(groups) ? kLagNeedsAttentionExitStatus : 0;
} catch (const std::exception& e) {
  return failed(e);
}

}  // namespace fjord::cli
