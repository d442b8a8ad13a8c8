// The controller's decisions, as pure functions of the metadata and the brokers alive now, so that every rule is
// tested without a cluster. The broker holding the controller lease applies them through the metadata store
// (whose compare-and-swap re-runs them if anything changed meanwhile):
// - placement: each partition of a new topic (or new partitions of a grown one) gets replication-factor replicas
//   on distinct live brokers, spread round-robin from a per-topic starting point over the brokers ordered so that
//   racks alternate (broker.rack), so a partition's replicas are on as many racks as there are; the first is
//   leader, all are in sync, epoch 0;
// - failover: a partition whose leader is gone gets the first live member of its ISR as leader (epoch + 1); if
//   none is alive it goes offline (leader -1) and keeps its last ISR, so that the first of those to return takes
//   it again with nothing acknowledged lost — unless unclean.leader.election.enable lets any live replica lead;
// - fencing: a dead broker leaves every ISR it was in (the leader always stays), so acks=all counts only the
//   replicas that can still acknowledge;
// - preferred leaders (auto.leader.rebalance.enable): every leader.imbalance.check.interval.seconds, leadership
//   goes back to preferred replicas on the brokers whose imbalance exceeds leader.imbalance.per.broker.percentage
//   (leader_election.h).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cluster/membership.h"
#include "cluster/metadata_store.h"
#include "model/executor.h"

namespace fjord::cluster {

struct ControllerPolicy {
  // Whether `topic`'s configuration allows an out-of-sync replica to lead.
  std::function<bool(const TopicMetadata& topic)> unclean_election_allowed = [](const TopicMetadata&) { return false; };
  bool auto_leader_rebalance = false;
  int64_t imbalance_check_interval_ms = 300'000;
  int32_t imbalance_percentage = 10;
};

// The racks of the brokers that have one (broker.rack), by node id.
using BrokerRacks = std::map<int32_t, std::string>;

// Brings every assignment in line with `live_brokers` (ascending node ids). Returns whether anything changed.
bool plan_assignments(ClusterMetadata& metadata, const std::vector<int32_t>& live_brokers,
                      const ControllerPolicy& policy, const BrokerRacks& racks = {});

// The racks of the live brokers that have one.
BrokerRacks live_racks(const Membership& membership);

// A broker that restarted fences its own former self before it serves: every partition it led gets another leader
// (or goes offline when it was the last in-sync replica, until the controller hands it back), and it leaves every
// ISR, so that it rejoins as a follower that truncates and catches up. Kafka's controller does the same when a
// broker registers with a new incarnation. Returns whether anything changed.
bool fence_broker(ClusterMetadata& metadata, int32_t node, const std::vector<int32_t>& live_brokers,
                  const ControllerPolicy& policy);

// Node ids of the live brokers, ascending.
std::vector<int32_t> live_node_ids(const Membership& membership);

// Runs the plan whenever the metadata or the brokers change while this broker holds the controller lease.
class Controller {
 public:
  Controller(MetadataStore& metadata, const Membership& membership, int32_t self, ControllerPolicy policy,
             Scheduler& scheduler);
  ~Controller();
  void start();
  // Plans again now (and once more after a write in flight finishes).
  void run();

 private:
  void schedule_rebalance();
  void rebalance_leaders();

  MetadataStore& metadata_;
  const Membership& membership_;
  int32_t self_;
  ControllerPolicy policy_;
  Scheduler& scheduler_;
  std::unique_ptr<TimerHandle> rebalance_timer_;
  bool writing_ = false;
  bool again_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::cluster
