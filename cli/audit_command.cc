#include "cli/audit_command.h"

#include <httplib.h>
#include <librdkafka/rdkafka.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/admin_client.h"
#include "cli/client_security.h"
#include "cli/group_view.h"
#include "cli/properties.h"
#include "observe/audit.h"

namespace fjord::cli {
namespace {

int64_t as_long(const std::map<std::string, std::string>& settings, const std::string& name, int64_t otherwise) {
  auto it = settings.find(name);
  if (it == settings.end()) return otherwise;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return otherwise;
  }
}

struct ClusterView {
  std::vector<observe::TopicFacts> topics;
  int32_t some_broker = -1;
};

ClusterView read_cluster(AdminClient& admin) {
  const rd_kafka_metadata_t* metadata = nullptr;
  auto err = rd_kafka_metadata(admin.handle(), 1, nullptr, &metadata, kAdminTimeoutMs);
  if (err) throw std::runtime_error(std::string("Metadata: ") + rd_kafka_err2str(err));
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> owned(metadata,
                                                                                         rd_kafka_metadata_destroy);
  ClusterView view;
  if (metadata->broker_cnt > 0) view.some_broker = metadata->brokers[0].id;
  std::vector<std::string> names;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const auto& tm = metadata->topics[t];
    if (tm.err || tm.partition_cnt == 0) continue;
    observe::TopicFacts facts;
    facts.name = tm.topic;
    facts.replication_factor = tm.partitions[0].replica_cnt;
    view.topics.push_back(facts);
    names.push_back(tm.topic);
  }
  auto settings = describe_configs(admin, RD_KAFKA_RESOURCE_TOPIC, names);
  for (auto& t : view.topics) {
    const auto& s = settings[t.name];
    t.min_insync_replicas = static_cast<int>(as_long(s, "min.insync.replicas", 1));
    t.unclean_leader_election =
        s.contains("unclean.leader.election.enable") && s.at("unclean.leader.election.enable") == "true";
    t.retention_ms = as_long(s, "retention.ms", -1);
    t.retention_bytes = as_long(s, "retention.bytes", -1);
    t.compacted = s.contains("cleanup.policy") && s.at("cleanup.policy").find("compact") != std::string::npos;
  }
  return view;
}

std::vector<observe::GroupFacts> read_groups(AdminClient& admin) {
  std::vector<observe::GroupFacts> out;
  for (const auto& listed : list_groups(admin)) {
    const std::string& group = listed.group;
    GroupView view;
    try {
      view = describe_members(admin, group);
    } catch (const std::exception&) {
      continue;  // gone since it was listed
    }
    observe::GroupFacts facts{group, view.assignor, {}, view.protocol == "consumer"};
    for (const auto& m : view.member_list) facts.members.push_back({m.client_id, m.host, m.group_instance_id});
    out.push_back(std::move(facts));
  }
  return out;
}

// The client findings of a Fjord broker's own audit (GET /api/audit on its admin listener).
// A secured admin listener is named https://HOST:PORT; the client settings file (--command-config) gives the
// authorities to trust (ssl.truststore.location), a client certificate for mutual TLS (ssl.keystore.location) and
// the user and password for HTTP Basic (as for SASL).
std::vector<observe::Finding> broker_client_findings(const std::string& admin_address) {
  constexpr std::string_view kHttps = "https://";
  const bool https = admin_address.compare(0, kHttps.size(), kHttps) == 0;
  auto host_port = split_host_port(https ? admin_address.substr(kHttps.size()) : admin_address);
  if (!host_port) throw std::invalid_argument("--admin " + admin_address + ": expected HOST:PORT or https://HOST:PORT");
  const auto& security = client_security();
  std::unique_ptr<httplib::Client> secured;
  if (https) {
    if (!security.certificate_file.empty() && !security.key_password.empty()) {
      throw std::invalid_argument("--admin " + admin_address +
                                  ": the client key must not be encrypted (ssl.key.password)");
    }
    const std::string key = security.key_file.empty() ? security.certificate_file : security.key_file;
    secured = std::make_unique<httplib::Client>("https://" + host_port->first + ":" + std::to_string(host_port->second),
                                                security.certificate_file, key);
    if (!security.ca_file.empty()) secured->set_ca_cert_path(security.ca_file);
    secured->enable_server_certificate_verification(true);
  } else {
    secured = std::make_unique<httplib::Client>(host_port->first, host_port->second);
  }
  httplib::Client& client = *secured;
  // OpenSSL writes with write(2): a listener that refuses the handshake (mutual TLS without a certificate) would
  // end this command with SIGPIPE instead of an error message.
  if (https) std::signal(SIGPIPE, SIG_IGN);
  if (!security.username.empty()) client.set_basic_auth(security.username, security.password);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  auto response = client.Get("/api/audit");
  if (!response) {
    throw std::runtime_error("no audit from the admin listener at " + admin_address + ": " +
                             httplib::to_string(response.error()));
  }
  if (response->status == 401) {
    throw std::runtime_error("the admin listener at " + admin_address +
                             " wants credentials (sasl.username and sasl.password or sasl.jaas.config in "
                             "--command-config)");
  }
  if (response->status != 200) throw std::runtime_error("no audit from the admin listener at " + admin_address);
  const auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (json.is_discarded() || !json.contains("findings"))
    throw std::runtime_error("the admin listener at " + admin_address + " answered no audit");
  std::vector<observe::Finding> out;
  for (const auto& f : json["findings"]) {
    if (f.value("subject_kind", "") != "client") continue;
    out.push_back({f.value("rule", ""), f.value("reason", ""), "client", f.value("subject", ""), f.value("detail", ""),
                   f.value("fix", "")});
  }
  return out;
}

}  // namespace

