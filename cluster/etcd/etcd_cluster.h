// The cluster's shared state in etcd, as one broker sees and changes it:
//   /fjord/cluster, /fjord/topics/<topic>, /fjord/partitions/<topic>/<index>
//                          the cluster metadata, one key per piece (metadata_layout.h); a change writes only the
//                          keys whose content changed, in one transaction guarded by each key's revision (or its
//                          absence), so that changes to different partitions never conflict
//   /fjord/brokers/<id>    {"host", "port", "rack"}: a registered broker, bound to its lease, so it vanishes when
//                          the broker stops renewing it (killed, paused, cut off)
//   /fjord/controller      {"node_id"}: the controller, bound to the holder's lease; whoever creates it first
//                          while it is absent is controller
// A broker that finds the layout before this one (everything in one document, /fjord/metadata) rewrites it as keys
// and deletes the document before it serves; brokers still on that layout can then change nothing, so a cluster
// moves to this layout by restarting every broker on the new version.
// A worker thread does the blocking etcd calls (writes, lease renewal, the controller campaign) and a watch
// thread streams every change under /fjord/; both hand results to the broker's event loop, where the state below
// is read and changed, so handlers never wait on etcd.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/cluster_service.h"
#include "cluster/etcd/etcd_client.h"
#include "cluster/etcd/metadata_layout.h"
#include "model/executor.h"

namespace fjord::cluster::etcd {

struct EtcdClusterSettings {
  std::string endpoint;  // host:port
  int32_t node_id = 1;
  int64_t session_timeout_ms = 9000;  // the lease's time to live
  EtcdSecurity security;              // TLS and a user, when etcd asks for them
};

class EtcdCluster final : public ClusterService {
 public:
  EtcdCluster(EtcdClusterSettings settings, Executor& loop);
  ~EtcdCluster() override;

  // Blocking, before the loop runs: reads the metadata, creating the document (with a new cluster id) when this
  // is the first broker. Throws when etcd cannot be reached.
  void load();
  // Registers this broker at `self` under a new lease and starts renewing it, watching, and campaigning for
  // controller. Blocking for the registration itself.
  void join(const BrokerEndpoint& self) override;
  // Clean leave: the lease is revoked, so the registration (and the controller role) go at once, not after the
  // session timeout. Blocking.
  void leave() override;

  const ClusterMetadata& current() const override { return metadata_; }
  void update(const std::function<void(ClusterMetadata&)>& change, std::function<void(std::error_code)> done) override;
  void on_remote_change(std::function<void()> listener) override { listeners_.push_back(std::move(listener)); }

  std::vector<BrokerEndpoint> live_brokers() const override;
  int32_t controller_id() const override { return controller_; }
  int32_t node_id() const { return settings_.node_id; }

 private:
  struct Snapshot;
  void stop_threads();
  void run_worker();
  void run_watch();
  void submit(std::function<void(EtcdClient&)> task);
  void renew(EtcdClient& client);
  void register_broker(EtcdClient& client);
  void apply_snapshot(const Snapshot& snapshot);
  void apply_key(const std::string& key, const std::string& value, bool deleted, int64_t mod_revision);
  void notify();
  // Tells the listeners once the loop has taken in what is queued before: a burst of watch events or the parts
  // of a large write cost one pass over the metadata (each listener walks every partition), not one per event.
  void notify_soon();
  using UpdateBatch = std::vector<std::shared_ptr<struct PendingUpdate>>;
  // Writes `carried` (a batch whose write met newer values) and every update queued since, applied in order to one
  // copy of the metadata, as the keys that changed: one transaction, or for a change too large for one (placing
  // thousands of partitions) several in turn, each guarded by its own keys' revisions.
  void write_batch(UpdateBatch carried);
  // The keys a batch writes, each with its guard: the revision the key had (or its absence) when the batch's
  // changes were computed, so that a part sent later still fails on a value that changed meanwhile.
  struct PlannedWrites {
    std::vector<KeyWrite> writes;
    std::vector<Compare> guards;
  };
  void write_chunk(UpdateBatch batch, std::shared_ptr<const PlannedWrites> planned, size_t from);
  void finish_batch(const UpdateBatch& batch, std::error_code error);

  EtcdClusterSettings settings_;
  Executor& loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  // Loop-thread state.
  ClusterMetadata metadata_;
  // The revision each metadata key present had when last applied here, and each deleted key's deletion revision
  // (kept until the watch has passed it, so that an older event for the key is not applied again).
  std::map<std::string, int64_t> key_revisions_;
  std::map<std::string, int64_t> deleted_keys_;
  std::map<int32_t, BrokerEndpoint> brokers_;
  int32_t controller_ = -1;
  std::vector<std::function<void()>> listeners_;
  bool notify_pending_ = false;
  // Updates wait here while a write is in flight, then go together: a burst of ISR changes or elections costs one
  // etcd round trip rather than one each, each conflicting with all the others.
  UpdateBatch queued_updates_;
  bool writing_ = false;

  // Worker-thread state.
  std::string self_value_;
  int64_t lease_ = 0;
  int64_t watch_from_revision_ = 0;  // set by load(), read by the watch thread once at its start

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void(EtcdClient&)>> tasks_;
  bool stopping_ = false;
  std::unique_ptr<EtcdClient> watch_client_;
  std::thread worker_;
  std::thread watcher_;
};

}  // namespace fjord::cluster::etcd
