#include "cluster/etcd/etcd_cluster.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "cluster/etcd/etcd_client.h"
#include "cluster/local_metadata_store.h"

namespace fjord::cluster::etcd {
namespace {

const std::string kPrefix = "/fjord/";
const std::string kMetadataKey = "/fjord/metadata";
const std::string kBrokersPrefix = "/fjord/brokers/";
const std::string kControllerKey = "/fjord/controller";
constexpr int kMaxUpdateAttempts = 100;

std::string broker_value(const BrokerEndpoint& b) {
  nlohmann::json j = {{"node_id", b.node_id}, {"host", b.host}, {"port", b.port}};
  if (b.rack) j["rack"] = *b.rack;
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
  EtcdClient client(settings_.endpoint);
  auto read = client.get_prefix(kPrefix);
  bool has_metadata = false;
  for (const auto& kv : read.kvs) has_metadata |= kv.key == kMetadataKey;
  if (!has_metadata) {
    ClusterMetadata fresh;
    fresh.cluster_id = random_uuid().to_string();
    // Several brokers may start at once: only the first document is kept.
    client.txn({{kMetadataKey, Compare::Target::kCreateRevision, 0, {}}},
               {{Operation::Kind::kPut, kMetadataKey, LocalMetadataStore::to_json(fresh), 0}});
    read = client.get_prefix(kPrefix);
  }
  Snapshot snapshot{read.kvs, read.revision};
  apply_snapshot(snapshot);
  watch_from_revision_ = read.revision;
}

void EtcdCluster::join(const BrokerEndpoint& self) {
  self_value_ = broker_value(self);
  EtcdClient client(settings_.endpoint);
  register_broker(client);
  // Everyone registered so far, this broker included, is known before it serves; later arrivals come by watch.
  auto read = client.get_prefix(kPrefix);
  apply_snapshot(Snapshot{read.kvs, read.revision});
  watch_from_revision_ = read.revision;
  worker_ = std::thread([this] { run_worker(); });
  watch_client_ = std::make_unique<EtcdClient>(settings_.endpoint);
  watcher_ = std::thread([this] { run_watch(); });
}

void EtcdCluster::leave() {
  stop_threads();
  if (lease_ == 0) return;
  try {
    EtcdClient client(settings_.endpoint);
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
  EtcdClient client(settings_.endpoint);
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
        loop_.post([this, alive, events] {
          if (!*alive) return;
          for (const auto& e : events) {
            apply_key(e.kv.key, e.kv.value, e.type == WatchEvent::Type::kDelete, e.kv.mod_revision);
          }
          notify();
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
        EtcdClient client(settings_.endpoint);
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
  for (const auto& kv : snapshot.kvs) apply_key(kv.key, kv.value, false, kv.mod_revision);
}

void EtcdCluster::apply_key(const std::string& key, const std::string& value, bool deleted, int64_t mod_revision) {
  try {
    if (key == kMetadataKey) {
      if (deleted || mod_revision <= metadata_revision_) return;
      metadata_ = LocalMetadataStore::from_json(value);
      metadata_revision_ = mod_revision;
    } else if (key.rfind(kBrokersPrefix, 0) == 0) {
      const int32_t id = std::stoi(key.substr(kBrokersPrefix.size()));
      if (deleted) {
        if (brokers_.erase(id)) spdlog::info("broker {} left the cluster", id);
        return;
      }
      auto j = nlohmann::json::parse(value);
      BrokerEndpoint b{id, j.at("host").get<std::string>(), j.at("port").get<int32_t>(), std::nullopt};
      if (j.contains("rack")) b.rack = j["rack"].get<std::string>();
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
  auto text = std::make_shared<std::string>(LocalMetadataStore::to_json(next));
  if (*text == LocalMetadataStore::to_json(metadata_)) return finish_batch(batch, {});
  const int64_t expected = metadata_revision_;
  auto alive = alive_;
  submit([this, alive, batch, text, expected](EtcdClient& client) {
    try {
      auto result = client.txn({{kMetadataKey, Compare::Target::kModRevision, expected, {}}},
                               {{Operation::Kind::kPut, kMetadataKey, *text, 0}});
      if (result.succeeded) {
        loop_.post([this, alive, batch, text, revision = result.revision] {
          if (!*alive) return;
          apply_key(kMetadataKey, *text, false, revision);
          notify();
          finish_batch(batch, {});
        });
        return;
      }
      // Someone else changed the metadata first: take theirs and apply these changes again on top of it.
      auto fresh = client.get(kMetadataKey);
      std::optional<KeyValue> kv;
      if (!fresh.kvs.empty()) kv = fresh.kvs.front();
      loop_.post([this, alive, batch, kv] {
        if (!*alive) return;
        if (kv) apply_key(kv->key, kv->value, false, kv->mod_revision);
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
