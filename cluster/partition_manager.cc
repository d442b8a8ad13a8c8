#include "cluster/partition_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "cluster/local_metadata_store.h"

namespace fjord::cluster {
namespace {

int64_t to_long(const std::string& text) { return std::stoll(text); }

AdminResult ok() { return {}; }
AdminResult failure(ErrorCode code, std::string message) { return {code, std::move(message)}; }

}  // namespace

PartitionManager::PartitionManager(storage::LogContext log_context, std::string data_directory, MetadataStore& metadata,
                                   BrokerSettings& settings, Scheduler& scheduler, PartitionProbe* probe)
    : log_context_(log_context),
      data_directory_(data_directory),
      logs_(log_context, std::move(data_directory)),
      metadata_(metadata),
      settings_(settings),
      scheduler_(scheduler),
      probe_(probe),
      leader_throttle_(log_context.clock),
      follower_throttle_(log_context.clock) {
  settings_.dynamic_configs = metadata_.current().broker_dynamic_configs;
  local_node_ = static_cast<int32_t>(settings_.get_long("node.id"));
}

void PartitionManager::enable_cluster_mode(std::function<size_t()> live_brokers) {
  live_brokers_ = std::move(live_brokers);
}

bool PartitionManager::hosted_here(const TopicMetadata& topic, int32_t index) const {
  if (!cluster_mode()) return true;
  if (index >= static_cast<int32_t>(topic.assignments.size())) return false;
  const auto& replicas = topic.assignments[static_cast<size_t>(index)].replicas;
  return std::find(replicas.begin(), replicas.end(), local_node_) != replicas.end();
}

ReplicationSettings PartitionManager::replication_settings_for(const ConfigMap& c) const {
  ReplicationSettings r;
  r.local_node = local_node_;
  r.min_insync_replicas = static_cast<int32_t>(to_long(effective(c, "min.insync.replicas")));
  r.replica_lag_time_max_ms = settings_.get_long("replica.lag.time.max.ms");
  return r;
}

void PartitionManager::reconcile() {
  // Dynamic broker settings altered through another broker apply here too.
  settings_.dynamic_configs = metadata_.current().broker_dynamic_configs;
  const auto& topics = metadata_.current().topics;
  std::vector<std::pair<std::string, int32_t>> gone;
  for (const auto& [key, partition] : partitions_) {
    auto it = topics.find(key.first);
    if (it == topics.end() || it->second.id != partition->topic_id() || !hosted_here(it->second, key.second)) {
      gone.push_back(key);
    }
  }
  for (const auto& key : gone) {
    spdlog::info("{}-{}: no longer hosted here (topic deleted or moved)", key.first, key.second);
    drop_partition(key.first, key.second);
    logs_.remove({key.first, key.second});
  }
  for (const auto& [name, topic] : topics) {
    for (int32_t i = 0; i < topic.partitions; ++i) {
      if (!hosted_here(topic, i)) continue;
      try {
        open_partition(topic, i);
      } catch (const std::exception& e) {
        spdlog::error("{}-{}: cannot open: {}", name, i, e.what());
      }
    }
  }
}

PartitionManager::~PartitionManager() {
  closing_ = true;
  by_topic_.clear();
  auto closing = std::move(partitions_);
  partitions_.clear();
}

std::string PartitionManager::effective(const ConfigMap& topic_configs, std::string_view key) const {
  return settings_.resolve_topic(*find_topic_config(key), topic_configs).value;
}

storage::LogConfig PartitionManager::log_config_for(const ConfigMap& c) const {
  storage::LogConfig config;
  config.segment_bytes = to_long(effective(c, "segment.bytes"));
  config.segment_ms = to_long(effective(c, "segment.ms"));
  config.segment_jitter_ms = to_long(effective(c, "segment.jitter.ms"));
  config.segment_index_bytes = to_long(effective(c, "segment.index.bytes"));
  config.file_delete_delay_ms = to_long(effective(c, "file.delete.delay.ms"));
  config.index_interval_bytes = to_long(effective(c, "index.interval.bytes"));
  config.retention_ms = to_long(effective(c, "retention.ms"));
  config.retention_bytes = to_long(effective(c, "retention.bytes"));
  const std::string policy = effective(c, "cleanup.policy");
  if (policy.find("delete") == std::string::npos) {
    // compact alone: retention removes nothing, the cleaner keeps each key's latest record.
    config.retention_ms = -1;
    config.retention_bytes = -1;
  }
  config.compact = policy.find("compact") != std::string::npos;
  config.min_cleanable_dirty_ratio = std::stod(effective(c, "min.cleanable.dirty.ratio"));
  config.min_compaction_lag_ms = to_long(effective(c, "min.compaction.lag.ms"));
  config.max_compaction_lag_ms = to_long(effective(c, "max.compaction.lag.ms"));
  config.delete_retention_ms = to_long(effective(c, "delete.retention.ms"));
  config.flush_messages = to_long(effective(c, "flush.messages"));
  config.flush_ms = to_long(effective(c, "flush.ms"));
  config.max_message_bytes = to_long(effective(c, "max.message.bytes"));
  config.timestamp_type = effective(c, "message.timestamp.type") == "LogAppendTime"
                              ? storage::TimestampType::kLogAppendTime
                              : storage::TimestampType::kCreateTime;
  return config;
}

ProducePolicy PartitionManager::produce_policy_for(const ConfigMap& c) const {
  ProducePolicy policy;
  policy.compression_type = effective(c, "compression.type");
  policy.timestamp_before_max_ms = to_long(effective(c, "message.timestamp.before.max.ms"));
  policy.timestamp_after_max_ms = to_long(effective(c, "message.timestamp.after.max.ms"));
  policy.limits.max_batch_bytes = static_cast<size_t>(to_long(effective(c, "max.message.bytes")));
  policy.limits.keys_required = effective(c, "cleanup.policy").find("compact") != std::string::npos;
  policy.require_acks_all = effective(c, "fjord.require.acks.all") == "true";
  policy.require_idempotence = effective(c, "fjord.require.idempotence") == "true";
  return policy;
}

void PartitionManager::start() {
  const auto& topics = metadata_.current().topics;
  logs_.open_existing([&](const storage::TopicPartitionKey& key) {
    auto it = topics.find(key.topic);
    return log_config_for(it == topics.end() ? ConfigMap{} : it->second.configs);
  });
  std::vector<storage::TopicPartitionKey> orphans;
  for (const auto& [key, log] : logs_.logs()) {
    auto it = topics.find(key.topic);
    if (it == topics.end() || key.partition >= it->second.partitions) {
      orphans.push_back(key);
    } else if (cluster_mode() && !it->second.assignments.empty() && !hosted_here(it->second, key.partition)) {
      orphans.push_back(key);
    }
  }
  for (const auto& key : orphans) {
    spdlog::info("removing {}-{}: its topic no longer exists", key.topic, key.partition);
    logs_.remove(key);
  }
  for (const auto& [name, topic] : topics) {
    for (int32_t i = 0; i < topic.partitions; ++i) {
      if (hosted_here(topic, i)) open_partition(topic, i);
    }
  }
  schedule_periodic_work();
}

void PartitionManager::stop() {
  retention_timer_.reset();
  flush_timer_.reset();
  closing_ = true;
  // A partition going away wakes the fetches waiting on it, which look partitions up again: the map must be
  // whole (and empty) while they do, not half torn down.
  by_topic_.clear();
  auto closing = std::move(partitions_);
  partitions_.clear();
  closing.clear();
  logs_.close_all();
}

void PartitionManager::schedule_periodic_work() {
  schedule_retention();
  schedule_flush();
}

void PartitionManager::schedule_retention() {
  retention_timer_ = scheduler_.schedule_after(settings_.get_long("log.retention.check.interval.ms"), [this] {
    const int64_t producer_expiration = settings_.get_long("producer.id.expiration.ms");
    for (auto& [key, partition] : partitions_) {
      try {
        partition->log().expire_producers(producer_expiration);
        partition->log().apply_retention();
      } catch (const std::exception& e) {
        spdlog::error("retention on {}-{}: {}", key.first, key.second, e.what());
      }
    }
    schedule_retention();
  });
}

void PartitionManager::schedule_flush() {
  // flush.ms for topics that do not sync every write.
  flush_timer_ = scheduler_.schedule_after(1000, [this] {
    int64_t now = log_context_.clock.monotonic_ms();
    size_t producers = 0;
    for (auto& [key, partition] : partitions_) {
      partition->flush_if_due(now);
      producers += partition->log().producers().producer_count();
    }
    // Summed over partitions: a producer writing to three partitions counts three times.
    if (probe_) probe_->active_producers.Set(static_cast<double>(producers));
    schedule_flush();
  });
}

void PartitionManager::open_partition(const TopicMetadata& topic, int32_t index) {
  if (partition(topic.name, index)) return;
  auto key = std::make_pair(topic.name, index);
  auto log = logs_.create({topic.name, index}, log_config_for(topic.configs));
  auto partition = std::make_unique<Partition>(topic.name, index, topic.id, log, log_context_.clock);
  partition->set_produce_policy(produce_policy_for(topic.configs));
  partition->set_replication_settings(replication_settings_for(topic.configs));
  if (cluster_mode()) {
    partition->forget_high_watermark();
  } else {
    partition->lead_alone();
  }
  partition->set_probe(probe_);
  auto& slots = by_topic_[topic.name];
  if (slots.size() <= static_cast<size_t>(index)) slots.resize(static_cast<size_t>(index) + 1, nullptr);
  slots[static_cast<size_t>(index)] = partition.get();
  partitions_[key] = std::move(partition);
}

void PartitionManager::drop_partition(const std::string& topic, int32_t index) {
  if (auto it = by_topic_.find(topic); it != by_topic_.end()) {
    auto& slots = it->second;
    if (static_cast<size_t>(index) < slots.size()) slots[static_cast<size_t>(index)] = nullptr;
    // Trailing empty slots go, so that a topic's entry goes with its last partition (each slot is dropped once).
    while (!slots.empty() && slots.back() == nullptr) slots.pop_back();
    if (slots.empty()) by_topic_.erase(it);
  }
  partitions_.erase({topic, index});
}

void PartitionManager::apply_topic_configs(const TopicMetadata& topic) {
  auto log_config = log_config_for(topic.configs);
  auto policy = produce_policy_for(topic.configs);
  auto replication = replication_settings_for(topic.configs);
  for (auto* p : partitions_of(topic.name)) {
    p->log().set_config(log_config);
    p->set_produce_policy(policy);
    p->set_replication_settings(replication);
  }
}

const TopicMetadata* PartitionManager::topic(const std::string& name) const {
  const auto& topics = metadata_.current().topics;
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : &it->second;
}

const TopicMetadata* PartitionManager::topic_by_id(const protocol::Uuid& id) const {
  for (const auto& [name, topic] : metadata_.current().topics) {
    if (topic.id == id) return &topic;
  }
  return nullptr;
}

Partition* PartitionManager::partition(const std::string& topic, int32_t index) const {
  auto it = by_topic_.find(topic);
  if (it == by_topic_.end() || index < 0 || static_cast<size_t>(index) >= it->second.size()) return nullptr;
  return it->second[static_cast<size_t>(index)];
}

std::vector<Partition*> PartitionManager::partitions_of(const std::string& topic) const {
  std::vector<Partition*> out;
  auto it = by_topic_.find(topic);
  if (it == by_topic_.end()) return out;
  for (Partition* p : it->second) {
    if (p) out.push_back(p);
  }
  return out;
}

std::optional<std::string> PartitionManager::invalid_topic_name(const std::string& name) {
  if (name.empty()) return "Topic name is illegal, it can't be empty";
  if (name == "." || name == "..") return "Topic name cannot be \".\" or \"..\"";
  if (name.size() > 249) return "Topic name is illegal, it can't be longer than 249 characters";
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return "Topic name \"" + name +
             "\" is illegal, it contains a character other than ASCII alphanumerics, "
             "'.', '_' and '-'";
    }
  }
  return std::nullopt;
}

