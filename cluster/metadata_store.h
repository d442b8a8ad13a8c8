// Cluster metadata: the topics, their ids, partition counts and configuration overrides, and the brokers'
// dynamic settings. Behind an interface so that a single node keeps it in a local file and a cluster in etcd.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <system_error>

#include "cluster/config_definitions.h"
#include "protocol/codec_runtime.h"

namespace fjord::cluster {

struct TopicMetadata {
  std::string name;
  protocol::Uuid id;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  ConfigMap configs;  // overrides only
};

// The producer id and epoch a transactional.id holds; each InitProducerId for it bumps the epoch, fencing the
// previous instance.
struct TransactionalProducer {
  int64_t producer_id = -1;
  int16_t epoch = -1;
};

struct ClusterMetadata {
  std::string cluster_id;
  std::map<std::string, TopicMetadata> topics;
  ConfigMap broker_dynamic_configs;
  // Producer ids below this one have been handed out (or reserved in a block): a restart never reuses one.
  int64_t producer_id_block_end = 0;
  std::map<std::string, TransactionalProducer> transactional_producers;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  virtual const ClusterMetadata& current() const = 0;
  // Applies `change` to a copy of the metadata and stores it; `done` runs (on the caller's loop) once the change
  // is durable, with an error when it could not be stored, in which case current() is unchanged.
  virtual void update(const std::function<void(ClusterMetadata&)>& change,
                      std::function<void(std::error_code)> done) = 0;
};

}  // namespace fjord::cluster
