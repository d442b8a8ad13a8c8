// One broker, assembled: storage, cluster, coordinator and server wired together on its own event loop.
// `fjord broker` runs one on the real disk with a pool of I/O threads (cli/broker_command.cc); tests run several
// in one process, each on a simulated disk with I/O they hold and release, so that a power loss of every broker at
// once, a failing disk and a loop that must not block are staged deterministically, with the real code paths.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cluster/broker_link.h"
#include "cluster/cluster_service.h"
#include "cluster/config_definitions.h"
#include "model/clock.h"
#include "model/metrics.h"
#include "server/event_loop.h"
#include "server/quotas/client_quota_manager.h"
#include "server/security/listener_config.h"
#include "storage/directory_health.h"
#include "storage/file_system.h"
#include "storage/io_pool.h"

namespace fjord::cluster {
class MetadataStore;
class PartitionManager;
class LocalMetadataStore;
class ProducerIds;
class ReplicaFetcher;
class ReplicaManager;
class BrokerChannels;
class Controller;
struct PartitionProbe;
}  // namespace fjord::cluster
namespace fjord::coordinator {
class GroupCoordinator;
class ClusterTopicCatalog;
class PartitionStateLog;
class PartitionMarkerWriter;
class RoutingMarkerWriter;
class TransactionCoordinator;
class TransactionVerifier;
}  // namespace fjord::coordinator
namespace fjord::storage {
class SyncScheduler;
struct StorageProbe;
class LogCleaner;
struct CleanerProbe;
}  // namespace fjord::storage
namespace fjord::server {
class ClientActivity;
class Server;
struct ServerContext;
struct ServerProbe;
class LoopLagProbe;
}  // namespace fjord::server

namespace fjord::observe {
class LagEngine;
class ClusterSnapshot;
class ChecklistAudit;
class RemotePartitions;
}  // namespace fjord::observe

namespace fjord::cli {

// What a broker runs on; all of it outlives the broker.
struct BrokerEnvironment {
  storage::FileSystem& fs;
  const Clock& clock;
  Metrics& metrics;
};

struct BrokerSetup {
  cluster::BrokerSettings settings;  // node.id and log.dirs among the static settings
  std::string data_dir;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0: any free port
  // The listeners, when set (`fjord broker` plans them from `listeners` and the rest): then listen_host and
  // listen_port are ignored. Unset: one PLAINTEXT listener on listen_host:listen_port.
  std::optional<server::security::ListenersPlan> listeners;
};

class BrokerStartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Broker {
 public:
  // The broker owns its event loop and its I/O pool (threads, or one a test runs by hand), because their order of
  // destruction against everything else is what keeps a stop safe: see ~Broker.
  Broker(BrokerSetup setup, BrokerEnvironment environment, std::unique_ptr<storage::IoPool> io);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  server::EventLoop& loop() { return *loop_; }
  storage::IoPool& io() { return *io_; }

  // Opens the logs, loads the groups, listens, and with a cluster (which must outlive this call's effects until
  // the broker stops serving) registers and starts following and leading. Throws BrokerStartError.
  void start(cluster::ClusterService* cluster = nullptr);
  int32_t node_id() const { return node_id_; }
  // The first listener's port (the one bound, when it was 0).
  uint16_t port() const;
  // Every listener's name and bound port, in order.
  std::vector<std::pair<std::string, uint16_t>> listener_ports() const;
  // The lag engine's last sample as JSON (/api/lag); any thread.
  std::string lag_json() const;
  // The console's other JSON: lag history per group (/api/lag/history) and the cluster's topics (/api/cluster).
  std::string lag_history_json() const;
  std::string cluster_json() const;
  // The checklist audit's findings and the clients it observed (/api/audit).
  std::string audit_json() const;
  // Whether `password` is SCRAM user `user`'s (the admin listener's HTTP Basic); any thread but the loop's, which
  // reads the credential while the caller's thread does the hashing. False when the loop does not answer in time.
  bool password_matches(const std::string& user, const std::string& password);
  // The address clients are told to reconnect to (advertised.listeners, else the address bound).
  const std::string& advertised_host() const { return advertised_host_; }