bool PartitionManager::is_internal_topic(const std::string& name) { return name.rfind("__", 0) == 0; }

std::optional<AdminResult> PartitionManager::validate_topic_configs(const std::string& topic,
                                                                    const ConfigMap& configs) const {
  for (const auto& [name, value] : configs) {
    const auto* definition = find_topic_config(name);
    if (!definition) {
      return failure(ErrorCode::kInvalidConfig, not_implemented(name).value_or("Unknown topic config name: " + name));
    }
    if (auto problem = validate_config_value(*definition, value, is_internal_topic(topic))) {
      return failure(ErrorCode::kInvalidConfig, *problem);
    }
  }
  return std::nullopt;
}

void PartitionManager::create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                                    const ConfigMap& configs, bool validate_only, AdminCallback done) {
  if (auto problem = invalid_topic_name(name)) return done(failure(ErrorCode::kInvalidTopicException, *problem));
  if (topic(name)) return done(failure(ErrorCode::kTopicAlreadyExists, "Topic '" + name + "' already exists."));
  if (partitions == -1) partitions = static_cast<int32_t>(settings_.get_long("num.partitions"));
  if (replication_factor == -1)
    replication_factor = static_cast<int16_t>(settings_.get_long("default.replication.factor"));
  if (partitions <= 0)
    return done(failure(ErrorCode::kInvalidPartitions, "Number of partitions must be larger than 0."));
  if (partitions > 100000) return done(failure(ErrorCode::kInvalidPartitions, "Number of partitions is too large."));
  if (replication_factor <= 0) {
    return done(failure(ErrorCode::kInvalidReplicationFactor, "Replication factor must be larger than 0."));
  }
  const size_t brokers = cluster_mode() ? live_brokers_() : 1;
  if (static_cast<size_t>(replication_factor) > brokers) {
    return done(failure(ErrorCode::kInvalidReplicationFactor,
                        "Unable to replicate the partition " + std::to_string(replication_factor) +
                            " time(s): The target replication factor of " + std::to_string(replication_factor) +
                            " cannot be reached because only " + std::to_string(brokers) +
                            " broker(s) are registered."));
  }
  if (auto refused = validate_topic_configs(name, configs)) return done(*refused);
  if (validate_only) return done(ok());
  TopicMetadata t;
  t.name = name;
  t.id = random_uuid();
  t.partitions = partitions;
  t.replication_factor = replication_factor;
  t.configs = configs;
  // Another broker may create the same name meanwhile (two brokers creating __consumer_offsets for their first
  // groups): its topic stands, and this request is answered as Kafka answers the loser of that race.
  metadata_.update([name, t](ClusterMetadata& m) { m.topics.try_emplace(name, t); },
                   [this, name, id = t.id, done](std::error_code error) {
                     if (error) return done(failure(ErrorCode::kKafkaStorageError, error.message()));
                     const TopicMetadata* created = topic(name);
                     if (!created) return done(failure(ErrorCode::kKafkaStorageError, "topic vanished"));
                     if (created->id != id) {
                       return done(failure(ErrorCode::kTopicAlreadyExists, "Topic '" + name + "' already exists."));
                     }
                     try {
                       for (int32_t i = 0; i < created->partitions; ++i) {
                         if (hosted_here(*created, i)) open_partition(*created, i);
                       }
                     } catch (const std::exception& e) {
                       return done(failure(ErrorCode::kKafkaStorageError, e.what()));
                     }
                     spdlog::info("created topic {} with {} partitions", name, created->partitions);
                     done(ok());
                   });
}

