#include "cli/group_command.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <tuple>

#include "cli/admin_client.h"
#include "cli/group_view.h"

namespace fjord::cli {

namespace {

std::string or_dash(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::vector<PartitionKey> partitions_of(AdminClient& admin, const std::string& topic) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(admin.handle(), topic.c_str(), nullptr);
  auto err = rd_kafka_metadata(admin.handle(), 0, handle, &metadata, kAdminTimeoutMs);
  rd_kafka_topic_destroy(handle);
  if (err) throw std::runtime_error(topic + ": " + rd_kafka_err2str(err));
  std::vector<PartitionKey> out;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    if (metadata->topics[t].err) {
      std::string problem = rd_kafka_err2str(metadata->topics[t].err);
      rd_kafka_metadata_destroy(metadata);
      throw std::runtime_error(topic + ": " + problem);
    }
    for (int p = 0; p < metadata->topics[t].partition_cnt; ++p)
      out.push_back({topic, metadata->topics[t].partitions[p].id});
  }
  rd_kafka_metadata_destroy(metadata);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<int64_t> parse_datetime_ms(const std::string& text) {
  int year, month, day, hour, minute, second;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second, &consumed) !=
      6) {
    return std::nullopt;
  }
  std::string rest = text.substr(static_cast<size_t>(consumed));
  int64_t millis = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    std::string fraction = (rest.substr(1, digits - 1) + "000").substr(0, 3);
    millis = std::stoll(fraction);
    rest = rest.substr(digits);
  }
  int64_t offset_minutes = 0;
  if (rest == "Z" || rest.empty()) {
  } else if ((rest[0] == '+' || rest[0] == '-') && rest.size() == 6 && rest[3] == ':') {
    int sign = rest[0] == '-' ? -1 : 1;
    offset_minutes = sign * (std::stoll(rest.substr(1, 2)) * 60 + std::stoll(rest.substr(4, 2)));
  } else {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t seconds = timegm(&tm);
  return (seconds - offset_minutes * 60) * 1000 + millis;
}

int run_group_list(const GroupOptions& options) try {
  AdminClient admin(options.bootstrap);
  const auto listed = list_groups(admin);
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& g : listed) {
      out.push_back({{"group", g.group}, {"state", g.state}, {"protocol", g.protocol.empty() ? "-" : g.protocol}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"GROUP", "STATE", "PROTOCOL"}};
  for (const auto& g : listed) {
    rows.push_back({g.group, g.state.empty() ? "-" : g.state, g.protocol.empty() ? "-" : g.protocol});
  }
  print_table(rows);
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

namespace {

std::string joined(const std::vector<PartitionKey>& partitions) {
  std::string out;
  for (const auto& p : partitions) out += (out.empty() ? "" : ",") + p.topic + "-" + std::to_string(p.partition);
  return out.empty() ? "-" : out;
}

nlohmann::json partitions_json(const std::vector<PartitionKey>& partitions) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : partitions) out.push_back({{"topic", p.topic}, {"partition", p.partition}});
  return out;
}

}  // namespace

