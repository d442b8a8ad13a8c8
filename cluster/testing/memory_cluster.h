// Test-only: the cluster's shared state in memory, for brokers that run in one process on one thread (each on its
// own event loop, all polled by the test). It keeps what etcd keeps for Fjord (the metadata document, the
// registered brokers, the controller) with the same rules: a change is stored at once and every member hears of
// it on its own loop; the first broker registered is controller, and when it goes the next one is. A broker the
// test "crashes" is expired, as etcd expires a lease nobody renews.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "cluster/cluster_service.h"
#include "model/executor.h"

namespace fjord::cluster::testing {

class MemoryCluster {
 public:
  class Member final : public ClusterService {
   public:
    Member(MemoryCluster& cluster, int32_t node_id, Executor& loop)
        : cluster_(cluster), node_id_(node_id), loop_(loop) {}
    ~Member() override { cluster_.forget(this); }

    const ClusterMetadata& current() const override { return cluster_.metadata_; }
    void update(const std::function<void(ClusterMetadata&)>& change,
                std::function<void(std::error_code)> done) override {
      change(cluster_.metadata_);
      cluster_.notify_all();
      loop_.post([done = std::move(done), alive = std::weak_ptr<bool>(alive_)] {
        if (alive.lock()) done({});
      });
    }
    void on_remote_change(std::function<void()> listener) override { listeners_.push_back(std::move(listener)); }
    std::vector<BrokerEndpoint> live_brokers() const override {
      std::vector<BrokerEndpoint> out;
      for (const auto& [id, endpoint] : cluster_.brokers_) out.push_back(endpoint);
      return out;
    }
    int32_t controller_id() const override { return cluster_.controller_; }
    void join(const BrokerEndpoint& self) override { cluster_.register_broker(self); }
    void leave() override { cluster_.expire(node_id_); }

   private:
    friend class MemoryCluster;
    void notify() {
      loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
        if (!alive.lock()) return;
        auto listeners = listeners_;
        for (auto& listener : listeners) listener();
      });
    }
    MemoryCluster& cluster_;
    int32_t node_id_;
    Executor& loop_;
    std::vector<std::function<void()>> listeners_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  };

  MemoryCluster() { metadata_.cluster_id = "memory-cluster"; }

  // A broker's view of the cluster, answering on `loop`. The broker registers through it when it starts.
  std::unique_ptr<Member> member(int32_t node_id, Executor& loop) {
    auto member = std::make_unique<Member>(*this, node_id, loop);
    members_.push_back(member.get());
    return member;
  }

  // The broker stopped renewing its registration (killed, lost power): it is no longer alive, and if it was the
  // controller another broker is.
  void expire(int32_t node_id) {
    if (!brokers_.erase(node_id)) return;
    if (controller_ == node_id) controller_ = brokers_.empty() ? -1 : brokers_.begin()->first;
    notify_all();
  }

  const ClusterMetadata& metadata() const { return metadata_; }

 private:
  void register_broker(const BrokerEndpoint& self) {
    brokers_[self.node_id] = self;
    if (controller_ < 0) controller_ = self.node_id;
    notify_all();
  }
  void notify_all() {
    for (auto* member : members_) member->notify();
  }
  void forget(Member* member) { std::erase(members_, member); }

  ClusterMetadata metadata_;
  std::map<int32_t, BrokerEndpoint> brokers_;
  int32_t controller_ = -1;
  std::vector<Member*> members_;
};

}  // namespace fjord::cluster::testing