void PartitionManager::delete_topic(const std::string& name, AdminCallback done) {
  if (!settings_.get_bool("delete.topic.enable")) {
    return done(failure(ErrorCode::kTopicDeletionDisabled, "Topic deletion is disabled."));
  }
  const TopicMetadata* t = topic(name);
  if (!t) return done(failure(ErrorCode::kUnknownTopicOrPartition, "This server does not host this topic-partition."));
  int32_t count = t->partitions;
  // Changes made from the metadata as it is when etcd takes them apply to the topic this request saw, by its id:
  // one deleted and created again meanwhile is another topic.
  metadata_.update(
      [name, id = t->id](ClusterMetadata& m) {
        if (auto it = m.topics.find(name); it != m.topics.end() && it->second.id == id) m.topics.erase(it);
      },
      [this, name, count, id = t->id, done](std::error_code error) {
        if (error) return done(failure(ErrorCode::kKafkaStorageError, error.message()));
        // A topic of that name created since is not this one: its partitions stay.
        if (const auto* now = topic(name); now && now->id != id) return done(ok());
        for (int32_t i = 0; i < count; ++i) {
          drop_partition(name, i);
          logs_.remove({name, i});
        }
        spdlog::info("deleted topic {}", name);
        done(ok());
      });
}

void PartitionManager::create_partitions(const std::string& name, int32_t total, bool validate_only,
                                         AdminCallback done) {
  const TopicMetadata* t = topic(name);
  if (!t) return done(failure(ErrorCode::kUnknownTopicOrPartition, "The topic '" + name + "' does not exist."));
  if (total <= t->partitions) {
    return done(failure(ErrorCode::kInvalidPartitions, "Topic currently has " + std::to_string(t->partitions) +
                                                           " partitions, which is higher than the requested " +
                                                           std::to_string(total) + "."));
  }
  if (total > 100000) return done(failure(ErrorCode::kInvalidPartitions, "Number of partitions is too large."));
  if (validate_only) return done(ok());
  metadata_.update(
      [name, total, id = t->id](ClusterMetadata& m) {
        auto it = m.topics.find(name);
        if (it != m.topics.end() && it->second.id == id) it->second.partitions = std::max(it->second.partitions, total);
      },
      [this, name, done](std::error_code error) {
        if (error) return done(failure(ErrorCode::kKafkaStorageError, error.message()));
        const TopicMetadata* grown = topic(name);
        if (!grown) return done(failure(ErrorCode::kUnknownTopicOrPartition, "topic vanished"));
        for (int32_t i = 0; i < grown->partitions; ++i) {
          if (hosted_here(*grown, i)) open_partition(*grown, i);
        }
        done(ok());
      });
}

