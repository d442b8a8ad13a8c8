// Moving a partition's replicas (AlterPartitionReassignments), as pure functions of the metadata, in Kafka's
// steps:
// - start: the replicas become the target followed by the old replicas not in it; `adding` are the target's new
//   brokers and `removing` the old ones leaving. The new brokers open the partition and follow its leader
//   (replica manager); the leader takes each into the ISR once it has caught up (Partition::wanted_isr).
// - complete: once every target replica is in the ISR, the replicas and the ISR become the target's and, when
//   the leader is leaving, the first target replica in the ISR leads (leader epoch + 1). The leader's ISR change
//   completes it in the same write, and the controller on any other change; a removed broker then drops its
//   copy.
// - cancel (null replicas): the replicas go back to the old ones, the ISR loses the brokers being added, and a
//   leader that was being added hands the lead to the first old replica in the ISR.
// A new reassignment of a partition that is still moving starts from its current replicas (those being added
// included), as Kafka's does. Every change bumps the partition epoch, so a leader's ISR change based on the
// assignment before it is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster/metadata_store.h"
#include "model/error_codes.h"

namespace fjord::cluster {

struct ReassignmentOutcome {
  ErrorCode error = ErrorCode::kNone;
  std::string message;  // empty when there is nothing to say beyond the code
};

// Starts moving `topic`'s partition `index` to `target` (placement order, first is preferred leader), or cancels
// its reassignment when `target` is nullopt. `brokers` are the registered brokers: a target naming any other is
// refused, as are duplicates and an empty target (INVALID_REPLICA_ASSIGNMENT); so is a target of another size
// when `allow_replication_factor_change` is false (INVALID_REPLICATION_FACTOR). Cancelling a partition that is
// not moving is NO_REASSIGNMENT_IN_PROGRESS.
ReassignmentOutcome reassign(ClusterMetadata& metadata, const std::string& topic, int32_t index,
                             const std::optional<std::vector<int32_t>>& target, const std::vector<int32_t>& brokers,
                             bool allow_replication_factor_change = true);

struct ReassignmentRequest {
  std::string topic;
  int32_t partition = 0;
  std::optional<std::vector<int32_t>> replicas;  // nullopt cancels
};

// reassign() for each request, in order; one outcome per request.
std::vector<ReassignmentOutcome> reassign_all(ClusterMetadata& metadata,
                                              const std::vector<ReassignmentRequest>& requests,
                                              const std::vector<int32_t>& brokers,
                                              bool allow_replication_factor_change = true);

// Completes `a`'s reassignment if every target replica is in its ISR; the new leader, when one is needed, is
// the first target replica in the ISR that is in `live` (any, when `live` is empty). Returns whether it did.
bool complete_reassignment(PartitionAssignment& a, const std::vector<int32_t>& live = {});

// The target of a reassignment in progress: the replicas without the ones being removed.
std::vector<int32_t> reassignment_target(const PartitionAssignment& a);

}  // namespace fjord::cluster
