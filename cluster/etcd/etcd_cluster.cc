#include "cluster/etcd/etcd_cluster.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "cluster/etcd/etcd_client.h"
#include "cluster/local_metadata_store.h"

namespace fjord::cluster::etcd {
namespace {

const std::string kPrefix = "/fjord/";
const std::string kBrokersPrefix = "/fjord/brokers/";
const std::string kControllerKey = "/fjord/controller";
constexpr int kMaxUpdateAttempts = 100;
// How long one etcd request may take, every member tried.
constexpr int kRequestTimeoutMs = 5000;
// etcd refuses a transaction with more than --max-txn-ops (128 by default) operations or comparisons.
constexpr size_t kMaxKeysPerTransaction = 100;

// What guards a write of `w`: the revision the key had when this broker last saw it, or its absence.
Compare guard(const KeyWrite& w, const std::map<std::string, int64_t>& revisions) {
  auto it = revisions.find(w.key);
  if (!w.existed || it == revisions.end()) return {w.key, Compare::Target::kCreateRevision, 0, {}};
  return {w.key, Compare::Target::kModRevision, it->second, {}};
}

Operation operation(const KeyWrite& w) {
  if (w.value) return {Operation::Kind::kPut, w.key, *w.value, 0};
  return {Operation::Kind::kDelete, w.key, {}, 0};
}

// Writes `metadata` as keys where there are none yet (a new cluster, or one migrated from the single document),
// in transactions of at most kMaxKeysPerTransaction keys, each on condition that the cluster key is still absent:
// once another broker has finished, nothing more is written. Keys left by an attempt that stopped halfway and
// that `metadata` no longer has (`present`) are deleted. The cluster key goes last, with the single document's
// deletion, so a broker that stops halfway leaves the next one to start over.
void write_initial_layout(EtcdClient& client, const ClusterMetadata& metadata, const std::optional<KeyValue>& document,
                          const std::vector<KeyValue>& present) {
  auto writes = all_keys(metadata);  // the cluster key first
  std::set<std::string> wanted;
  for (const auto& w : writes) wanted.insert(w.key);
  for (const auto& kv : present) {
    if (is_metadata_key(kv.key) && !wanted.count(kv.key)) writes.push_back({kv.key, std::nullopt});
  }
  const Compare cluster_absent{kClusterKey, Compare::Target::kCreateRevision, 0, {}};
  for (size_t from = 1; from < writes.size(); from += kMaxKeysPerTransaction) {
    std::vector<Operation> ops;
    for (size_t i = from; i < std::min(writes.size(), from + kMaxKeysPerTransaction); ++i) {
      ops.push_back(operation(writes[i]));
    }
    if (!client.txn({cluster_absent}, ops).succeeded) return;
  }
  std::vector<Compare> compares{cluster_absent};
  std::vector<Operation> ops{operation(writes.front())};
  if (document) {
    compares.push_back({kSingleDocumentKey, Compare::Target::kModRevision, document->mod_revision, {}});
    ops.push_back({Operation::Kind::kDelete, kSingleDocumentKey, {}, 0});
  }
  if (client.txn(compares, ops).succeeded && document) {
    spdlog::info("cluster metadata moved from the single document {} to {} keys", kSingleDocumentKey, writes.size());
  }
}

std::string broker_value(const BrokerEndpoint& b) {
  nlohmann::json j = {{"node_id", b.node_id}, {"host", b.host}, {"port", b.port}};
  if (b.rack) j["rack"] = *b.rack;
  for (const auto& [name, endpoint] : b.listeners)
    j["listeners"][name] = {{"host", endpoint.host}, {"port", endpoint.port}};
  return j.dump();
}

}  // namespace

struct EtcdCluster::Snapshot {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;
};

struct PendingUpdate {
  std::function<void(ClusterMetadata&)> change;
  std::function<void(std::error_code)> done;
  int attempts = 0;
};

EtcdCluster::EtcdCluster(EtcdClusterSettings settings, Executor& loop) : settings_(std::move(settings)), loop_(loop) {}

EtcdCluster::~EtcdCluster() {
  *alive_ = false;
  stop_threads();
}

void EtcdCluster::stop_threads() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (watch_client_) watch_client_->cancel_watch();
  if (worker_.joinable()) worker_.join();
  if (watcher_.joinable()) watcher_.join();
}

