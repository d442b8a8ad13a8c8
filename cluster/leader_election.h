// Moving leadership on purpose, as pure functions of the metadata and the brokers alive now (the failover after a
// broker's death is the controller's, in controller.h):
// - preferred-leader election (ElectLeaders, auto.leader.rebalance.enable): the first replica in placement order
//   leads again once it is alive and in sync, so that leaders spread as placement intended after a restart;
// - unclean election (ElectLeaders type 1): an offline partition gets its first live replica as leader, accepting
//   the loss of whatever only the old in-sync replicas held;
// - controlled shutdown: a broker about to stop hands every partition it leads to another live in-sync replica
//   and leaves the ISRs it is in, while it still serves, so that clients see a retriable leader change rather
//   than a broker that vanished.
// Every change bumps the partition epoch, and a change of leader the leader epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/metadata_store.h"
#include "model/error_codes.h"

namespace fjord::cluster {

enum class ElectionType : int8_t { kPreferred = 0, kUnclean = 1 };

// Elects `a`'s leader by `type`. kNone when the leader changed; kElectionNotNeeded when the preferred replica
// already leads (or, unclean, when there is a leader); kPreferredLeaderNotAvailable when the preferred replica is
// not alive or not in sync; kEligibleLeadersNotAvailable when no replica is alive for an unclean election.
ErrorCode elect_leader(PartitionAssignment& a, ElectionType type, const std::vector<int32_t>& live_brokers);

// Kafka's automatic leader rebalance: for each live broker whose share of partitions it prefers but does not lead
// exceeds `imbalance_percentage`, each of those partitions whose preferred replica is alive and in sync gets it
// back as leader. Returns how many leaders moved.
int rebalance_preferred_leaders(ClusterMetadata& metadata, const std::vector<int32_t>& live_brokers,
                                int32_t imbalance_percentage);

struct ElectionTarget {
  std::string topic;
  std::vector<int32_t> partitions;
};

struct ElectionOutcome {
  std::string topic;
  struct Partition {
    int32_t index = 0;
    ErrorCode error = ErrorCode::kNone;
    std::string message;  // empty when there is nothing to say beyond the code
  };
  std::vector<Partition> partitions;
};

// An ElectLeaders request applied to `metadata`: each targeted partition elected by `type`, with its outcome.
// Without targets (null in the request) every partition is tried, and, as Kafka does, those that needed no
// election are left out of the outcomes. A topic not placed by a controller (a single node) has no other replica
// to elect: ELECTION_NOT_NEEDED.
std::vector<ElectionOutcome> elect_leaders(ClusterMetadata& metadata, ElectionType type,
                                           const std::optional<std::vector<ElectionTarget>>& targets,
                                           const std::vector<int32_t>& live_brokers);

struct HandOff {
  int moved = 0;     // partitions `node` led that now have another leader
  int kept = 0;      // partitions it leads with no other live in-sync replica: they go offline when it stops
  int left_isr = 0;  // partitions it followed whose ISR it left
};

// Controlled shutdown of `node`: every partition it leads goes to the first other live replica in its ISR (in
// placement order), and it leaves every other ISR it is in. A partition it leads alone stays with it.
HandOff hand_off_leadership(ClusterMetadata& metadata, int32_t node, const std::vector<int32_t>& live_brokers);

}  // namespace fjord::cluster
