// For the lag engine in a cluster: what it needs to know of a partition another broker leads, asked of that
// leader the way any consumer would. Each sample the engine names the partitions and the offsets its groups
// committed there; one Fetch per leader (read_committed, no wait) answers the last stable offset, the log start
// and, where the group is behind, the records at the committed offset, whose first timestamp is kept per offset
// (a record's timestamp never changes). Answers arrive on the event loop after the sample that asked, so the
// engine reports a remote partition one interval late; one request per leader is in flight at a time, and a
// leader that does not answer leaves its partitions out until it does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "cluster/broker_channels.h"

namespace fjord::observe {

class RemotePartitions {
 public:
  using Key = std::pair<std::string, int32_t>;  // topic, partition
  struct State {
    int64_t end_offset = -1;  // the last stable offset: what a read_committed consumer can read to
    int64_t log_start_offset = -1;
    int64_t timestamp_offset = -1;  // the committed offset `timestamp` belongs to (-1: none known)
    int64_t timestamp = -1;         // of the first record at or after timestamp_offset
  };

  explicit RemotePartitions(cluster::BrokerChannels& channels);
  ~RemotePartitions();

  // Asks each leader about its partitions at the given offsets. `wanted`: (topic, partition) -> (leader node,
  // committed offset). Partitions not wanted any more are forgotten.
  void refresh(const std::map<Key, std::pair<int32_t, int64_t>>& wanted);
  const State* find(const Key& key) const;

 private:
  cluster::BrokerChannels& channels_;
  std::map<Key, State> states_;
  std::set<int32_t> in_flight_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::observe
