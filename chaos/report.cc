#include "chaos/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace fjord::chaos {
namespace {

int64_t median(std::vector<int64_t> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

nlohmann::json report_json(const RunSettings& s, const Verdict& v) {
  nlohmann::json j;
  j["settings"] = {
      {"bootstrap_server", s.bootstrap},
      {"topic", s.topic},
      {"group", s.group},
      {"partitions", s.partitions},
      {"members", s.members},
      {"group_protocol", s.group_protocol},
      {"assignment_strategy", s.group_protocol == "consumer" ? "the broker's" : s.strategy},
      {"static_membership", s.static_membership},
      {"auto_commit", s.auto_commit},
      // The consumer protocol's session is the broker's (group.consumer.session.timeout.ms).
      {"session_timeout_ms", s.group_protocol == "consumer" ? nlohmann::json() : nlohmann::json(s.session_timeout_ms)},
      {"duration_s", s.duration_s},
      {"faults", s.faults}};
  j["records"] = {{"produced", v.produced},
                  {"acknowledged", v.acknowledged},
                  {"processed", v.processed},
                  {"deliveries", v.deliveries},
                  {"lost", v.lost},
                  {"skipped", v.skipped},
                  {"not_reached", v.lost - v.skipped},
                  {"moved", v.moved},
                  {"duplicated", v.duplicated},
                  {"absorbed_by_sink", v.absorbed},
                  {"processed_unacknowledged", v.processed_unacknowledged}};
  j["lost_examples"] = nlohmann::json::array();
  for (const auto& a : v.lost_examples) {
    j["lost_examples"].push_back({{"seq", a.seq}, {"partition", a.partition}, {"offset", a.offset}});
  }
  j["kills"] = {{"total", v.kills}, {"mid_batch", v.kills_mid_batch}, {"uncommitted_at_kills", v.uncommitted_at_kills}};
  j["rebalances"] = nlohmann::json::array();
  for (const auto& e : v.rebalances) {
    j["rebalances"].push_back({{"at_ms", e.start_ms - s.started_ms},
                               {"duration_ms", e.end_ms - e.start_ms},
                               {"members", e.instances},
                               {"revoked_partitions", e.revoked_partitions},
                               {"paused_partitions", e.paused_partitions},
                               {"pause_ms", e.max_pause_ms}});
  }
  j["faults"] = nlohmann::json::array();
  for (const auto& f : v.faults) {
    j["faults"].push_back({{"kind", f.fault.kind},
                           {"member", f.fault.instance},
                           {"at_ms", f.fault.at_ms - s.started_ms},
                           {"uncommitted_at_kill", f.uncommitted_at_kill},
                           {"rebalances", f.rebalances},
                           {"revoked_partitions", f.revoked_partitions},
                           {"paused_partitions", f.paused_partitions},
                           {"pause_ms", f.max_pause_ms},
                           {"other_partitions_pause_ms", f.others_max_pause_ms}});
  }
  j["passed"] = v.passed();
  return j;
}

std::string report_text(const RunSettings& s, const Verdict& v) {
  std::string out;
  out += fmt::format(
      "fjord chaos against {}: topic {} ({} partitions), group {} ({} members, {}, {}, {})\n", s.bootstrap, s.topic,
      s.partitions, s.group, s.members, s.group_protocol == "consumer" ? "consumer protocol" : s.strategy,
      s.static_membership ? "static" : "dynamic", s.auto_commit ? "auto-commit ON" : "commit after processing");
  out += fmt::format("{:.0f} s with faults: {}\n\n", s.duration_s, s.faults.empty() ? "none" : s.faults);
  auto row = [&](const char* name, uint64_t value, const std::string& note = "") {
    out += fmt::format("  {:<26} {:>10}  {}\n", name, value, note);
  };
  row("produced", v.produced);
  row("acknowledged", v.acknowledged);
  row("processed", v.processed, "distinct acknowledged records");
  row("lost", v.lost, v.lost ? "LOST: acknowledged, never processed" : "");
  row("skipped", v.skipped, v.skipped ? "SKIPPED: processing went past them" : "");
  if (v.lost > v.skipped) {
    row("not reached", v.lost - v.skipped, "the group never got to them before the drain timeout");
  }
  if (v.moved) row("moved", v.moved, "processed at another offset than acknowledged");
  row("duplicated", v.duplicated, fmt::format("{} absorbed by the idempotent sink", v.absorbed));
  if (v.processed_unacknowledged)
    row("processed, not acknowledged", v.processed_unacknowledged, "producer saw an error");
  row("member kills", v.kills,
      fmt::format("{} mid-batch ({} records processed in the interrupted batches, not committed)", v.kills_mid_batch,
                  v.uncommitted_at_kills));
  std::vector<int64_t> pauses;
  for (const auto& e : v.rebalances) pauses.push_back(e.max_pause_ms);
  row("rebalances", v.rebalances.size(),
      v.rebalances.empty() ? ""
                           : fmt::format("pause median {} ms, max {} ms", median(pauses),
                                         *std::max_element(pauses.begin(), pauses.end())));
  if (!v.faults.empty()) {
    out += fmt::format("\n  {:>8}  {:<10} {:<12} {:>11} {:>10} {:>7} {:>7} {:>9} {:>10}\n", "at (s)", "fault", "member",
                       "uncommitted", "rebalances", "revoked", "paused", "pause ms", "others ms");
    for (const auto& f : v.faults) {
      out += fmt::format("  {:>8.1f}  {:<10} {:<12} {:>11} {:>10} {:>7} {:>7} {:>9} {:>10}\n",
                         (f.fault.at_ms - s.started_ms) / 1000.0, f.fault.kind,
                         f.fault.instance.empty() ? "-" : f.fault.instance,
                         f.fault.kind == "kill" ? std::to_string(f.uncommitted_at_kill) : "-", f.rebalances,
                         f.revoked_partitions, f.paused_partitions, f.max_pause_ms, f.others_max_pause_ms);
    }
    out +=
        "  (uncommitted: processed in the batch the kill interrupted; revoked: partitions taken from their owners in "
        "its rebalances;\n   paused: partitions idle longer than the pause threshold; others: the longest pause of "
        "partitions the member did not own)\n";
  }
  for (const auto& a : v.lost_examples) {
    out += fmt::format("  lost: record {} at partition {} offset {}\n", a.seq, a.partition, a.offset);
  }
  out += v.passed() ? "\nPASS: nothing acknowledged was lost\n" : "\nFAIL: acknowledged records were lost\n";
  if (v.acknowledged == 0) out += "  (nothing was acknowledged: the run tested nothing)\n";
  return out;
}

}  // namespace fjord::chaos
