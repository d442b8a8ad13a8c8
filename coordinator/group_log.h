// Where the group coordinator's records live: the partitions of the internal __consumer_offsets topic. The
// coordinator only appends and, at start, replays; an in-memory implementation serves its unit tests.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "model/error_codes.h"
#include "protocol/codec_runtime.h"

namespace fjord::coordinator {

class GroupLog {
 public:
  struct Entry {
    protocol::Bytes key;
    std::optional<protocol::Bytes> value;  // nullopt: a tombstone, the key is deleted
  };
  using Done = std::function<void(ErrorCode)>;

  virtual ~GroupLog() = default;
  virtual int32_t partition_count() const = 0;
  // Makes sure the partitions exist (creating the internal topic when missing); false while they do not yet.
  virtual bool ensure_partitions() { return true; }
  // Appends the entries as one batch and calls `done` once they are durable (or failed).
  virtual void append(int32_t partition, std::vector<Entry> entries, Done done) = 0;
  // Calls `visit` for every record of one partition, in offset order.
  virtual void replay_partition(int32_t partition, const std::function<void(const Entry&)>& visit) = 0;
  // Every partition, one after the other.
  void replay(const std::function<void(const Entry&)>& visit) {
    for (int32_t p = 0; p < partition_count(); ++p) replay_partition(p, visit);
  }
};

}  // namespace fjord::coordinator