int run_audit(const AuditOptions& options) try {
  AdminClient admin(options.bootstrap);
  const auto cluster = read_cluster(admin);
  std::vector<observe::Finding> findings = observe::audit_topics(cluster.topics);
  if (cluster.some_broker >= 0) {
    auto broker = describe_configs(admin, RD_KAFKA_RESOURCE_BROKER, {std::to_string(cluster.some_broker)});
    observe::ClusterFacts facts;
    facts.group_initial_rebalance_delay_ms =
        as_long(broker[std::to_string(cluster.some_broker)], "group.initial.rebalance.delay.ms", 3000);
    for (auto& f : observe::audit_cluster(facts)) findings.push_back(std::move(f));
  }
  std::vector<std::string> not_checked;
  if (options.admin) {
    // The broker saw each client's own offers and settings: more precise than what a group shows.
    for (auto& f : broker_client_findings(*options.admin)) findings.push_back(std::move(f));
  } else {
    for (auto& f : observe::audit_groups(read_groups(admin))) findings.push_back(std::move(f));
    not_checked = {"producer-acks-all", "producer-idempotence", "consumer-commit-after-processing",
                   "consumer-cooperative and consumer-static-membership per client (the group checks ran)"};
  }

  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& f : findings) {
      out.push_back({{"rule", f.rule},
                     {"reason", f.reason},
                     {"subject_kind", f.subject_kind},
                     {"subject", f.subject},
                     {"detail", f.detail},
                     {"fix", f.fix}});
    }
    std::printf("%s\n", nlohmann::json{{"findings", std::move(out)},
                                       {"not_checked", not_checked},
                                       {"not_checked_why", not_checked.empty() ? ""
                                                                               : "these need a Fjord broker's "
                                                                                 "observations: --admin HOST:PORT"}}
                            .dump(2)
                            .c_str());
  } else {
    if (findings.empty()) std::printf("No finding: the checklist holds for everything checked.\n");
    std::vector<std::vector<std::string>> rows = {{"RULE", "SUBJECT", "SEEN", "FIX"}};
    for (const auto& f : findings) rows.push_back({f.rule, f.subject, f.detail, f.fix});
    if (!findings.empty()) print_table(rows);
    std::map<std::string, std::string> reasons;
    for (const auto& f : findings) reasons[f.rule] = f.reason;
    if (!reasons.empty()) std::printf("\nWhy:\n");
    for (const auto& [rule, reason] : reasons) std::printf("  %s: %s\n", rule.c_str(), reason.c_str());
    if (!not_checked.empty()) {
      std::printf("\nNot checked (they need a Fjord broker's observations of its clients: --admin HOST:PORT):\n");
      for (const auto& rule : not_checked) std::printf("  %s\n", rule.c_str());
    }
  }
  return findings.empty() ? 0 : kAuditFindingsExitStatus;
} catch (const std::exception& e) {
  return failed(e);
}

}  // namespace fjord::cli
