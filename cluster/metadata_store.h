// Cluster metadata: the topics, their ids, partition counts and configuration overrides, and the brokers'
// dynamic settings. Behind an interface so that a single node keeps it in a local file and a cluster in etcd.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "cluster/config_definitions.h"
#include "model/acl.h"
#include "model/client_quota.h"
#include "protocol/codec_runtime.h"

namespace fjord::cluster {

// Where one partition lives in a cluster, as the controller decided it. A single node has none of these: it holds
// every partition itself, as leader.
struct PartitionAssignment {
  std::vector<int32_t> replicas;  // placement order; the first is the preferred leader
  int32_t leader = -1;            // -1: offline, no in-sync replica is alive
  int32_t leader_epoch = 0;       // bumped by every leader election
  std::vector<int32_t> isr;       // in-sync replicas, the leader among them
  // Bumped by every change of this assignment, so that a leader's ISR change based on an older view is refused.
  int32_t partition_epoch = 0;
  // A reassignment in progress (reassignment.h): `replicas` then holds the target replicas followed by the ones
  // being removed; `adding` are the target replicas that were not replicas before, `removing` the old replicas
  // that are not in the target. Both empty when no reassignment is in progress.
  std::vector<int32_t> adding;
  std::vector<int32_t> removing;
  bool reassigning() const { return !adding.empty() || !removing.empty(); }
  bool operator==(const PartitionAssignment&) const = default;
};

struct TopicMetadata {
  std::string name;
  protocol::Uuid id;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  ConfigMap configs;  // overrides only
  // Cluster mode: one per partition once the controller has placed them (empty until then).
  std::vector<PartitionAssignment> assignments;
};

// The producer id and epoch a transactional.id holds; each InitProducerId for it bumps the epoch, fencing the
// previous instance.
struct TransactionalProducer {
  int64_t producer_id = -1;
  int16_t epoch = -1;
};

// A user's SCRAM credential for one mechanism (server/security/scram.h): what checks a client's proof, never
// the password.
struct ScramCredential {
  std::string salt;
  int32_t iterations = 0;
  std::string stored_key;
  std::string server_key;
  bool operator==(const ScramCredential&) const = default;
};

struct ClusterMetadata {
  std::string cluster_id;
  std::map<std::string, TopicMetadata> topics;
  ConfigMap broker_dynamic_configs;
  // Producer ids below this one have been handed out (or reserved in a block): a restart never reuses one.
  int64_t producer_id_block_end = 0;
  std::map<std::string, TransactionalProducer> transactional_producers;
  // User name -> mechanism ("SCRAM-SHA-256", "SCRAM-SHA-512") -> credential.
  std::map<std::string, std::map<std::string, ScramCredential>> scram_credentials;
  // Access control lists (CreateAcls), in the order they were created.
  std::vector<AclBinding> acls;
  // Client quotas (AlterClientQuotas), by entity.
  ClientQuotas client_quotas;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  virtual const ClusterMetadata& current() const = 0;
  // Applies `change` to a copy of the metadata and stores it; `done` runs (on the caller's loop) once the change
  // is durable, with an error when it could not be stored, in which case current() is unchanged. In a cluster
  // another broker may have changed the metadata meanwhile: then `change` runs again on the newer metadata, after
  // update() has returned, so it must own everything it captures (no references to the caller's locals). A change
  // too large for one etcd transaction (thousands of partitions placed at once) is stored in parts: an error
  // after some parts leaves those stored, and a part that meets a newer value runs `change` again on top of them.
  // Changes that large are ones that find their own work done when they run again (placements, deletions,
  // elections, a leader's batch of ISR changes).
  virtual void update(const std::function<void(ClusterMetadata&)>& change,
                      std::function<void(std::error_code)> done) = 0;
  // Runs `listener` on the broker's loop after every change made elsewhere (another broker, the controller) has
  // become current(). A single node's store never changes behind its back, so the default keeps nothing.
  virtual void on_remote_change(std::function<void()> listener) { (void)listener; }
};

}  // namespace fjord::cluster