  // Controlled shutdown (on the loop; cluster mode with controlled.shutdown.enable): stops following, hands every
  // partition this broker leads to another in-sync replica and leaves the ISRs it is in, while it still serves, so
  // that clients meet a retriable NOT_LEADER_OR_FOLLOWER and the new leader instead of a vanished broker. Then
  // runs `done`, which stops serving. A hand-off that cannot be stored is tried controlled.shutdown.max.retries
  // more times, controlled.shutdown.retry.backoff.ms apart, before `done` runs anyway. Without a cluster, `done`
  // runs at once.
  void shut_down_controlled(std::function<void()> done);
  // Stops serving (on the loop): no new connections, open ones closed, followers stopped, and in a cluster the
  // registration revoked so that partitions move at once. The loop may then stop.
  void stop_serving();
  // After the loop has stopped: waits for the I/O pool (queued syncs finish), then syncs, indexes and closes
  // every log and writes the clean-shutdown marker. Blocking. Not when the data directory went offline: nothing
  // is synced again after a failed sync.
  void close();

  // Runs on the loop when the data directory goes offline (a write or sync failed); by then every partition
  // answers KAFKA_STORAGE_ERROR, every request waiting on the failed sync has been answered so, and in a cluster
  // the broker has stopped serving and left, so that the other replicas lead its partitions.
  void on_directory_offline(std::function<void(const std::string& reason)> listener);
  const storage::DirectoryHealth& directory_health() const { return health_; }

  cluster::PartitionManager& partitions() { return *partitions_; }
  storage::LogCleaner& cleaner() { return *cleaner_; }
  coordinator::GroupCoordinator& groups() { return *groups_; }

 private:
  void start_cluster_roles();
  void stop_cleaner();
  void hand_off_leadership(int retries_left, std::function<void()> done);

  BrokerSetup setup_;
  BrokerEnvironment env_;
  int32_t node_id_ = 1;
  std::string advertised_host_;
  cluster::ClusterService* cluster_ = nullptr;
  bool serving_ = true;
  // What handlers waiting on the loop refer to: it must outlive the loop (~Broker destroys the loop first).
  std::unique_ptr<storage::StorageProbe> storage_probe_;
  std::unique_ptr<storage::CleanerProbe> cleaner_probe_;
  std::unique_ptr<server::ServerProbe> server_probe_;
  std::unique_ptr<cluster::PartitionProbe> partition_probe_;
  storage::DirectoryHealth health_;
  std::unique_ptr<cluster::LocalMetadataStore> local_metadata_;
  cluster::MetadataStore* metadata_store_ = nullptr;  // the cluster's, or local_metadata_
  std::unique_ptr<server::ServerContext> context_;
  std::unique_ptr<server::EventLoop> loop_;
  std::unique_ptr<storage::IoPool> io_;
  std::unique_ptr<storage::SyncScheduler> syncs_;
  std::unique_ptr<cluster::PartitionManager> partitions_;
  // Compacted logs are cleaned on threads of their own (log.cleaner.threads), never on the I/O pool's.
  std::unique_ptr<storage::IoPool> cleaner_threads_;
  std::unique_ptr<storage::LogCleaner> cleaner_;
  std::unique_ptr<cluster::ProducerIds> producer_ids_;
  std::unique_ptr<coordinator::PartitionStateLog> group_state_log_;
  // Outlives groups_, which resolves subscriptions against it.
  std::unique_ptr<coordinator::ClusterTopicCatalog> topic_catalog_;
  std::unique_ptr<coordinator::GroupCoordinator> groups_;
  std::unique_ptr<coordinator::PartitionStateLog> transaction_state_log_;
  // How this broker connects to the others' inter-broker listener (TLS and SASL when it asks for them).
  cluster::BrokerLinkFactory broker_links_;
  // A cluster's requests to other brokers (transaction markers, transaction checks).
  std::unique_ptr<cluster::BrokerChannels> channels_;
  std::unique_ptr<coordinator::PartitionMarkerWriter> markers_;
  std::unique_ptr<coordinator::RoutingMarkerWriter> routed_markers_;
  std::unique_ptr<coordinator::TransactionCoordinator> transactions_;
  std::unique_ptr<coordinator::TransactionVerifier> verifier_;
  std::vector<std::unique_ptr<server::Server>> servers_;  // one per listener
  std::unique_ptr<cluster::ReplicaFetcher> fetcher_;
  std::unique_ptr<cluster::ReplicaManager> replicas_;
  std::unique_ptr<cluster::Controller> controller_;
  std::unique_ptr<TimerHandle> shutdown_retry_;
  std::unique_ptr<server::LoopLagProbe> loop_lag_;
  std::unique_ptr<observe::LagEngine> lag_engine_;
  std::unique_ptr<observe::ClusterSnapshot> cluster_snapshot_;
  std::unique_ptr<server::ClientActivity> client_activity_;
  std::unique_ptr<server::ClientQuotaManager> client_quotas_;
  std::unique_ptr<observe::ChecklistAudit> audit_;
  std::unique_ptr<observe::RemotePartitions> remote_partitions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::cli