void EtcdCluster::load() {
  EtcdClient client(settings_.endpoint, kRequestTimeoutMs, settings_.security);
  auto read = client.get_prefix(kPrefix);
  bool has_cluster = false;
  std::optional<KeyValue> document;
  for (const auto& kv : read.kvs) {
    has_cluster |= kv.key == kClusterKey;
    if (kv.key == kSingleDocumentKey) document = kv;
  }
  if (!has_cluster) {
    // The first broker of a new cluster, or of one written in the single-document layout. Several brokers may
    // start at once: whichever finishes first is kept.
    ClusterMetadata initial;
    if (document) {
      initial = LocalMetadataStore::from_json(document->value);
    } else {
      initial.cluster_id = random_uuid().to_string();
    }
    write_initial_layout(client, initial, document, read.kvs);
    read = client.get_prefix(kPrefix);
  }
  Snapshot snapshot{read.kvs, read.revision};
  apply_snapshot(snapshot);
  watch_from_revision_ = read.revision;
}

void EtcdCluster::join(const BrokerEndpoint& self) {
  self_value_ = broker_value(self);
  EtcdClient client(settings_.endpoint, kRequestTimeoutMs, settings_.security);
  register_broker(client);
  // Everyone registered so far, this broker included, is known before it serves; later arrivals come by watch.
  auto read = client.get_prefix(kPrefix);
  apply_snapshot(Snapshot{read.kvs, read.revision});
  watch_from_revision_ = read.revision;
  worker_ = std::thread([this] { run_worker(); });
  watch_client_ = std::make_unique<EtcdClient>(settings_.endpoint, kRequestTimeoutMs, settings_.security);
  watcher_ = std::thread([this] { run_watch(); });
}

void EtcdCluster::leave() {
  stop_threads();
  if (lease_ == 0) return;
  try {
    EtcdClient client(settings_.endpoint, kRequestTimeoutMs, settings_.security);
    client.lease_revoke(lease_);
  } catch (const std::exception& e) {
    spdlog::warn("leaving the cluster: could not revoke the lease ({}); it expires by itself", e.what());
  }
  lease_ = 0;
}

void EtcdCluster::register_broker(EtcdClient& client) {
  const int64_t ttl_seconds = std::max<int64_t>(1, (settings_.session_timeout_ms + 999) / 1000);
  lease_ = client.lease_grant(ttl_seconds);
  client.put(kBrokersPrefix + std::to_string(settings_.node_id), self_value_, lease_);
  spdlog::info("registered broker {} in etcd at {} (lease {:x}, {} s)", settings_.node_id, settings_.endpoint, lease_,
               ttl_seconds);
}

void EtcdCluster::renew(EtcdClient& client) {
  if (lease_ == 0 || client.lease_keepalive(lease_) <= 0) {
    // Expired while this broker could not reach etcd (paused, cut off): the others have failed its partitions
    // over already; registering again makes it a follower that catches up.
    spdlog::warn("broker {}: lease expired; registering again", settings_.node_id);
    register_broker(client);
  }
  nlohmann::json controller = {{"node_id", settings_.node_id}};
  client.txn({{kControllerKey, Compare::Target::kCreateRevision, 0, {}}},
             {{Operation::Kind::kPut, kControllerKey, controller.dump(), lease_}});
}

void EtcdCluster::submit(std::function<void(EtcdClient&)> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_all();
}