void PartitionManager::elect_leaders(ElectionType type, std::optional<std::vector<ElectionTarget>> targets,
                                     std::vector<int32_t> live_brokers,
                                     std::function<void(std::vector<ElectionOutcome>)> done) {
  // The outcomes are those of the metadata the change was finally applied to (it runs again after a conflict).
  auto outcomes = std::make_shared<std::vector<ElectionOutcome>>();
  metadata_.update([type, targets = std::move(targets), live = std::move(live_brokers),
                    outcomes](ClusterMetadata& m) { *outcomes = cluster::elect_leaders(m, type, targets, live); },
                   [outcomes, done = std::move(done)](std::error_code error) {
                     if (error) {
                       for (auto& topic : *outcomes) {
                         for (auto& p : topic.partitions) {
                           if (p.error != ErrorCode::kNone) continue;
                           p.error = ErrorCode::kKafkaStorageError;
                           p.message = "The election could not be stored: " + error.message();
                         }
                       }
                     }
                     done(std::move(*outcomes));
                   });
}

bool PartitionManager::replication_throttled(const TopicMetadata& topic, int32_t index, ThrottleSide side) const {
  auto it = topic.configs.find(side == ThrottleSide::kLeader ? "leader.replication.throttled.replicas"
                                                             : "follower.replication.throttled.replicas");
  return it != topic.configs.end() && names_replica(it->second, index, local_node_);
}

