// The topics of the cluster and the partitions this broker hosts: creating, altering and deleting them through
// the metadata store, opening their logs at start, and the periodic work on them (retention, flush.ms).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/config_definitions.h"
#include "cluster/leader_election.h"
#include "cluster/metadata_store.h"
#include "cluster/partition.h"
#include "cluster/probe.h"
#include "cluster/reassignment.h"
#include "cluster/replication_throttle.h"
#include "model/executor.h"
#include "storage/log_manager.h"

namespace fjord::cluster {

struct AdminResult {
  ErrorCode error = ErrorCode::kNone;
  std::string message;
};
using AdminCallback = std::function<void(AdminResult)>;

struct ConfigChange {
  enum class Op { kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3 };
  std::string name;
  std::optional<std::string> value;
  Op op = Op::kSet;
};

class PartitionManager {
 public:
  PartitionManager(storage::LogContext log_context, std::string data_directory, MetadataStore& metadata,
                   BrokerSettings& settings, Scheduler& scheduler, PartitionProbe* probe = nullptr);
  ~PartitionManager();

  // Cluster mode (before start()): this broker hosts only the partitions the controller placed on it, and
  // topics are placed by the controller rather than here. `live_brokers` counts the brokers registered now.
  void enable_cluster_mode(std::function<size_t()> live_brokers);
  bool cluster_mode() const { return static_cast<bool>(live_brokers_); }
  int32_t local_node() const { return local_node_; }

  // Opens the logs on disk and reconciles them with the metadata: partitions of deleted topics are removed,
  // missing ones created. Starts the periodic work.
  void start();
  // Cluster mode: brings the hosted partitions in line with the current metadata (opens those newly placed
  // here, removes those of deleted topics). Roles are the replica manager's business.
  void reconcile();
  // Clean stop: every log synced and closed. Blocking.
  void stop();
  // Whether its partitions are being closed (stop, or destruction): the fetches they wake find none, and the
  // metadata may already be gone.
  bool closing() const { return closing_; }

  const ClusterMetadata& metadata() const { return metadata_.current(); }
  const std::string& data_directory() const { return data_directory_; }
  // Whether a failed write or sync took the data directory offline (every log answers KAFKA_STORAGE_ERROR).
  bool directory_offline() const { return log_context_.health && log_context_.health->offline(); }
  const BrokerSettings& settings() const { return settings_; }
  const TopicMetadata* topic(const std::string& name) const;
  const TopicMetadata* topic_by_id(const protocol::Uuid& id) const;
  Partition* partition(const std::string& topic, int32_t index) const;
  std::vector<Partition*> partitions_of(const std::string& topic) const;
  // Every log this broker holds (the log cleaner's list).
  std::vector<std::shared_ptr<storage::Log>> logs() const;

  // Kafka's rules for names: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
  static std::optional<std::string> invalid_topic_name(const std::string& name);

  void create_topic(const std::string& name, int32_t partitions, int16_t replication_factor, const ConfigMap& configs,
                    bool validate_only, AdminCallback done);
  void delete_topic(const std::string& name, AdminCallback done);
  void create_partitions(const std::string& name, int32_t total, bool validate_only, AdminCallback done);
  // Incremental (IncrementalAlterConfigs) or whole replacement (AlterConfigs: `changes` are the new set).
  void alter_topic_configs(const std::string& name, const std::vector<ConfigChange>& changes, bool incremental,
                           bool validate_only, AdminCallback done);
  void alter_broker_configs(const std::vector<ConfigChange>& changes, bool incremental, bool validate_only,
                            AdminCallback done);

  // ElectLeaders: elects by `type` and stores the result; `done` gets each partition's outcome (see
  // cluster::elect_leaders). A failed store turns every election that would have happened into
  // KAFKA_STORAGE_ERROR.
  void elect_leaders(ElectionType type, std::optional<std::vector<ElectionTarget>> targets,
                     std::vector<int32_t> live_brokers, std::function<void(std::vector<ElectionOutcome>)> done);

  // AlterPartitionReassignments: starts (or cancels) each move and stores them together; `done` gets one outcome
  // per request, in order. A failed store makes every accepted one KAFKA_STORAGE_ERROR.
  void reassign_partitions(std::vector<ReassignmentRequest> requests, std::vector<int32_t> brokers,
                           bool allow_replication_factor_change,
                           std::function<void(std::vector<ReassignmentOutcome>)> done);

  // Replication throttles (replication_throttle.h). Whether this broker's copy of `topic`'s partition `index`
  // is named by the topic's leader.replication.throttled.replicas (leader side) or
  // follower.replication.throttled.replicas (follower side); the budget and rate (bytes/s) of that side.
  enum class ThrottleSide { kLeader, kFollower };
  bool replication_throttled(const TopicMetadata& topic, int32_t index, ThrottleSide side) const;
  RateBudget& throttle_budget(ThrottleSide side) {
    return side == ThrottleSide::kLeader ? leader_throttle_ : follower_throttle_;
  }
  int64_t throttle_rate(ThrottleSide side) const;

  bool unclean_election_allowed(const TopicMetadata& topic) const {
    return effective(topic.configs, "unclean.leader.election.enable") == "true";
  }

  // The effective configuration of a topic, key by key.
  std::vector<ResolvedConfig> describe_topic_configs(const TopicMetadata& topic) const;
  std::vector<ResolvedConfig> describe_broker_configs() const;
  // One setting's effective value for a topic: its override, else the broker's.
  std::string effective(const ConfigMap& topic_configs, std::string_view key) const;

 private:
  storage::LogConfig log_config_for(const ConfigMap& topic_configs) const;
  ProducePolicy produce_policy_for(const ConfigMap& topic_configs) const;
  void open_partition(const TopicMetadata& topic, int32_t index);
  // Closes the partition (its log stays unless the caller removes it).
  void drop_partition(const std::string& topic, int32_t index);
  // Whether this broker hosts `index` of `topic`: always on a single node, when placed here in a cluster.
  bool hosted_here(const TopicMetadata& topic, int32_t index) const;
  ReplicationSettings replication_settings_for(const ConfigMap& topic_configs) const;
  void apply_topic_configs(const TopicMetadata& topic);
  std::optional<AdminResult> validate_topic_configs(const std::string& topic, const ConfigMap& configs) const;
  // Fjord's own topics (__consumer_offsets), which may hold settings refused for users' topics.
  static bool is_internal_topic(const std::string& name);
  void schedule_periodic_work();
  void schedule_retention();
  void schedule_flush();

  storage::LogContext log_context_;
  std::string data_directory_;
  storage::LogManager logs_;
  MetadataStore& metadata_;
  BrokerSettings& settings_;
  Scheduler& scheduler_;
  std::map<std::pair<std::string, int32_t>, std::unique_ptr<Partition>> partitions_;
  // The same partitions by topic, then index (null where not hosted): the fetch and replication paths look up
  // every partition of every request, and with thousands of partitions a lookup in the ordered map above (a dozen
  // string comparisons) was a third of a broker's CPU.
  std::unordered_map<std::string, std::vector<Partition*>> by_topic_;
  PartitionProbe* probe_;
  int32_t local_node_ = 1;
  std::function<size_t()> live_brokers_;
  std::unique_ptr<TimerHandle> retention_timer_;
  std::unique_ptr<TimerHandle> flush_timer_;
  RateBudget leader_throttle_;
  RateBudget follower_throttle_;
  bool closing_ = false;
};

}  // namespace fjord::cluster
