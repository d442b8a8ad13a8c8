#include "observe/checklist_audit.h"

#include <nlohmann/json.hpp>

#include "observe/audit.h"

namespace fjord::observe {
namespace {

int64_t as_long(const std::string& text, int64_t otherwise) {
  try {
    return text.empty() ? otherwise : std::stoll(text);
  } catch (const std::exception&) {
    return otherwise;
  }
}

}  // namespace

ChecklistAudit::ChecklistAudit(cluster::PartitionManager& partitions, server::ClientActivity& activity,
                               Metrics& metrics, const Clock& clock, Scheduler& scheduler, int64_t interval_ms)
    : partitions_(partitions),
      activity_(activity),
      clock_(clock),
      scheduler_(scheduler),
      interval_ms_(interval_ms),
      violations_family_(metrics.gauge_family(
          "fjord_checklist_violations",
          "Findings of the production-checklist audit by rule (clients, topics and settings that break it)")) {
  for (const auto& rule : checklist_rules()) violations_[rule.id] = &violations_family_.Add({{"rule", rule.id}});
  schedule();
}

ChecklistAudit::~ChecklistAudit() {
  *alive_ = false;
  for (auto& [rule, gauge] : violations_) violations_family_.Remove(gauge);
}

void ChecklistAudit::schedule() {
  timer_ = scheduler_.schedule_after(interval_ms_, [this, alive = std::weak_ptr<bool>(alive_)] {
    auto still = alive.lock();
    if (!still || !*still) return;
    run();
    schedule();
  });
}

void ChecklistAudit::run() {
  const int64_t now = clock_.now_ms();
  const auto& clients = activity_.clients(now);
  std::vector<TopicFacts> topics;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    TopicFacts t;
    t.name = name;
    t.replication_factor = topic.replication_factor;
    t.min_insync_replicas = static_cast<int>(as_long(partitions_.effective(topic.configs, "min.insync.replicas"), 1));
    t.unclean_leader_election = partitions_.effective(topic.configs, "unclean.leader.election.enable") == "true";
    t.retention_ms = as_long(partitions_.effective(topic.configs, "retention.ms"), -1);
    t.retention_bytes = as_long(partitions_.effective(topic.configs, "retention.bytes"), -1);
    t.compacted = partitions_.effective(topic.configs, "cleanup.policy").find("compact") != std::string::npos;
    topics.push_back(std::move(t));
  }
  ClusterFacts cluster;
  cluster.group_initial_rebalance_delay_ms = partitions_.settings().get_long("group.initial.rebalance.delay.ms");

  std::vector<Finding> findings = audit_clients(clients);
  for (auto& f : audit_topics(topics)) findings.push_back(std::move(f));
  for (auto& f : audit_cluster(cluster)) findings.push_back(std::move(f));

  std::map<std::string, int> per_rule;
  nlohmann::json found = nlohmann::json::array();
  for (const auto& f : findings) {
    ++per_rule[f.rule];
    found.push_back({{"rule", f.rule},
                     {"reason", f.reason},
                     {"subject_kind", f.subject_kind},
                     {"subject", f.subject},
                     {"detail", f.detail},
                     {"fix", f.fix}});
  }
  for (auto& [rule, gauge] : violations_) gauge->Set(per_rule[rule]);

  nlohmann::json seen = nlohmann::json::array();
  for (const auto& [client, use] : clients) {
    nlohmann::json produced = nlohmann::json::object();
    for (const auto& [topic, p] : use.produced) {
      produced[topic] = {{"acks", p.acks},
                         {"idempotent", p.with_producer_id && !p.without_producer_id},
                         {"transactional", p.transactional}};
    }
    nlohmann::json groups = nlohmann::json::object();
    for (const auto& [group, m] : use.groups) {
      nlohmann::json commits = nlohmann::json::array();
      for (const auto& [member_id, times] : m.commits) {
        const CommitRhythm rhythm = classify_commits(times.recent());
        commits.push_back({{"member_id", member_id},
                           {"commits", times.total()},
                           {"pattern", commit_pattern_name(rhythm.pattern)},
                           {"period_ms", rhythm.period_ms}});
      }
      groups[group] = {{"protocol_type", m.protocol_type},
                       {"commits", std::move(commits)},
                       {"protocols", m.protocols},
                       {"group_instance_id", m.group_instance_id ? nlohmann::json(*m.group_instance_id) : nullptr},
                       {"session_timeout_ms", m.session_timeout_ms},
                       {"rebalance_timeout_ms", m.rebalance_timeout_ms}};
    }
    seen.push_back({{"client_id", client.client_id},
                    {"software_name", client.software_name},
                    {"software_version", client.software_version},
                    {"host", client.host},
                    {"last_seen_ms", use.last_seen_ms},
                    {"produced", std::move(produced)},
                    {"groups", std::move(groups)}});
  }
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : checklist_rules()) rules.push_back({{"rule", r.id}, {"reason", r.reason}});
  auto json = nlohmann::json{{"checked_at_ms", now},
                             {"findings", std::move(found)},
                             {"clients", std::move(seen)},
                             {"rules", std::move(rules)}}
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard lock(mutex_);
  last_json_ = std::move(json);
}

std::string ChecklistAudit::last_json() const {
  std::lock_guard lock(mutex_);
  return last_json_;
}

}  // namespace fjord::observe
