#include "cli/broker_command.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/signal_set.hpp>
#include <csignal>
#include <fstream>
#include <functional>
#include <variant>

#include "cli/broker.h"
#include "cli/properties.h"
#include "cluster/etcd/etcd_client.h"
#include "cluster/etcd/etcd_cluster.h"
#include "observe/admin_http.h"
#include "server/event_loop.h"
#include "storage/file_system.h"
#include "storage/io_pool.h"

namespace fjord::cli {
namespace {

// The definition a setting is checked against: its own, or for `listener.name.<name>.<setting>` that of the
// setting, when a listener may override it.
const cluster::ConfigDefinition* definition_of(const std::string& key) {
  if (auto base = server::security::per_listener_base_key(key)) {
    return server::security::is_per_listener_setting(*base)
               ? cluster::find_broker_config(server::security::per_listener_definition_key(*base))
               : nullptr;
  }
  return cluster::find_broker_config(key);
}

// Settings given twice, once as a command-line option and once by their Kafka name, must agree.
bool agree(const std::string& option, const std::string& from_option, const std::string& key,
           const cluster::ConfigMap& configs) {
  auto it = configs.find(key);
  if (it == configs.end() || from_option.empty() || it->second == from_option) return true;
  spdlog::error("{} {} and {}={} disagree: give one of them", option, from_option, key, it->second);
  return false;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

// The admin listener's HTTPS and who may read it (admin.authentication, admin.ssl.*), or why the settings do not
// make sense. Open (none) by default only on a loopback address: anywhere else the operator chooses, and a password
// never crosses the network in clear. The password check itself is the broker's, added once it exists.
std::variant<observe::AdminHttpSecurity, std::string> admin_listener_security(const cluster::BrokerSettings& settings,
                                                                              const std::string& host) {
  observe::AdminHttpSecurity security;
  security.keystore_location = settings.get("admin.ssl.keystore.location");
  security.key_password = settings.get("admin.ssl.key.password");
  security.truststore_location = settings.get("admin.ssl.truststore.location");
  const std::string mode = settings.get("admin.authentication");
  const std::string where = "the admin listener (--admin-listen " + host + ")";
  if (!is_loopback(host) && !settings.static_configs.count("admin.authentication")) {
    return where +
           " is not on a loopback address: say who may read it with admin.authentication=basic or mtls (with "
           "admin.ssl.keystore.location), or admin.authentication=none to leave it open";
  }
  if (mode == "basic" && security.keystore_location.empty() && !is_loopback(host)) {
    return "admin.authentication=basic sends passwords: off a loopback address " + where +
           " needs HTTPS (admin.ssl.keystore.location)";
  }
  if (mode == "mtls" && (security.keystore_location.empty() || security.truststore_location.empty())) {
    return "admin.authentication=mtls needs admin.ssl.keystore.location and admin.ssl.truststore.location";
  }
  if (mode != "mtls" && !security.truststore_location.empty()) {
    return "admin.ssl.truststore.location is used only with admin.authentication=mtls";
  }
  if (!security.key_password.empty() && security.keystore_location.empty()) {
    return "admin.ssl.key.password needs admin.ssl.keystore.location";
  }
  return security;
}

// How to reach etcd, from the --metadata-* options; an error message when they do not make sense together or a
// file cannot be read.
std::variant<cluster::etcd::EtcdSecurity, std::string> etcd_security(const BrokerOptions& options) {
  cluster::etcd::EtcdSecurity security;
  if (options.metadata.empty()) {
    const bool any = !options.metadata_cacert.empty() || !options.metadata_cert.empty() ||
                     !options.metadata_key.empty() || !options.metadata_user.empty() ||
                     !options.metadata_password_file.empty();
    if (any) return std::string("--metadata-* options need --metadata");
    return security;
  }
  if (options.metadata_cert.empty() != options.metadata_key.empty()) {
    return std::string("--metadata-cert and --metadata-key go together");
  }
  if (!options.metadata_cert.empty() && options.metadata_cacert.empty()) {
    return std::string("--metadata-cert needs --metadata-cacert (a client certificate is shown over TLS)");
  }
  if (options.metadata_user.empty() != options.metadata_password_file.empty()) {
    return std::string("--metadata-user and --metadata-password-file go together");
  }
  for (const auto* file : {&options.metadata_cacert, &options.metadata_cert, &options.metadata_key}) {
    if (!file->empty() && !std::ifstream(*file)) return "cannot read " + *file;
  }
  if (!options.metadata_password_file.empty()) {
    std::ifstream in(options.metadata_password_file);
    if (!in) return "cannot read " + options.metadata_password_file;
    std::getline(in, security.password);
    if (!security.password.empty() && security.password.back() == '\r') security.password.pop_back();
  }
  security.ca_file = options.metadata_cacert;
  security.cert_file = options.metadata_cert;
  security.key_file = options.metadata_key;
  security.username = options.metadata_user;
  return security;
}

}  // namespace

int run_broker(const BrokerOptions& options, std::function<void(int, int)> on_ready) {
  std::optional<std::string> etcd_endpoint;
  if (!options.metadata.empty()) {
    etcd_endpoint = cluster::etcd::parse_endpoint(options.metadata);
    if (!etcd_endpoint) {
      spdlog::error("--metadata {}: expected etcd://HOST:PORT", options.metadata);
      return 2;
    }
  }
  const auto security = etcd_security(options);
  if (const auto* error = std::get_if<std::string>(&security)) {
    spdlog::error("{}", *error);
    return 2;
  }
  cluster::BrokerSettings settings;
  try {
    if (!options.config_file.empty()) settings.static_configs = read_properties_file(options.config_file);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  for (const auto& assignment : options.sets) {
    auto kv = split_assignment(assignment);
    if (!kv) {
      spdlog::error("--set {}: expected key=value", assignment);
      return 2;
    }
    settings.static_configs[kv->first] = kv->second;
  }
  // A setting Fjord does not know would be ignored: it is refused instead, so that nobody believes it applies.
  bool refused = false;
  for (const auto& [key, value] : settings.static_configs) {
    const auto* definition = definition_of(key);
    auto problem = definition ? cluster::validate_config_value(*definition, value)
                              : std::optional<std::string>("unknown broker setting " + key +
                                                           " (Fjord does not "
                                                           "implement it; remove it from the configuration)");
    if (problem) {
      spdlog::error("{}", *problem);
      refused = true;
    }
  }
  if (refused) return 2;

  // The broker's identity, address and data: by option or by Kafka's setting name, not both differently.
  const auto& configs = settings.static_configs;
  const std::string node_option = options.node_id >= 0 ? std::to_string(options.node_id) : "";
  if (!agree("--node-id", node_option, "node.id", configs) || !agree("--node-id", node_option, "broker.id", configs) ||
      !agree("--data-dir", options.data_dir, "log.dirs", configs)) {
    return 2;
  }
  if (configs.count("node.id") && configs.count("broker.id") && configs.at("node.id") != configs.at("broker.id")) {
    spdlog::error("node.id and broker.id disagree: give one of them");
    return 2;
  }
  std::string node_id = node_option;
  if (node_id.empty()) node_id = configs.count("node.id") ? configs.at("node.id") : settings.get("broker.id");
  std::string data_dir = !options.data_dir.empty() ? options.data_dir : settings.get("log.dirs");
  if (data_dir.find(',') != std::string::npos) {
    spdlog::error("log.dirs={}: Fjord keeps a broker's data in one directory", data_dir);
    return 2;
  }
  // --listen HOST:PORT is the plaintext listener PLAINTEXT://HOST:PORT; `listeners` may name several, each with
  // its security protocol. Given both, --listen must be the first of `listeners`.
  if (!options.listen.empty() && !split_host_port(options.listen)) {
    spdlog::error("--listen takes HOST:PORT");
    return 2;
  }
  if (!configs.count("listeners")) {
    settings.static_configs["listeners"] =
        "PLAINTEXT://" + (options.listen.empty() ? std::string("127.0.0.1:9092") : options.listen);
  }
  auto planned = server::security::plan_listeners(settings);
  if (const auto* error = std::get_if<std::string>(&planned)) {
    spdlog::error("{}", *error);
    return 2;
  }
  auto& plan = std::get<server::security::ListenersPlan>(planned);
  const auto& first = plan.listeners.front();
  if (!options.listen.empty() && options.listen != first.host + ":" + std::to_string(first.port)) {
    spdlog::error("--listen {} and listeners={} disagree: give one of them", options.listen, configs.at("listeners"));
    return 2;
  }
  auto admin_listen = split_host_port(options.admin_listen);
  if (!admin_listen) {
    spdlog::error("--admin-listen takes HOST:PORT");
    return 2;
  }
  auto admin_security = admin_listener_security(settings, admin_listen->first);
  if (const auto* error = std::get_if<std::string>(&admin_security)) {
    spdlog::error("{}", *error);
    return 2;
  }
  settings.static_configs["node.id"] = node_id;
  settings.static_configs["broker.id"] = node_id;
  settings.static_configs["log.dirs"] = data_dir;

  // Declaration order is destruction order reversed, and it matters: the cluster service's threads post to the
  // broker's loop, so it goes before the broker does.
  Metrics metrics;
  SystemClock clock;
  storage::PosixFileSystem fs;
  // fsyncs wait on the device, not the CPU, and concurrent fdatasyncs of many partitions are folded into one
  // journal commit by the filesystem: more threads here make many-partition group commit cheaper, not busier.
  BrokerSetup setup{settings, data_dir, first.host, first.port, plan};
  Broker broker(setup, BrokerEnvironment{fs, clock, metrics}, std::make_unique<storage::ThreadIoPool>(16));
  auto& loop = broker.loop();
  std::unique_ptr<cluster::etcd::EtcdCluster> etcd;
  if (etcd_endpoint) {
    cluster::etcd::EtcdClusterSettings cluster_settings;
    cluster_settings.endpoint = *etcd_endpoint;
    cluster_settings.node_id = broker.node_id();
    cluster_settings.session_timeout_ms = settings.get_long("broker.session.timeout.ms");
    cluster_settings.security = std::get<cluster::etcd::EtcdSecurity>(security);
    etcd = std::make_unique<cluster::etcd::EtcdCluster>(cluster_settings, loop);
    try {
      etcd->load();
    } catch (const std::exception& e) {
      spdlog::error("cannot read the cluster metadata from etcd at {}: {}", *etcd_endpoint, e.what());
      return 1;
    }
  }
  try {
    broker.start(etcd.get());
  } catch (const BrokerStartError& e) {
    spdlog::error("{}", e.what());
    broker.close();
    return 1;
  }
  if (settings.get("admin.authentication") == "basic") {
    std::get<observe::AdminHttpSecurity>(admin_security).check_password = [&broker](const std::string& user,
                                                                                    const std::string& password) {
      return broker.password_matches(user, password);
    };
  }
  std::unique_ptr<observe::AdminHttp> admin_http;
  try {
    admin_http = std::make_unique<observe::AdminHttp>(
        metrics,
        [&broker]() -> std::optional<std::string> {
          const auto& health = broker.directory_health();
          if (health.offline()) return "data directory offline: " + health.reason();
          return std::nullopt;
        },
        std::map<std::string, observe::AdminHttp::JsonSource>{
            {"/api/lag", [&broker] { return broker.lag_json(); }},
            {"/api/lag/history", [&broker] { return broker.lag_history_json(); }},
            {"/api/cluster", [&broker] { return broker.cluster_json(); }},
            {"/api/audit", [&broker] { return broker.audit_json(); }}},
        std::move(std::get<observe::AdminHttpSecurity>(admin_security)));
    admin_http->start(admin_listen->first, admin_listen->second);
  } catch (const std::exception& e) {
    spdlog::error("admin listener: {}", e.what());
    broker.stop_serving();
    broker.close();
    return 1;
  }

  observe::AdminHttp& admin = *admin_http;

  int exit_code = 0;
  auto stop = [&] {
    broker.stop_serving();
    loop.context().stop();
  };
  // The first SIGTERM or SIGINT hands this broker's leadership to the other replicas before it stops (controlled
  // shutdown); a second one stops it at once.
  asio::signal_set signals(loop.context(), SIGINT, SIGTERM);
  // A peer gone mid-write is the write's error (EPIPE), never the end of the broker: sendfile and OpenSSL's writes
  // (the admin listener's HTTPS) would otherwise raise SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  bool stopping = false;
  std::function<void(const std::error_code&, int)> on_signal = [&](const std::error_code& error, int signal) {
    if (error) return;
    if (stopping) {
      spdlog::info("received signal {} again: stopping now", signal);
      return stop();
    }
    stopping = true;
    spdlog::info("received signal {}: stopping", signal);
    signals.async_wait(on_signal);
    broker.shut_down_controlled(stop);
  };
  signals.async_wait(on_signal);
  broker.on_directory_offline([&](const std::string&) {
    // A single node keeps answering, with KAFKA_STORAGE_ERROR, so that clients and operators see why (/health).
    // In a cluster the broker has left and its partitions have moved: the process ends, for its supervisor to
    // restart it once the disk is replaced.
    if (!etcd) return;
    exit_code = 1;
    loop.post(stop);
  });
  std::string serving;
  for (const auto& [name, port] : broker.listener_ports()) {
    auto listener = std::find_if(plan.listeners.begin(), plan.listeners.end(),
                                 [&name = name](const auto& l) { return l.security.name == name; });
    if (!serving.empty()) serving += ", ";
    serving += name + "://" + (listener->host.empty() ? "0.0.0.0" : listener->host) + ":" + std::to_string(port);
  }
  spdlog::info("fjord broker {} serving Kafka on {} (advertised {}), admin on http://{}:{}/metrics, data in {}",
               broker.node_id(), serving, broker.advertised_host(), admin_listen->first, admin.port(), data_dir);
  if (on_ready) loop.post([&] { on_ready(broker.port(), admin.port()); });
  loop.context().run();

  // Clean stop: let queued fsyncs finish, then sync and index every log and leave the clean-shutdown marker.
  try {
    broker.close();
  } catch (const std::exception& e) {
    spdlog::error("clean stop failed: {}", e.what());
    return 1;
  }
  admin.stop();
  if (exit_code == 0) spdlog::info("stopped cleanly");
  return exit_code;
}

}  // namespace fjord::cli