int run_group_describe(const GroupOptions& options) try {
  AdminClient admin(options.bootstrap);
  GroupView view = describe_group(admin, options.group);
  std::set<PartitionKey> partitions;
  for (const auto& [key, owner] : view.owners) partitions.insert(key);
  for (const auto& [key, offset] : view.committed) partitions.insert(key);

  nlohmann::json json_rows = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows = {
      {"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"}};
  for (const auto& key : partitions) {
    int64_t log_end = admin.watermarks(key.topic, key.partition).second;
    std::optional<int64_t> current, lag;
    if (auto it = view.committed.find(key); it != view.committed.end()) {
      current = it->second;
      lag = std::max<int64_t>(0, log_end - it->second);
    }
    auto owner = view.owners.find(key);
    const MemberRow* member = owner == view.owners.end() ? nullptr : &owner->second;
    rows.push_back({options.group, key.topic, std::to_string(key.partition), or_dash(current), std::to_string(log_end),
                    or_dash(lag), member ? member->consumer_id : "-", member ? member->host : "-",
                    member ? member->client_id : "-"});
    nlohmann::json row = {{"group", options.group},
                          {"topic", key.topic},
                          {"partition", key.partition},
                          {"current_offset", current ? nlohmann::json(*current) : nlohmann::json(nullptr)},
                          {"log_end_offset", log_end},
                          {"lag", lag ? nlohmann::json(*lag) : nlohmann::json(nullptr)},
                          {"consumer_id", member ? nlohmann::json(member->consumer_id) : nlohmann::json(nullptr)},
                          {"host", member ? nlohmann::json(member->host) : nlohmann::json(nullptr)},
                          {"client_id", member ? nlohmann::json(member->client_id) : nlohmann::json(nullptr)}};
    json_rows.push_back(row);
  }
  // The consumer protocol's members: each one's epoch, and what it owns against what the broker means it to own
  // (they differ while the group reconciles).
  std::vector<std::vector<std::string>> member_rows = {
      {"CONSUMER-ID", "EPOCH", "INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNED", "TARGET"}};
  nlohmann::json json_members = nlohmann::json::array();
  for (const auto& m : view.member_list) {
    if (!m.member_epoch) continue;
    member_rows.push_back({m.consumer_id, std::to_string(*m.member_epoch), m.group_instance_id.value_or("-"),
                           m.client_id, m.host, joined(m.assigned), joined(m.target)});
    json_members.push_back(
        {{"consumer_id", m.consumer_id},
         {"member_epoch", *m.member_epoch},
         {"instance_id", m.group_instance_id ? nlohmann::json(*m.group_instance_id) : nlohmann::json(nullptr)},
         {"client_id", m.client_id},
         {"host", m.host},
         {"assigned", partitions_json(m.assigned)},
         {"target", partitions_json(m.target)}});
  }
  auto optional_json = [](const std::optional<int32_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  if (options.format == "json") {
    nlohmann::json out = {{"group", options.group},
                          {"protocol", view.protocol},
                          {"state", view.state},
                          {"assignor", view.assignor},
                          {"group_epoch", optional_json(view.group_epoch)},
                          {"assignment_epoch", optional_json(view.assignment_epoch)},
                          {"members", view.members},
                          {"member_details", json_members},
                          {"partitions", json_rows}};
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("Group '%s': protocol %s, state %s", options.group.c_str(), view.protocol.c_str(), view.state.c_str());
  if (view.group_epoch) std::printf(", group epoch %d, assignment epoch %d", *view.group_epoch, *view.assignment_epoch);
  if (!view.assignor.empty()) std::printf(", assignor %s", view.assignor.c_str());
  std::printf("\n");
  if (view.members == 0) std::printf("Consumer group '%s' has no active members.\n", options.group.c_str());
  if (member_rows.size() > 1) {
    std::printf("\n");
    print_table(member_rows);
  }
  std::printf("\n");
  print_table(rows);
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

int run_group_reset_offsets(const GroupOptions& options) try {
  int strategies = options.to_earliest + options.to_latest + options.to_datetime.has_value() +
                   options.shift_by.has_value() + options.to_offset.has_value();
  if (strategies != 1) {
    std::fprintf(stderr,
                 "error: give exactly one of --to-earliest, --to-latest, --to-datetime, --shift-by, --to-offset\n");
    return 2;
  }
  if (options.topics.empty() == !options.all_topics) {
    std::fprintf(stderr, "error: give --topic TOPIC[:P,P...] (repeatable) or --all-topics\n");
    return 2;
  }
  std::optional<int64_t> timestamp;
  if (options.to_datetime) {
    timestamp = parse_datetime_ms(*options.to_datetime);
    if (!timestamp) {
      std::fprintf(stderr, "error: --to-datetime %s: expected YYYY-MM-DDTHH:MM:SS[.mmm][Z|+HH:MM]\n",
                   options.to_datetime->c_str());
      return 2;
    }
  }
  AdminClient admin(options.bootstrap);
  GroupView view = describe_group(admin, options.group);
  if (options.execute && view.members > 0) {
    std::fprintf(stderr,
                 "error: assignments can only be reset if the group '%s' is inactive, but it has %zu members "
                 "(state %s)\n",
                 options.group.c_str(), view.members, view.state.c_str());
    return 1;
  }
  std::vector<PartitionKey> targets;
  if (options.all_topics) {
    for (const auto& [key, offset] : view.committed) targets.push_back(key);
  }
  for (const auto& spec : options.topics) {
    auto colon = spec.find(':');
    std::string topic = spec.substr(0, colon);
    if (colon == std::string::npos) {
      for (auto& key : partitions_of(admin, topic)) targets.push_back(key);
      continue;
    }
    std::string list = spec.substr(colon + 1);
    for (size_t start = 0; start <= list.size();) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      targets.push_back({topic, static_cast<int32_t>(std::stol(list.substr(start, comma - start)))});
      start = comma + 1;
    }
  }
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());

  std::map<PartitionKey, int64_t> plan;
  std::map<PartitionKey, int64_t> by_time;
  if (timestamp) {
    rd_kafka_topic_partition_list_t* query = rd_kafka_topic_partition_list_new(static_cast<int>(targets.size()));
    for (const auto& key : targets)
      rd_kafka_topic_partition_list_add(query, key.topic.c_str(), key.partition)->offset = *timestamp;
    auto err = rd_kafka_offsets_for_times(admin.handle(), query, kAdminTimeoutMs);
    if (err) {
      rd_kafka_topic_partition_list_destroy(query);
      throw std::runtime_error(std::string("ListOffsets: ") + rd_kafka_err2str(err));
    }
    for (int i = 0; i < query->cnt; ++i)
      by_time[{query->elems[i].topic, query->elems[i].partition}] = query->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(query);
  }
  for (const auto& key : targets) {
    auto [low, high] = admin.watermarks(key.topic, key.partition);
    int64_t target = 0;
    if (options.to_earliest) target = low;
    if (options.to_latest) target = high;
    if (options.to_offset) target = *options.to_offset;
    if (options.shift_by) {
      auto it = view.committed.find(key);
      // A partition the group never committed shifts from the start of its log.
      int64_t from = it != view.committed.end() ? it->second : low;
      target = from + *options.shift_by;
    }
    if (timestamp) {
      auto it = by_time.find(key);
      // No record at or after the time: the end of the log.
      target = it == by_time.end() || it->second < 0 ? high : it->second;
    }
    plan[key] = std::clamp(target, low, high);
  }

  if (options.execute) {
    rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(static_cast<int>(plan.size()));
    for (const auto& [key, offset] : plan) {
      rd_kafka_topic_partition_list_add(offsets, key.topic.c_str(), key.partition)->offset = offset;
    }
    auto* request = rd_kafka_AlterConsumerGroupOffsets_new(options.group.c_str(), offsets);
    rd_kafka_topic_partition_list_destroy(offsets);
    auto* request_options = admin.options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    rd_kafka_AlterConsumerGroupOffsets(admin.handle(), &request, 1, request_options, admin.queue());
    rd_kafka_AdminOptions_destroy(request_options);
    rd_kafka_AlterConsumerGroupOffsets_destroy(request);
    auto event = admin.wait("OffsetCommit");
    size_t count = 0;
    auto** results = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(event.get()), &count);
    checked_groups(results, count, "OffsetCommit", true);
  }
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [key, offset] : plan) {
      out.push_back(
          {{"group", options.group}, {"topic", key.topic}, {"partition", key.partition}, {"new_offset", offset}});
    }
    std::printf("%s\n", nlohmann::json({{"executed", options.execute}, {"offsets", out}}).dump(2).c_str());
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}};
  for (const auto& [key, offset] : plan)
    rows.push_back({options.group, key.topic, std::to_string(key.partition), std::to_string(offset)});
  print_table(rows);
  if (!options.execute) std::printf("\n(a plan only: add --execute to apply it)\n");
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

int run_group_delete(const GroupOptions& options) try {
  AdminClient admin(options.bootstrap);
  rd_kafka_DeleteGroup_t* request = rd_kafka_DeleteGroup_new(options.group.c_str());
  auto* request_options = admin.options(RD_KAFKA_ADMIN_OP_DELETEGROUPS);
  rd_kafka_DeleteGroups(admin.handle(), &request, 1, request_options, admin.queue());
  rd_kafka_AdminOptions_destroy(request_options);
  rd_kafka_DeleteGroup_destroy(request);
  auto event = admin.wait("DeleteGroups");
  size_t count = 0;
  auto** results = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(event.get()), &count);
  checked_groups(results, count, "DeleteGroups " + options.group, false);
  std::printf("Deletion of requested consumer groups ('%s') was successful.\n", options.group.c_str());
  return 0;
} catch (const std::exception& e) {
  return failed(e);
}

}  // namespace fjord::cli
