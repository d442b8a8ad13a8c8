#include "cli/broker_command.h"

#include <spdlog/spdlog.h>

#include <asio/signal_set.hpp>

#include "cli/properties.h"
#include "cluster/controller.h"
#include "cluster/etcd/etcd_client.h"
#include "cluster/etcd/etcd_cluster.h"
#include "cluster/local_metadata_store.h"
#include "cluster/partition_manager.h"
#include "cluster/replica_fetcher.h"
#include "cluster/replica_manager.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/offsets_records.h"
#include "coordinator/partition_group_log.h"
#include "observe/admin_http.h"
#include "server/event_loop.h"
#include "server/handlers/registry.h"
#include "server/probe.h"
#include "server/server.h"
#include "storage/file_system.h"
#include "storage/io_pool.h"

namespace fjord::cli {
namespace {

// The host:port from Kafka's "PLAINTEXT://host:port" form.
std::optional<std::pair<std::string, int>> listener_address(const std::string& listener) {
  auto scheme = listener.find("://");
  return split_host_port(scheme == std::string::npos ? listener : listener.substr(scheme + 3));
}

coordinator::GroupSettings group_settings(const cluster::BrokerSettings& settings) {
  coordinator::GroupSettings g;
  g.initial_rebalance_delay_ms = settings.get_long("group.initial.rebalance.delay.ms");
  g.min_session_timeout_ms = static_cast<int32_t>(settings.get_long("group.min.session.timeout.ms"));
  g.max_session_timeout_ms = static_cast<int32_t>(settings.get_long("group.max.session.timeout.ms"));
  g.offsets_retention_ms = settings.get_long("offsets.retention.minutes") * 60'000;
  g.retention_check_interval_ms = settings.get_long("offsets.retention.check.interval.ms");
  g.max_metadata_bytes = static_cast<int32_t>(settings.get_long("offset.metadata.max.bytes"));
  g.max_group_size = static_cast<int32_t>(settings.get_long("group.max.size"));
  return g;
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
  for (const auto& [key, value] : settings.static_configs) {
    const auto* definition = cluster::find_broker_config(key);
    if (!definition) {
      spdlog::warn("unknown broker setting {} (ignored)", key);
      continue;
    }
    if (auto problem = cluster::validate_config_value(*definition, value)) {
      spdlog::error("{}", *problem);
      return 2;
    }
  }
  auto listen = split_host_port(options.listen);
  auto admin_listen = split_host_port(options.admin_listen);
  if (!listen || !admin_listen) {
    spdlog::error("--listen and --admin-listen take HOST:PORT");
    return 2;
  }
  settings.static_configs["node.id"] = std::to_string(options.node_id);
  settings.static_configs["log.dirs"] = options.data_dir;

  // Declaration order is destruction order reversed, and it matters: the event loop outlives the I/O pool (whose
  // threads post completions to it) and dies before everything its pending handlers may still touch.
  Metrics metrics;
  storage::StorageProbe storage_probe(metrics);
  server::ServerProbe probe(metrics);
  SystemClock clock;
  storage::PosixFileSystem fs;
  std::unique_ptr<cluster::LocalMetadataStore> local_metadata;
  cluster::MetadataStore* metadata = nullptr;
  cluster::PartitionProbe partition_probe(metrics);
  std::unique_ptr<cluster::PartitionManager> partitions;
  std::unique_ptr<cluster::ProducerIds> producer_ids;
  std::unique_ptr<coordinator::PartitionGroupLog> group_log;
  std::unique_ptr<coordinator::GroupCoordinator> groups;
  std::unique_ptr<server::ServerContext> context;  // connections refer to it until the loop is gone
  server::EventLoop loop;
  // Cluster mode. Its threads post to the loop, so it goes before the loop does; the fetcher's sessions are
  // coroutines on the loop.
  std::unique_ptr<cluster::etcd::EtcdCluster> etcd;
  std::unique_ptr<cluster::ReplicaFetcher> fetcher;
  std::unique_ptr<cluster::ReplicaManager> replicas;
  std::unique_ptr<cluster::Controller> controller;
  // Its requests run on the I/O threads, which are joined before it goes.
  std::unique_ptr<storage::SyncScheduler> syncs;
  // fsyncs wait on the device, not the CPU, and concurrent fdatasyncs of many partitions are folded into one
  // journal commit by the filesystem: more threads here make many-partition group commit cheaper, not busier.
  auto io = std::make_unique<storage::ThreadIoPool>(16);
  syncs = std::make_unique<storage::SyncScheduler>(*io, loop, fs, options.data_dir);
  if (etcd_endpoint) {
    cluster::etcd::EtcdClusterSettings cluster_settings;
    cluster_settings.endpoint = *etcd_endpoint;
    cluster_settings.node_id = options.node_id;
    cluster_settings.session_timeout_ms = settings.get_long("broker.session.timeout.ms");
    etcd = std::make_unique<cluster::etcd::EtcdCluster>(cluster_settings, loop);
    try {
      etcd->load();
    } catch (const std::exception& e) {
      spdlog::error("cannot read the cluster metadata from etcd at {}: {}", *etcd_endpoint, e.what());
      return 1;
    }
    metadata = etcd.get();
  }
  try {
    fs.create_directories(options.data_dir);
    if (!metadata) {
      local_metadata = std::make_unique<cluster::LocalMetadataStore>(fs, options.data_dir);
      metadata = local_metadata.get();
    }
    partitions =
        std::make_unique<cluster::PartitionManager>(storage::LogContext{fs, *io, *syncs, loop, clock, &storage_probe},
                                                    options.data_dir, *metadata, settings, loop, &partition_probe);
    if (etcd) partitions->enable_cluster_mode([&etcd] { return etcd->live_brokers().size(); });
    partitions->start();
  } catch (const std::exception& e) {
    spdlog::error("cannot open the data directory {}: {}", options.data_dir, e.what());
    return 1;
  }

  server::BrokerIdentity identity;
  identity.node_id = options.node_id;
  producer_ids = std::make_unique<cluster::ProducerIds>(*metadata);
  group_log = std::make_unique<coordinator::PartitionGroupLog>(*partitions, clock);
  groups = std::make_unique<coordinator::GroupCoordinator>(*group_log, clock, loop, group_settings(settings));
  try {
    if (etcd) {
      groups->serve_led_partitions();
    } else {
      groups->load();
    }
  } catch (const std::exception& e) {
    spdlog::error("cannot load the consumer groups: {}", e.what());
    return 1;
  }
  context.reset(
      new server::ServerContext{*partitions, *producer_ids, *groups, identity, clock, loop, probe, etcd.get()});
  server::ConnectionLimits limits;
  limits.max_request_bytes = static_cast<size_t>(settings.get_long("socket.request.max.bytes"));
  server::Server server(loop, *context, server::HandlerRegistry::standard(), limits);
  observe::AdminHttp admin(metrics);
  try {
    server.listen(listen->first, static_cast<uint16_t>(listen->second));
    admin.start(admin_listen->first, admin_listen->second);
  } catch (const std::exception& e) {
    spdlog::error("cannot listen: {}", e.what());
    partitions->stop();
    return 1;
  }
  // Clients reconnect to the advertised address, so it must be one they can reach: advertised.listeners if set,
  // else the address actually bound.
  auto advertised = listener_address(settings.get("advertised.listeners"));
  identity.advertised_host = advertised ? advertised->first : listen->first;
  identity.advertised_port = advertised ? advertised->second : server.port();
  if (identity.advertised_host == "0.0.0.0" || identity.advertised_host == "::") identity.advertised_host = "127.0.0.1";
  context->identity = identity;

  if (etcd) {
    try {
      etcd->join(
          cluster::BrokerEndpoint{identity.node_id, identity.advertised_host, identity.advertised_port, identity.rack});
    } catch (const std::exception& e) {
      spdlog::error("cannot register in etcd at {}: {}", *etcd_endpoint, e.what());
      server.stop();
      partitions->stop();
      return 1;
    }
    cluster::FetcherSettings fetch_settings;
    fetch_settings.max_wait_ms = static_cast<int32_t>(settings.get_long("replica.fetch.wait.max.ms"));
    fetcher = std::make_unique<cluster::ReplicaFetcher>(loop.context(), *partitions, *etcd, fetch_settings);
    const int64_t lag_max = settings.get_long("replica.lag.time.max.ms");
    replicas = std::make_unique<cluster::ReplicaManager>(*partitions, *etcd, *etcd, *fetcher, loop,
                                                         std::clamp<int64_t>(lag_max / 4, 50, 1000), &partition_probe);
    cluster::ControllerPolicy policy;
    policy.unclean_election_allowed = [&partitions](const cluster::TopicMetadata& t) {
      return partitions->unclean_election_allowed(t);
    };
    replicas->on_leadership_change([&groups](const std::string& topic, int32_t partition, bool leading) {
      if (topic != coordinator::kOffsetsTopic) return;
      if (leading) {
        groups->load_partition(partition);
      } else {
        groups->unload_partition(partition);
      }
    });
    controller = std::make_unique<cluster::Controller>(*etcd, *etcd, options.node_id, policy);
    // Whatever this broker led before it stopped goes to the others first; it serves as a follower that catches
    // up, and leads again only when the controller says so.
    const int32_t self = options.node_id;
    loop.post([&, self, policy] {
      auto live = cluster::live_node_ids(*etcd);
      etcd->update([self, live, policy](cluster::ClusterMetadata& m) { cluster::fence_broker(m, self, live, policy); },
                   [&](std::error_code error) {
                     if (error)
                       spdlog::warn("could not hand over this broker's former leadership: {}", error.message());
                     replicas->start();
                     controller->start();
                   });
    });
  }

  asio::signal_set signals(loop.context(), SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& error, int signal) {
    if (error) return;
    spdlog::info("received signal {}: stopping", signal);
    server.stop();
    if (fetcher) fetcher->stop();
    // Leaving first hands this broker's partitions to the others at once rather than after its lease expires.
    if (etcd) etcd->leave();
    loop.context().stop();
  });
  spdlog::info("fjord broker {} serving Kafka on {}:{} (advertised {}:{}), admin on http://{}:{}/metrics, data in {}",
               options.node_id, listen->first, server.port(), identity.advertised_host, identity.advertised_port,
               admin_listen->first, admin.port(), options.data_dir);
  if (on_ready) loop.post([&] { on_ready(server.port(), admin.port()); });
  loop.context().run();

  // Clean stop: let queued fsyncs finish, then sync and index every log and leave the clean-shutdown marker.
  io.reset();
  try {
    partitions->stop();
  } catch (const std::exception& e) {
    spdlog::error("clean stop failed: {}", e.what());
    return 1;
  }
  admin.stop();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace fjord::cli
