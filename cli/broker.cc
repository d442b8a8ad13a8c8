#include "cli/broker.h"

#include <spdlog/spdlog.h>

#include <future>
#include <sstream>

#include "cli/properties.h"
#include "cluster/broker_channels.h"
#include "cluster/config_list.h"
#include "cluster/controller.h"
#include "cluster/leader_election.h"
#include "cluster/local_metadata_store.h"
#include "cluster/partition_manager.h"
#include "cluster/producer_ids.h"
#include "cluster/replica_fetcher.h"
#include "cluster/replica_manager.h"
#include "coordinator/cluster_topic_catalog.h"
#include "coordinator/cluster_transactions.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/offsets_records.h"
#include "coordinator/partition_marker_writer.h"
#include "coordinator/partition_state_log.h"
#include "coordinator/transaction_coordinator.h"
#include "coordinator/transaction_records.h"
#include "observe/checklist_audit.h"
#include "observe/cluster_snapshot.h"
#include "observe/lag_engine.h"
#include "server/handlers/registry.h"
#include "server/loop_lag_probe.h"
#include "server/probe.h"
#include "server/security/sasl_server.h"
#include "server/security/secured_broker_link.h"
#include "server/server.h"
#include "storage/log_cleaner.h"
#include "storage/probe.h"
#include "storage/sync_scheduler.h"