int64_t PartitionManager::throttle_rate(ThrottleSide side) const {
  return settings_.get_long(side == ThrottleSide::kLeader ? "leader.replication.throttled.rate"
                                                          : "follower.replication.throttled.rate");
}

void PartitionManager::reassign_partitions(std::vector<ReassignmentRequest> requests, std::vector<int32_t> brokers,
                                           bool allow_replication_factor_change,
                                           std::function<void(std::vector<ReassignmentOutcome>)> done) {
  auto outcomes = std::make_shared<std::vector<ReassignmentOutcome>>();
  metadata_.update(
      [requests = std::move(requests), brokers = std::move(brokers), allow_replication_factor_change, outcomes](
          ClusterMetadata& m) { *outcomes = reassign_all(m, requests, brokers, allow_replication_factor_change); },
      [outcomes, done = std::move(done)](std::error_code error) {
        if (error) {
          for (auto& outcome : *outcomes) {
            if (outcome.error != ErrorCode::kNone) continue;
            outcome = {ErrorCode::kKafkaStorageError, "The reassignment could not be stored: " + error.message()};
          }
        }
        done(std::move(*outcomes));
      });
}

namespace {

// Applies config changes to `configs`; returns an error when an operation does not fit its key.
std::optional<AdminResult> apply_changes(ConfigMap& configs, const std::vector<ConfigChange>& changes, bool incremental,
                                         const ConfigDefinition* (*find)(std::string_view), bool internal_topic) {
  if (!incremental) configs.clear();
  for (const auto& change : changes) {
    const ConfigDefinition* definition = find(change.name);
    if (!definition) {
      return failure(ErrorCode::kInvalidConfig,
                     not_implemented(change.name).value_or("Unknown config name: " + change.name));
    }
    if (definition->read_only) {
      return failure(ErrorCode::kInvalidConfig, "Cannot update these configs dynamically: " + change.name);
    }
    switch (change.op) {
      case ConfigChange::Op::kSet:
        if (!change.value) return failure(ErrorCode::kInvalidRequest, "Null value not supported for : " + change.name);
        configs[change.name] = *change.value;
        break;
      case ConfigChange::Op::kDelete:
        configs.erase(change.name);
        break;
      case ConfigChange::Op::kAppend:
      case ConfigChange::Op::kSubtract: {
        if (definition->type != ConfigType::kList) {
          return failure(ErrorCode::kInvalidConfig, "Config value append/subtract is not allowed for config key " +
                                                        change.name + " which is not of type LIST");
        }
        std::string current =
            configs.count(change.name) ? configs[change.name] : std::string(definition->default_value);
        std::vector<std::string> items;
        for (size_t start = 0; start <= current.size();) {
          size_t comma = current.find(',', start);
          if (comma == std::string::npos) comma = current.size();
          if (comma > start) items.push_back(current.substr(start, comma - start));
          start = comma + 1;
        }
        std::string v = change.value.value_or("");
        auto it = std::find(items.begin(), items.end(), v);
        if (change.op == ConfigChange::Op::kAppend && it == items.end()) items.push_back(v);
        if (change.op == ConfigChange::Op::kSubtract && it != items.end()) items.erase(it);
        std::string joined;
        for (const auto& item : items) joined += (joined.empty() ? "" : ",") + item;
        configs[change.name] = joined;
        break;
      }
    }
    if (configs.count(change.name)) {
      if (auto problem = validate_config_value(*definition, configs[change.name], internal_topic)) {
        return failure(ErrorCode::kInvalidConfig, *problem);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

void PartitionManager::alter_topic_configs(const std::string& name, const std::vector<ConfigChange>& changes,
                                           bool incremental, bool validate_only, AdminCallback done) {
  const TopicMetadata* t = topic(name);
  if (!t) return done(failure(ErrorCode::kUnknownTopicOrPartition, "The topic '" + name + "' does not exist."));
  ConfigMap configs = t->configs;
  if (auto refused = apply_changes(configs, changes, incremental, &find_topic_config, is_internal_topic(name))) {
    return done(*refused);
  }
  if (validate_only) return done(ok());
  metadata_.update(
      [name, configs, id = t->id](ClusterMetadata& m) {
        if (auto it = m.topics.find(name); it != m.topics.end() && it->second.id == id) it->second.configs = configs;
      },
      [this, name, done](std::error_code error) {
        if (error) return done(failure(ErrorCode::kKafkaStorageError, error.message()));
        const TopicMetadata* now = topic(name);
        if (!now) return done(failure(ErrorCode::kUnknownTopicOrPartition, "topic vanished"));
        apply_topic_configs(*now);
        done(ok());
      });
}

void PartitionManager::alter_broker_configs(const std::vector<ConfigChange>& changes, bool incremental,
                                            bool validate_only, AdminCallback done) {
  ConfigMap configs = metadata_.current().broker_dynamic_configs;
  if (auto refused = apply_changes(configs, changes, incremental, &find_broker_config, false)) return done(*refused);
  if (validate_only) return done(ok());
  metadata_.update([configs](ClusterMetadata& m) { m.broker_dynamic_configs = configs; },
                   [this, done](std::error_code error) {
                     if (error) return done(failure(ErrorCode::kKafkaStorageError, error.message()));
                     settings_.dynamic_configs = metadata_.current().broker_dynamic_configs;
                     for (const auto& [name, topic] : metadata_.current().topics) apply_topic_configs(topic);
                     done(ok());
                   });
}

std::vector<ResolvedConfig> PartitionManager::describe_topic_configs(const TopicMetadata& t) const {
  std::vector<ResolvedConfig> out;
  for (const auto& definition : topic_config_definitions())
    out.push_back(settings_.resolve_topic(definition, t.configs));
  return out;
}

std::vector<ResolvedConfig> PartitionManager::describe_broker_configs() const {
  std::vector<ResolvedConfig> out;
  for (const auto& definition : broker_config_definitions()) out.push_back(settings_.resolve_broker(definition));
  return out;
}

std::vector<std::shared_ptr<storage::Log>> PartitionManager::logs() const {
  std::vector<std::shared_ptr<storage::Log>> all;
  for (const auto& [key, log] : logs_.logs()) all.push_back(log);
  return all;
}

}  // namespace fjord::cluster