void EtcdCluster::run_worker() {
  EtcdClient client(settings_.endpoint, kRequestTimeoutMs, settings_.security);
  // Renewal at a third of the lease, so that two renewals may fail before it expires; never rarer than a second,
  // since the controller campaign rides on the same tick.
  const auto tick = std::chrono::milliseconds(std::clamp<int64_t>(settings_.session_timeout_ms / 3, 100, 1000));
  auto next_tick = std::chrono::steady_clock::now();
  int64_t failures = 0;
  while (true) {
    std::function<void(EtcdClient&)> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_tick, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_) break;
      if (!tasks_.empty()) {
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
    }
    if (task) task(client);
    if (std::chrono::steady_clock::now() >= next_tick) {
      next_tick = std::chrono::steady_clock::now() + tick;
      try {
        renew(client);
        if (failures > 0) spdlog::info("broker {}: etcd reachable again", settings_.node_id);
        failures = 0;
      } catch (const std::exception& e) {
        if (failures++ == 0) spdlog::warn("broker {}: cannot renew its etcd lease: {}", settings_.node_id, e.what());
      }
    }
  }
}

void EtcdCluster::run_watch() {
  int64_t from = watch_from_revision_ + 1;
  auto alive = alive_;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    try {
      watch_client_->watch_prefix(kPrefix, from, [&](const std::vector<WatchEvent>& events, int64_t revision) {
        for (const auto& e : events) from = std::max(from, e.kv.mod_revision + 1);
        from = std::max(from, revision + 1);
        loop_.post([this, alive, events, revision] {
          if (!*alive) return;
          for (const auto& e : events) {
            apply_key(e.kv.key, e.kv.value, e.type == WatchEvent::Type::kDelete, e.kv.mod_revision);
          }
          // Deletions the watch has passed need no guard against older events any more.
          std::erase_if(deleted_keys_, [revision](const auto& entry) { return entry.second <= revision; });
          notify_soon();
        });
        std::lock_guard lock(mutex_);
        return !stopping_;
      });
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
      }
      spdlog::warn("broker {}: etcd watch broke ({}); reading the whole state again", settings_.node_id, e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      try {
        EtcdClient client(settings_.endpoint, kRequestTimeoutMs, settings_.security);
        auto read = client.get_prefix(kPrefix);
        from = read.revision + 1;
        auto snapshot = std::make_shared<Snapshot>(Snapshot{read.kvs, read.revision});
        loop_.post([this, alive, snapshot] {
          if (!*alive) return;
          apply_snapshot(*snapshot);
          notify();
        });
      } catch (const std::exception&) {
        // etcd still away: the next round tries again.
      }
    }
  }
}

void EtcdCluster::apply_snapshot(const Snapshot& snapshot) {
  brokers_.clear();
  controller_ = -1;
  // Rebuilt from the keys read: any deleted while the watch was broken are gone with it.
  ClusterMetadata previous = std::move(metadata_);
  metadata_ = ClusterMetadata{};
  key_revisions_.clear();
  deleted_keys_.clear();
  for (const auto& kv : snapshot.kvs) apply_key(kv.key, kv.value, false, kv.mod_revision);
  if (metadata_.cluster_id.empty() && !previous.cluster_id.empty()) metadata_.cluster_id = previous.cluster_id;
}

