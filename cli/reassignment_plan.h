// Where `fjord topic reassign` and `fjord cluster drain` move replicas, as pure functions of where they are now:
// each keeps the replicas it can (a replica that stays copies nothing) and fills the rest with the brokers that
// hold the fewest replicas so far, so that a move spreads the new copies rather than piling them on one broker.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fjord::cli {

struct Placement {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> replicas;  // placement order: the first is the preferred leader
};

// Every partition of `current` onto `brokers`, keeping its replication factor. Throws std::invalid_argument when
// there are fewer brokers than a partition has replicas.
std::vector<Placement> plan_onto(const std::vector<Placement>& current, const std::vector<int32_t>& brokers);

// Every partition of `current` with a replica on `broker` gets another of `brokers` in its place, at the end (the
// broker's preferred leaderships go to the next replica, which is in sync already). Throws std::invalid_argument
// when a partition has no broker left to take the replica. Partitions not on `broker` are left out.
std::vector<Placement> plan_drain(const std::vector<Placement>& current, int32_t broker,
                                  const std::vector<int32_t>& brokers);

// Kafka's throttled-replica lists for moving `from` to `to` (same partitions, same order), per topic: the leader
// side names every current replica (any may lead while the copy is made), the follower side the new ones.
struct ThrottledReplicas {
  std::string leader;
  std::string follower;
};
std::map<std::string, ThrottledReplicas> throttled_replicas(const std::vector<Placement>& from,
                                                            const std::vector<Placement>& to);

}  // namespace fjord::cli