namespace fjord::cli {
namespace {

coordinator::GroupSettings group_settings(const cluster::BrokerSettings& settings) {
  coordinator::GroupSettings g;
  g.initial_rebalance_delay_ms = settings.get_long("group.initial.rebalance.delay.ms");
  g.min_session_timeout_ms = static_cast<int32_t>(settings.get_long("group.min.session.timeout.ms"));
  g.max_session_timeout_ms = static_cast<int32_t>(settings.get_long("group.max.session.timeout.ms"));
  g.offsets_retention_ms = settings.get_long("offsets.retention.minutes") * 60'000;
  g.retention_check_interval_ms = settings.get_long("offsets.retention.check.interval.ms");
  g.max_metadata_bytes = static_cast<int32_t>(settings.get_long("offset.metadata.max.bytes"));
  g.max_group_size = static_cast<int32_t>(settings.get_long("group.max.size"));
  g.consumer.session_timeout_ms = static_cast<int32_t>(settings.get_long("group.consumer.session.timeout.ms"));
  g.consumer.heartbeat_interval_ms = static_cast<int32_t>(settings.get_long("group.consumer.heartbeat.interval.ms"));
  g.consumer.max_size = static_cast<int32_t>(settings.get_long("group.consumer.max.size"));
  const std::string migration = settings.get("group.consumer.migration.policy");
  g.online_upgrade = migration == "bidirectional" || migration == "upgrade";
  g.online_downgrade = migration == "bidirectional" || migration == "downgrade";
  g.consumer.assignors.clear();
  std::stringstream assignors(settings.get("group.consumer.assignors"));
  for (std::string item; std::getline(assignors, item, ',');) {
    if (item.find_first_not_of(' ') != std::string::npos)
      g.consumer.assignors.push_back(cluster::assignor_short_name(item));
  }
  return g;
}

coordinator::TransactionSettings transaction_settings(const cluster::BrokerSettings& settings) {
  coordinator::TransactionSettings t;
  t.id_expiration_ms = settings.get_long("transactional.id.expiration.ms");
  t.abort_check_interval_ms = settings.get_long("transaction.abort.timed.out.transaction.cleanup.interval.ms");
  t.expiration_check_interval_ms = settings.get_long("transaction.remove.expired.transaction.cleanup.interval.ms");
  t.transaction_version = static_cast<int16_t>(settings.get_long("transaction.version"));
  return t;
}

// The host:port from Kafka's "PLAINTEXT://host:port" form.
std::optional<std::pair<std::string, int>> listener_address(const std::string& listener) {
  auto scheme = listener.find("://");
  return split_host_port(scheme == std::string::npos ? listener : listener.substr(scheme + 3));
}

}  // namespace

Broker::Broker(BrokerSetup setup, BrokerEnvironment environment, std::unique_ptr<storage::IoPool> io)
    : setup_(std::move(setup)),
      env_(environment),
      storage_probe_(std::make_unique<storage::StorageProbe>(env_.metrics)),
      cleaner_probe_(std::make_unique<storage::CleanerProbe>(env_.metrics)),
      server_probe_(std::make_unique<server::ServerProbe>(env_.metrics)),
      partition_probe_(std::make_unique<cluster::PartitionProbe>(env_.metrics)),
      loop_(std::make_unique<server::EventLoop>()),
      io_(std::move(io)) {
  node_id_ = static_cast<int32_t>(setup_.settings.get_long("node.id"));
}

Broker::~Broker() {
  *alive_ = false;
  // Whatever posts to the loop or calls into the partitions goes first: roles, followers, the listener, and the
  // I/O pool (its threads are joined; their completions stay queued on the loop, never run).
  lag_engine_.reset();
  remote_partitions_.reset();
  cluster_snapshot_.reset();
  audit_.reset();
  loop_lag_.reset();
  shutdown_retry_.reset();
  controller_.reset();
  replicas_.reset();
  fetcher_.reset();
  servers_.clear();
  stop_cleaner();
  io_.reset();
  // The partitions and groups answer whatever still waits on them while the loop can still take the answers,
  // then the loop goes with every handler it holds (connections among them), and only then what those refer to.
  verifier_.reset();
  transactions_.reset();
  routed_markers_.reset();
  markers_.reset();
  if (channels_) channels_->stop();
  channels_.reset();
  transaction_state_log_.reset();
  groups_.reset();
  group_state_log_.reset();
  producer_ids_.reset();
  partitions_.reset();
  syncs_.reset();
  loop_.reset();
}

uint16_t Broker::port() const { return servers_.empty() ? 0 : servers_.front()->port(); }

std::vector<std::pair<std::string, uint16_t>> Broker::listener_ports() const {
  std::vector<std::pair<std::string, uint16_t>> out;
  for (const auto& server : servers_) out.emplace_back(server->listener().name, server->port());
  return out;
}

// The engines are set once at start, before the admin endpoint serves, and reset only after it stopped.
std::string Broker::lag_json() const {
  return lag_engine_ ? lag_engine_->last_json() : "{\"sampled_at_ms\":null,\"groups\":[]}";
}

std::string Broker::lag_history_json() const { return lag_engine_ ? lag_engine_->history_json() : "{\"groups\":{}}"; }

std::string Broker::audit_json() const {
  return audit_ ? audit_->last_json() : "{\"checked_at_ms\":null,\"findings\":[],\"clients\":[]}";
}

bool Broker::password_matches(const std::string& user, const std::string& password) {
  using Credential = std::optional<server::security::PasswordCredential>;
  auto found = std::make_shared<std::promise<Credential>>();
  auto answer = found->get_future();
  loop_->post([this, found, user, alive = std::weak_ptr<bool>(alive_)] {
    found->set_value(alive.lock() && metadata_store_
                         ? server::security::credential_for_password(metadata_store_->current(), user)
                         : Credential());
  });
  if (answer.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return false;
  return server::security::password_matches(answer.get(), password);
}

std::string Broker::cluster_json() const {
  return cluster_snapshot_ ? cluster_snapshot_->last_json() : "{\"brokers\":[],\"topics\":[]}";
}

void Broker::on_directory_offline(std::function<void(const std::string&)> listener) {
  health_.on_offline(std::move(listener));
}

void Broker::start(cluster::ClusterService* cluster) {
  cluster_ = cluster;
  // A broker in a cluster must be able to reach the others' inter-broker listener.
  if (cluster_ && setup_.listeners && !setup_.listeners->inter_broker_problem.empty()) {
    throw BrokerStartError(setup_.listeners->inter_broker_problem);
  }
  auto& fs = env_.fs;
  auto& loop = *loop_;
  syncs_ = std::make_unique<storage::SyncScheduler>(*io_, loop, fs, setup_.data_dir);
  syncs_->set_latency_histogram(&storage_probe_->fsync_seconds);
  health_.on_offline([this](const std::string& reason) {
    storage_probe_->directory_offline.Set(1);
    spdlog::critical("the data directory is offline: {}; its partitions answer KAFKA_STORAGE_ERROR from now on",
                     reason);
    // A single node keeps answering, with the error, so that clients and operators see why. In a cluster the
    // other replicas can serve these partitions: this broker leaves at once and they take over.
    if (cluster_) {
      spdlog::critical("leaving the cluster: the other replicas take over this broker's partitions");
      stop_serving();
    }
  });
  cluster::MetadataStore* metadata = cluster_;
  try {
    fs.create_directories(setup_.data_dir);
    if (!metadata) {
      local_metadata_ = std::make_unique<cluster::LocalMetadataStore>(fs, setup_.data_dir);
      metadata = local_metadata_.get();
    }
    metadata_store_ = metadata;
    storage::LogContext logs{fs, *io_, *syncs_, loop, env_.clock, storage_probe_.get(), &health_, &loop};
    partitions_ = std::make_unique<cluster::PartitionManager>(logs, setup_.data_dir, *metadata, setup_.settings, loop,
                                                              partition_probe_.get());
    if (cluster_) partitions_->enable_cluster_mode([cluster] { return cluster->live_brokers().size(); });
    partitions_->start();
  } catch (const std::exception& e) {
    throw BrokerStartError("cannot open the data directory " + setup_.data_dir + ": " + e.what());
  }
  storage::LogCleanerSettings cleaning;
  cleaning.enabled = setup_.settings.get_bool("log.cleaner.enable");
  cleaning.threads = static_cast<int>(std::max<int64_t>(1, setup_.settings.get_long("log.cleaner.threads")));
  cleaning.io_max_bytes_per_second = std::stod(setup_.settings.get("log.cleaner.io.max.bytes.per.second"));
  cleaning.backoff_ms = setup_.settings.get_long("log.cleaner.backoff.ms");
  cleaning.dedupe_buffer_bytes = setup_.settings.get_long("log.cleaner.dedupe.buffer.size");
  cleaner_threads_ = std::make_unique<storage::ThreadIoPool>(cleaning.threads);
  cleaner_ = std::make_unique<storage::LogCleaner>(
      loop, loop, *cleaner_threads_, fs, env_.clock, cleaning,
      [partitions = partitions_.get()] { return partitions->logs(); }, cleaner_probe_.get());
  cleaner_->start();

  producer_ids_ = std::make_unique<cluster::ProducerIds>(*metadata);
  group_state_log_ = std::make_unique<coordinator::PartitionStateLog>(coordinator::offsets_state_topic(), *partitions_,
                                                                      env_.clock, *io_, loop);
  groups_ = std::make_unique<coordinator::GroupCoordinator>(*group_state_log_, env_.clock, loop,
                                                            group_settings(setup_.settings));
  topic_catalog_ = std::make_unique<coordinator::ClusterTopicCatalog>(*partitions_);
  groups_->set_topic_catalog(topic_catalog_.get());
  transaction_state_log_ = std::make_unique<coordinator::PartitionStateLog>(coordinator::transaction_state_topic(),
                                                                            *partitions_, env_.clock, *io_, loop);
  markers_ = std::make_unique<coordinator::PartitionMarkerWriter>(
      *partitions_,
      [groups = groups_.get()](const coordinator::TopicPartition& tp, const coordinator::MarkerWriter::Marker& marker) {
        if (tp.topic == coordinator::kOffsetsTopic) {
          groups->complete_transaction(tp.partition, marker.producer_id, marker.commit);
        }
      });
  // Requests to other brokers go to their inter-broker listener, with TLS and SASL when it asks for them.
  broker_links_ =
      server::security::broker_link_factory(setup_.listeners ? setup_.listeners->inter_broker_client : nullptr);
  if (cluster_) {
    channels_ = std::make_unique<cluster::BrokerChannels>(loop.context(), *cluster_, node_id_, std::chrono::seconds(30),
                                                          broker_links_);
  }
  routed_markers_ = std::make_unique<coordinator::RoutingMarkerWriter>(*partitions_, *markers_, channels_.get());
  auto allocate_producer_id = [ids = producer_ids_.get()](std::function<void(coordinator::ProducerIdentity)> done) {
    ids->allocate([done](cluster::ProducerIdAndEpoch fresh) { done({fresh.error, fresh.producer_id, fresh.epoch}); });
  };
  transactions_ = std::make_unique<coordinator::TransactionCoordinator>(*transaction_state_log_, *routed_markers_,
                                                                        allocate_producer_id, env_.clock, loop,
                                                                        transaction_settings(setup_.settings));
  verifier_ = std::make_unique<coordinator::TransactionVerifier>(*partitions_, *transactions_, channels_.get(), loop);
  try {
    if (cluster_) {
      groups_->serve_led_partitions();
      transactions_->serve_led_partitions();
    } else {
      groups_->load();
      transactions_->load();
    }
  } catch (const std::exception& e) {
    throw BrokerStartError(std::string("cannot load the consumer groups and transactions: ") + e.what());
  }

  server::BrokerIdentity identity;
  identity.node_id = node_id_;
  context_.reset(new server::ServerContext{*partitions_, *producer_ids_, *groups_, *transactions_, *markers_,
                                           *verifier_, identity, env_.clock, loop, *server_probe_, cluster_});
  context_->features.transaction_version = static_cast<int16_t>(setup_.settings.get_long("transaction.version"));
  context_->features.epoch = env_.clock.now_ms();
  client_activity_ = std::make_unique<server::ClientActivity>(setup_.settings.get_long("fjord.audit.client.expiry.ms"));
  context_->activity = client_activity_.get();
  server::ConnectionLimits limits;
  limits.max_request_bytes = static_cast<size_t>(setup_.settings.get_long("socket.request.max.bytes"));
  context_->metadata_store = metadata_store_;
  context_->inter_broker_listener = setup_.listeners ? setup_.listeners->inter_broker_listener : "PLAINTEXT";
  context_->authorizing = !setup_.settings.get("authorizer.class.name").empty();
  context_->failed_authentication_delay_ms =
      std::max<int64_t>(0, setup_.settings.get_long("connection.failed.authentication.delay.ms"));
  context_->acl_policy.allow_if_no_acl_found = setup_.settings.get_bool("allow.everyone.if.no.acl.found");
  context_->acl_policy.super_users = cluster::config_list_items(setup_.settings.get("super.users"), ';');
  server::QuotaWindow quota_window;
  quota_window.samples = static_cast<int32_t>(setup_.settings.get_long("quota.window.num"));
  quota_window.window_ms = setup_.settings.get_long("quota.window.size.seconds") * 1000;
  if (quota_window.samples < 1 || quota_window.window_ms < 1000) {
    throw BrokerStartError("quota.window.num and quota.window.size.seconds must be at least 1");
  }
  client_quotas_ = std::make_unique<server::ClientQuotaManager>(quota_window);
  context_->quotas = client_quotas_.get();
  server::security::ListenersPlan plan;
  if (setup_.listeners) {
    plan = *setup_.listeners;
  } else {
    server::security::ListenerPlan plaintext;
    plaintext.host = setup_.listen_host;
    plaintext.port = setup_.listen_port;
    plaintext.advertised = listener_address(setup_.settings.get("advertised.listeners"));
    plan.listeners.push_back(plaintext);
    plan.inter_broker_listener = plaintext.security.name;
  }
  for (const auto& listener : plan.listeners) {
    auto server = std::make_unique<server::Server>(loop, *context_, server::HandlerRegistry::standard(), limits,
                                                   listener.security);
    const std::string host = listener.host.empty() ? "0.0.0.0" : listener.host;
    try {
      server->listen(host, listener.port);
    } catch (const std::exception& e) {
      for (auto& started : servers_) started->stop();
      throw BrokerStartError("cannot listen on " + host + ":" + std::to_string(listener.port) + " (listener " +
                             listener.security.name + "): " + e.what());
    }
    // Clients reconnect to the advertised address, so it must be one they can reach: the listener's entry in
    // advertised.listeners if there is one, else the address actually bound.
    cluster::ListenerEndpoint advertised{host, server->port()};
    if (listener.advertised) advertised = {listener.advertised->first, listener.advertised->second};
    if (advertised.host == "0.0.0.0" || advertised.host == "::") advertised.host = "127.0.0.1";
    identity.listeners[listener.security.name] = advertised;
    if (listener.security.name == plan.inter_broker_listener) {
      identity.advertised_host = advertised.host;
      identity.advertised_port = advertised.port;
    }
    servers_.push_back(std::move(server));
  }
  advertised_host_ = identity.advertised_host;
  if (auto rack = setup_.settings.get("broker.rack"); !rack.empty()) identity.rack = rack;
  context_->identity = identity;
  loop_lag_ = std::make_unique<server::LoopLagProbe>(env_.metrics, loop);
  observe::LagEngineSettings lag_settings;
  lag_settings.thresholds.window_ms = std::max<int64_t>(1, setup_.settings.get_long("fjord.lag.window.ms"));
  lag_settings.thresholds.warning_seconds = static_cast<double>(setup_.settings.get_long("fjord.lag.warning.seconds"));
  lag_settings.thresholds.critical_seconds =
      static_cast<double>(setup_.settings.get_long("fjord.lag.critical.seconds"));
  lag_settings.max_series = setup_.settings.get_long("fjord.lag.max.series");
  lag_settings.cluster_name = setup_.settings.get("fjord.metrics.cluster.name");
  if (channels_) remote_partitions_ = std::make_unique<observe::RemotePartitions>(*channels_);
  lag_engine_ = std::make_unique<observe::LagEngine>(*partitions_, *groups_, env_.metrics, env_.clock, loop,
                                                     lag_settings, remote_partitions_.get());
  audit_ = std::make_unique<observe::ChecklistAudit>(*partitions_, *client_activity_, env_.metrics, env_.clock, loop);
  cluster_snapshot_ = std::make_unique<observe::ClusterSnapshot>(
      *partitions_, [context = context_.get()] { return context->brokers(); }, loop, env_.clock);

  if (cluster_) {
    try {
      cluster_->join(cluster::BrokerEndpoint{identity.node_id, identity.advertised_host, identity.advertised_port,
                                             identity.rack, identity.listeners});
    } catch (const std::exception& e) {
      for (auto& server : servers_) server->stop();
      throw BrokerStartError(std::string("cannot register in the cluster: ") + e.what());
    }
    start_cluster_roles();
  }
}

void Broker::start_cluster_roles() {
  auto& cluster = *cluster_;
  auto& loop = *loop_;
  cluster::FetcherSettings fetch_settings;
  fetch_settings.max_wait_ms = static_cast<int32_t>(setup_.settings.get_long("replica.fetch.wait.max.ms"));
  fetcher_ =
      std::make_unique<cluster::ReplicaFetcher>(loop.context(), *partitions_, cluster, fetch_settings, broker_links_);
  const int64_t lag_max = setup_.settings.get_long("replica.lag.time.max.ms");
  replicas_ =
      std::make_unique<cluster::ReplicaManager>(*partitions_, cluster, cluster, *fetcher_, loop,
                                                std::clamp<int64_t>(lag_max / 4, 50, 1000), partition_probe_.get());
  cluster::ControllerPolicy policy;
  auto* partitions = partitions_.get();
  policy.unclean_election_allowed = [partitions](const cluster::TopicMetadata& t) {
    return partitions->unclean_election_allowed(t);
  };
  auto* groups = groups_.get();
  auto* transactions = transactions_.get();
  replicas_->on_leadership_change(
      [groups, transactions, partitions](const std::string& topic, int32_t partition, bool leading) {
        if (topic == coordinator::kOffsetsTopic) {
          if (leading) {
            groups->load_partition(partition);
          } else {
            groups->unload_partition(partition);
          }
        } else if (topic == coordinator::kTransactionStateTopic) {
          // The partition's leader epoch is the coordinator epoch its markers carry.
          auto* led = partitions->partition(topic, partition);
          if (leading && led) {
            transactions->load_partition(partition, led->leader_epoch());
          } else {
            transactions->unload_partition(partition);
          }
        }
      });
  policy.auto_leader_rebalance = setup_.settings.get_bool("auto.leader.rebalance.enable");
  policy.imbalance_check_interval_ms =
      std::max<int64_t>(1, setup_.settings.get_long("leader.imbalance.check.interval.seconds")) * 1000;
  policy.imbalance_percentage = static_cast<int32_t>(
      std::clamp<int64_t>(setup_.settings.get_long("leader.imbalance.per.broker.percentage"), 0, 100));
  controller_ = std::make_unique<cluster::Controller>(cluster, cluster, node_id_, policy, loop);
  // Whatever this broker led before it stopped goes to the others first; it serves as a follower that catches
  // up, and leads again only when the controller says so.
  const int32_t self = node_id_;
  loop.post([this, alive = std::weak_ptr<bool>(alive_), self, policy] {
    if (!alive.lock()) return;
    auto live = cluster::live_node_ids(*cluster_);
    cluster_->update(
        [self, live, policy](cluster::ClusterMetadata& m) { cluster::fence_broker(m, self, live, policy); },
        [this, alive](std::error_code error) {
          if (!alive.lock()) return;
          if (error) spdlog::warn("could not hand over this broker's former leadership: {}", error.message());
          replicas_->start();
          controller_->start();
        });
  });
}

void Broker::shut_down_controlled(std::function<void()> done) {
  if (!cluster_ || !serving_ || !setup_.settings.get_bool("controlled.shutdown.enable")) return done();
  // A follower that kept fetching could be taken back into an ISR, and then be given a partition to lead.
  if (fetcher_) fetcher_->stop();
  const auto retries = std::max<int64_t>(0, setup_.settings.get_long("controlled.shutdown.max.retries"));
  hand_off_leadership(static_cast<int>(std::min<int64_t>(retries, 1000)), std::move(done));
}

void Broker::hand_off_leadership(int retries_left, std::function<void()> done) {
  const int32_t self = node_id_;
  auto live = cluster::live_node_ids(*cluster_);
  auto result = std::make_shared<cluster::HandOff>();
  cluster_->update(
      [self, live, result](cluster::ClusterMetadata& m) { *result = cluster::hand_off_leadership(m, self, live); },
      [this, alive = std::weak_ptr<bool>(alive_), retries_left, result, done](std::error_code error) {
        if (!alive.lock()) return;
        if (!error) {
          spdlog::info("controlled shutdown: {} partitions handed to in-sync replicas, {} ISRs left{}", result->moved,
                       result->left_isr,
                       result->kept == 0
                           ? std::string()
                           : fmt::format(", {} led here alone (offline until this broker returns)", result->kept));
          return done();
        }
        if (retries_left <= 0) {
          spdlog::warn("controlled shutdown failed ({}): stopping anyway", error.message());
          return done();
        }
        const int64_t backoff = std::max<int64_t>(0, setup_.settings.get_long("controlled.shutdown.retry.backoff.ms"));
        spdlog::warn("controlled shutdown: hand-off not stored ({}); trying again in {} ms", error.message(), backoff);
        shutdown_retry_ = loop_->schedule_after(backoff, [this, alive, retries_left, done] {
          if (alive.lock()) hand_off_leadership(retries_left - 1, done);
        });
      });
}

void Broker::stop_serving() {
  if (!serving_) return;
  serving_ = false;
  for (auto& server : servers_) server->stop();
  if (fetcher_) fetcher_->stop();
  // Leaving first hands this broker's partitions to the others at once rather than after its lease expires.
  if (cluster_) cluster_->leave();
}

void Broker::stop_cleaner() {
  // A pass in flight gives up at its next batch; what it staged is removed at the next start.
  cleaner_.reset();
  cleaner_threads_.reset();
}

void Broker::close() {
  stop_cleaner();
  io_.reset();  // queued syncs finish first
  if (partitions_) partitions_->stop();
}

}  // namespace fjord::cli