void EtcdCluster::apply_key(const std::string& key, const std::string& value, bool deleted, int64_t mod_revision) {
  try {
    if (is_metadata_key(key)) {
      // An event older than what this broker applied already (its own write, seen again by the watch) is skipped.
      auto known = key_revisions_.find(key);
      auto gone = deleted_keys_.find(key);
      if ((known != key_revisions_.end() && mod_revision <= known->second) ||
          (gone != deleted_keys_.end() && mod_revision <= gone->second)) {
        return;
      }
      apply_metadata_key(metadata_, key, deleted ? std::nullopt : std::optional<std::string>(value));
      if (deleted) {
        key_revisions_.erase(key);
        deleted_keys_[key] = mod_revision;
      } else {
        key_revisions_[key] = mod_revision;
        deleted_keys_.erase(key);
      }
    } else if (key.rfind(kBrokersPrefix, 0) == 0) {
      const int32_t id = std::stoi(key.substr(kBrokersPrefix.size()));
      if (deleted) {
        if (brokers_.erase(id)) spdlog::info("broker {} left the cluster", id);
        return;
      }
      auto j = nlohmann::json::parse(value);
      BrokerEndpoint b{id, j.at("host").get<std::string>(), j.at("port").get<int32_t>(), std::nullopt};
      if (j.contains("rack")) b.rack = j["rack"].get<std::string>();
      if (j.contains("listeners")) {
        for (const auto& [name, endpoint] : j["listeners"].items()) {
          b.listeners[name] = {endpoint.at("host").get<std::string>(), endpoint.at("port").get<int32_t>()};
        }
      }
      if (!brokers_.count(id)) spdlog::info("broker {} joined the cluster at {}:{}", id, b.host, b.port);
      brokers_[id] = b;
    } else if (key == kControllerKey) {
      const int32_t before = controller_;
      controller_ = deleted ? -1 : nlohmann::json::parse(value).at("node_id").get<int32_t>();
      if (controller_ != before && controller_ >= 0) spdlog::info("broker {} is the controller", controller_);
    }
  } catch (const std::exception& e) {
    spdlog::error("ignoring a malformed value of {} in etcd: {}", key, e.what());
  }
}

void EtcdCluster::notify() {
  auto listeners = listeners_;
  for (auto& l : listeners) l();
}

void EtcdCluster::notify_soon() {
  if (notify_pending_) return;
  notify_pending_ = true;
  loop_.post([this, alive = alive_] {
    if (!*alive) return;
    notify_pending_ = false;
    notify();
  });
}

std::vector<BrokerEndpoint> EtcdCluster::live_brokers() const {
  std::vector<BrokerEndpoint> out;
  for (const auto& [id, b] : brokers_) out.push_back(b);
  return out;
}

void EtcdCluster::update(const std::function<void(ClusterMetadata&)>& change,
                         std::function<void(std::error_code)> done) {
  queued_updates_.push_back(std::make_shared<PendingUpdate>(PendingUpdate{change, std::move(done), 0}));
  if (!writing_) write_batch({});
}

void EtcdCluster::finish_batch(const UpdateBatch& batch, std::error_code error) {
  writing_ = false;
  for (const auto& pending : batch) pending->done(error);
  // What the callbacks (and anyone meanwhile) asked for goes next.
  if (!writing_ && !queued_updates_.empty()) write_batch({});
}

