#include "chaos/member.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdio>
#include <thread>

#include "chaos/journal.h"
#include "chaos/verify.h"
#include "client/consumer.h"
#include "client/shutdown.h"

namespace fjord::chaos {

int64_t sequence_of(std::string_view value) {
  auto dash = value.rfind('-');
  if (dash == std::string_view::npos) return -1;
  int64_t seq = -1;
  auto [end, ec] = std::from_chars(value.data() + dash + 1, value.data() + value.size(), seq);
  return ec == std::errc() && end == value.data() + value.size() ? seq : -1;
}

int run_member(const MemberOptions& o) try {
  // stdout carries the batch announcements to the run; logs go to stderr (the member's log file).
  spdlog::set_default_logger(spdlog::stderr_color_mt("member"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l " + o.instance + " %v");
  client::install_shutdown_signals();
  Journal journal(o.journal);

  client::ConsumerSettings settings;
  settings.bootstrap_servers = o.bootstrap;
  settings.group_id = o.group;
  settings.topics = {o.topic};
  settings.properties = o.properties;
  if (o.group_protocol == "consumer") {
    // The assignor, session and heartbeat are the broker's (group.consumer.*): the client may not set them.
    settings.properties["group.protocol"] = "consumer";
  } else {
    settings.properties["partition.assignment.strategy"] = o.strategy;
    settings.properties["session.timeout.ms"] = std::to_string(o.session_timeout_ms);
    settings.properties["heartbeat.interval.ms"] = std::to_string(std::max(100, o.session_timeout_ms / 5));
  }
  settings.properties["max.poll.interval.ms"] = std::to_string(o.max_poll_interval_ms);
  settings.properties["enable.auto.commit"] = o.auto_commit ? "true" : "false";
  settings.static_membership = o.static_membership;
  // One id per slot, kept across its restarts: that is what lets a static member come back without a rebalance.
  if (o.static_membership) settings.properties["group.instance.id"] = o.group + "-" + slot_of(o.instance);
  settings.allow_unsafe = o.auto_commit;

  client::ConsumerOptions options;
  options.max_batch = static_cast<size_t>(o.max_batch);
  options.on_rebalance = [&](const client::RebalanceEvent& event) {
    std::vector<int32_t> partitions;
    for (const auto& p : event.partitions) partitions.push_back(p.partition);
    const char* kind = event.kind == client::RebalanceEvent::Kind::kAssigned  ? "assigned"
                       : event.kind == client::RebalanceEvent::Kind::kRevoked ? "revoked"
                                                                              : "lost";
    journal.rebalanced(o.instance, kind, partitions);
    std::printf("%s %zu\n", kind, partitions.size());
    std::fflush(stdout);
  };
  options.on_committed = [&](const std::vector<client::PartitionOffset>& offsets, bool) {
    for (const auto& c : offsets) journal.committed(o.instance, c.partition, c.offset);
  };
  client::Consumer consumer(settings, options);
  consumer.run([&](const client::Batch& batch) {
    std::printf("batch %zu\n", batch.size());
    std::fflush(stdout);
    for (const auto& record : batch) {
      std::this_thread::sleep_for(std::chrono::milliseconds(o.process_ms));
      journal.process(o.instance, record.partition(), record.offset(), sequence_of(record.value()), record.value());
    }
    std::printf("done\n");
    std::fflush(stdout);
    return client::BatchResult::kDone;
  });
  return 0;
} catch (const std::exception& e) {
  spdlog::error("chaos member {}: {}", o.instance, e.what());
  return 1;
}

}  // namespace fjord::chaos
