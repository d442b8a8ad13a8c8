#include "cluster/reassignment.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace fjord::cluster {
namespace {

bool contains(const std::vector<int32_t>& nodes, int32_t node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

std::vector<int32_t> without(const std::vector<int32_t>& nodes, const std::vector<int32_t>& removed) {
  std::vector<int32_t> kept;
  for (int32_t n : nodes) {
    if (!contains(removed, n)) kept.push_back(n);
  }
  return kept;
}

// The first of `candidates` that is in the ISR (and alive, when `live` is known); -1 when there is none.
int32_t first_in_sync(const std::vector<int32_t>& candidates, const std::vector<int32_t>& isr,
                      const std::vector<int32_t>& live) {
  for (int32_t n : candidates) {
    if (contains(isr, n) && (live.empty() || contains(live, n))) return n;
  }
  return -1;
}

void lead(PartitionAssignment& a, int32_t leader) {
  if (a.leader == leader) return;
  a.leader = leader;
  ++a.leader_epoch;
}

ReassignmentOutcome cancel(PartitionAssignment& a) {
  if (!a.reassigning()) return {ErrorCode::kNoReassignmentInProgress, "No reassignment is in progress."};
  auto original = without(a.replicas, a.adding);
  auto isr = without(a.isr, a.adding);
  if (isr.empty()) {
    return {ErrorCode::kInvalidReplicaAssignment,
            "None of the original replicas is in sync: cancelling now would lose acknowledged records."};
  }
  if (!contains(original, a.leader)) lead(a, first_in_sync(original, isr, {}));
  a.replicas = std::move(original);
  a.isr = std::move(isr);
  a.adding.clear();
  a.removing.clear();
  ++a.partition_epoch;
  return {};
}

}  // namespace

std::vector<int32_t> reassignment_target(const PartitionAssignment& a) { return without(a.replicas, a.removing); }

ReassignmentOutcome reassign(ClusterMetadata& metadata, const std::string& topic, int32_t index,
                             const std::optional<std::vector<int32_t>>& target, const std::vector<int32_t>& brokers,
                             bool allow_replication_factor_change) {
  auto it = metadata.topics.find(topic);
  if (it == metadata.topics.end() || index < 0 || index >= it->second.partitions) {
    return {ErrorCode::kUnknownTopicOrPartition, "Unable to find partition " + topic + "-" + std::to_string(index)};
  }
  if (static_cast<size_t>(index) >= it->second.assignments.size()) {
    if (!target) return {ErrorCode::kNoReassignmentInProgress, "No reassignment is in progress."};
    return {ErrorCode::kInvalidReplicaAssignment,
            "The partition has no replicas to move: it is not placed yet, or this broker runs alone."};
  }
  auto& a = it->second.assignments[static_cast<size_t>(index)];
  if (!target) return cancel(a);
  if (target->empty()) return {ErrorCode::kInvalidReplicaAssignment, "The target replica list is empty."};
  if (std::set<int32_t>(target->begin(), target->end()).size() != target->size()) {
    return {ErrorCode::kInvalidReplicaAssignment, fmt::format("Duplicate brokers in [{}].", fmt::join(*target, ","))};
  }
  for (int32_t b : *target) {
    if (!contains(brokers, b)) {
      return {ErrorCode::kInvalidReplicaAssignment, fmt::format("Broker {} is not registered.", b)};
    }
  }
  const auto original = without(a.replicas, a.adding);
  if (!allow_replication_factor_change && target->size() != original.size()) {
    return {ErrorCode::kInvalidReplicationFactor,
            fmt::format("The reassignment would change the replication factor from {} to {}.", original.size(),
                        target->size())};
  }
  auto adding = without(*target, a.replicas);
  auto removing = without(a.replicas, *target);
  auto replicas = *target;
  replicas.insert(replicas.end(), removing.begin(), removing.end());
  if (replicas == a.replicas && adding == a.adding && removing == a.removing) return {};
  a.replicas = std::move(replicas);
  a.adding = std::move(adding);
  a.removing = std::move(removing);
  ++a.partition_epoch;
  // A target the ISR already covers (fewer replicas, a new order) completes at once.
  complete_reassignment(a, brokers);
  return {};
}

std::vector<ReassignmentOutcome> reassign_all(ClusterMetadata& metadata,
                                              const std::vector<ReassignmentRequest>& requests,
                                              const std::vector<int32_t>& brokers,
                                              bool allow_replication_factor_change) {
  std::vector<ReassignmentOutcome> outcomes;
  outcomes.reserve(requests.size());
  for (const auto& r : requests) {
    outcomes.push_back(reassign(metadata, r.topic, r.partition, r.replicas, brokers, allow_replication_factor_change));
  }
  return outcomes;
}

bool complete_reassignment(PartitionAssignment& a, const std::vector<int32_t>& live) {
  if (!a.reassigning()) return false;
  auto target = reassignment_target(a);
  for (int32_t r : target) {
    if (!contains(a.isr, r)) return false;
  }
  a.isr = without(a.isr, a.removing);
  if (!contains(target, a.leader)) {
    int32_t next = first_in_sync(target, a.isr, live);
    lead(a, next >= 0 ? next : first_in_sync(target, a.isr, {}));
  }
  a.replicas = std::move(target);
  a.adding.clear();
  a.removing.clear();
  ++a.partition_epoch;
  return true;
}

}  // namespace fjord::cluster
