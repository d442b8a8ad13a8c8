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
  // Appends the entries as one batch and calls `done` once they are durable (or failed).
  virtual void append(int32_t partition, std::vector<Entry> entries, Done done) = 0;
  // Calls `visit` for every record of every partition, in offset order within each partition.
  virtual void replay(const std::function<void(const Entry&)>& visit) = 0;
};

}  // namespace fjord::coordinator
