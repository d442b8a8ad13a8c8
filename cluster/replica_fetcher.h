// A follower's half of replication: for each leader this broker follows partitions of, one connection that first
// asks the leader where this replica's latest leader epoch ends (OffsetForLeaderEpoch) and truncates anything
// past it, then fetches with its own node id as replica id, over and over, appending the leader's batches as
// they are and taking the leader's high watermark. The leader learns what this replica has from each fetch
// offset, which is what moves its high watermark. Runs on the broker's event loop, one request in flight per
// connection; partitions are looked up by name after every wait, since they may be gone or have changed role.
#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cluster/broker_link.h"
#include "cluster/membership.h"
#include "cluster/partition_manager.h"

namespace fjord::cluster {

struct FetcherSettings {
  int32_t max_wait_ms = 500;
  int32_t partition_max_bytes = 1 << 20;
  int32_t max_bytes = 16 << 20;
  int64_t retry_backoff_ms = 200;
};

class ReplicaFetcher {
 public:
  // `links` makes the connections to leaders (TLS and SASL on a secured inter-broker listener); plaintext by
  // default.
  ReplicaFetcher(asio::io_context& io, PartitionManager& partitions, const Membership& membership,
                 FetcherSettings settings, BrokerLinkFactory links = {});
  ~ReplicaFetcher();
  ReplicaFetcher(const ReplicaFetcher&) = delete;
  ReplicaFetcher& operator=(const ReplicaFetcher&) = delete;

  // Call after roles changed: starts a session for every leader that followed partitions now point to.
  // Sessions end by themselves when nothing follows their leader any more.
  void refresh();
  void stop();

 private:
  using Key = std::pair<std::string, int32_t>;
  class Session;
  friend class Session;
  std::vector<Key> followed_from(int32_t leader) const;
  // Whether this replica of `key` is out of sync and named by follower.replication.throttled.replicas, so that
  // what it fetches counts against follower.replication.throttled.rate.
  bool throttled(const Key& key) const;

  asio::io_context& io_;
  PartitionManager& partitions_;
  const Membership& membership_;
  FetcherSettings settings_;
  BrokerLinkFactory links_;
  std::map<int32_t, std::shared_ptr<Session>> sessions_;
  // The leader epoch each followed partition last checked its tail against; a new epoch needs a new check.
  std::map<Key, int32_t> truncation_checked_;
  bool stopped_ = false;
};

}  // namespace fjord::cluster