void EtcdCluster::write_batch(UpdateBatch carried) {
  UpdateBatch batch = std::move(carried);
  UpdateBatch exhausted;
  for (auto& pending : queued_updates_) batch.push_back(std::move(pending));
  queued_updates_.clear();
  batch.erase(std::remove_if(batch.begin(), batch.end(),
                             [&](const std::shared_ptr<PendingUpdate>& pending) {
                               if (++pending->attempts <= kMaxUpdateAttempts) return false;
                               exhausted.push_back(pending);
                               return true;
                             }),
              batch.end());
  writing_ = true;
  for (const auto& pending : exhausted) pending->done(std::make_error_code(std::errc::resource_unavailable_try_again));
  if (batch.empty()) return finish_batch(batch, {});
  ClusterMetadata next = metadata_;
  for (const auto& pending : batch) pending->change(next);
  auto writes = changed_keys(metadata_, next);
  if (writes.size() > kMaxKeysPerTransaction && batch.size() > 1) {
    // Too large for one transaction: written in parts, and a part that meets a newer value makes its update run
    // again on top of what the parts before it wrote. That is safe for one update on its own (each finds its own
    // work done), not for several whose effects add up: so as many as fit in one transaction go together (at
    // least the first, alone in parts if it must), and the others wait their turn.
    // At most the limit's number of changes are tried: nearly every change writes a key of its own.
    size_t fitting = 1;
    next = metadata_;
    batch.front()->change(next);
    for (; fitting < batch.size() && fitting < kMaxKeysPerTransaction; ++fitting) {
      batch[fitting]->change(next);
      if (changed_keys(metadata_, next).size() > kMaxKeysPerTransaction) break;
    }
    if (fitting < batch.size()) {
      // The one that did not fit (or the limit) is on `next`: taken again without it.
      next = metadata_;
      for (size_t i = 0; i < fitting; ++i) batch[i]->change(next);
    }
    writes = changed_keys(metadata_, next);
    queued_updates_.insert(queued_updates_.begin(), batch.begin() + static_cast<std::ptrdiff_t>(fitting), batch.end());
    for (auto it = batch.begin() + static_cast<std::ptrdiff_t>(fitting); it != batch.end(); ++it) {
      --(*it)->attempts;
    }
    batch.resize(fitting);
  }
  if (writes.empty()) return finish_batch(batch, {});
  auto planned = std::make_shared<PlannedWrites>();
  for (const auto& w : writes) planned->guards.push_back(guard(w, key_revisions_));
  planned->writes = std::move(writes);
  write_chunk(std::move(batch), std::move(planned), 0);
}

// Writes keys [from, from + kMaxKeysPerTransaction) of `writes` as one transaction, then the next part. A part
// that fails for good (etcd unreachable) fails the batch, leaving the parts before it stored.
void EtcdCluster::write_chunk(UpdateBatch batch, std::shared_ptr<const PlannedWrites> planned, size_t from) {
  const size_t to = std::min(planned->writes.size(), from + kMaxKeysPerTransaction);
  std::vector<Compare> compares(planned->guards.begin() + static_cast<std::ptrdiff_t>(from),
                                planned->guards.begin() + static_cast<std::ptrdiff_t>(to));
  std::vector<Operation> ops;
  for (size_t i = from; i < to; ++i) ops.push_back(operation(planned->writes[i]));
  auto alive = alive_;
  submit([this, alive, batch, planned, from, to, compares, ops](EtcdClient& client) {
    try {
      auto result = client.txn(compares, ops);
      if (result.succeeded) {
        loop_.post([this, alive, batch, planned, from, to, revision = result.revision] {
          if (!*alive) return;
          for (size_t i = from; i < to; ++i) {
            const auto& w = planned->writes[i];
            apply_key(w.key, w.value.value_or(std::string()), !w.value, revision);
          }
          if (to < planned->writes.size()) {
            // The next part goes to etcd while this broker takes this one in (its keys are others').
            write_chunk(batch, planned, to);
            notify_soon();
            return;
          }
          notify();
          finish_batch(batch, {});
        });
        return;
      }
      // Someone changed one of these keys first: take the current values and apply the updates again on top.
      std::vector<std::pair<KeyValue, bool>> fresh;  // the key's value, or (false) its absence as of the read
      for (const auto& c : compares) {
        auto read = client.get(c.key);
        if (read.kvs.empty()) {
          fresh.push_back({KeyValue{c.key, {}, 0, read.revision, 0}, false});
        } else {
          fresh.push_back({read.kvs.front(), true});
        }
      }
      loop_.post([this, alive, batch, fresh] {
        if (!*alive) return;
        for (const auto& [kv, present] : fresh) apply_key(kv.key, kv.value, !present, kv.mod_revision);
        notify();
        write_batch(batch);
      });
    } catch (const std::exception& e) {
      spdlog::warn("metadata update failed: {}", e.what());
      loop_.post([this, alive, batch] {
        if (*alive) finish_batch(batch, std::make_error_code(std::errc::host_unreachable));
      });
    }
  });
}

}  // namespace fjord::cluster::etcd
