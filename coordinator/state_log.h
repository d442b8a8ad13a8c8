// Where a coordinator's records live: the partitions of an internal, compacted topic (__consumer_offsets for
// groups, __transaction_state for transactions). The coordinator only appends and, when it takes a partition
// on, reads it back; an in-memory implementation serves its unit tests.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "model/error_codes.h"
#include "protocol/codec_runtime.h"

namespace fjord::coordinator {

class StateLog {
 public:
  struct Entry {
    protocol::Bytes key;
    std::optional<protocol::Bytes> value;  // nullopt: a tombstone, the key is deleted
    // Written in a producer's transaction (TxnOffsetCommit): it counts only once that transaction commits.
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    // Set on what a read returns for a transaction marker (no key, no value): whether producer_id's transaction
    // in this partition committed.
    std::optional<bool> marker_commit;
  };
  using Done = std::function<void(ErrorCode)>;

  virtual ~StateLog() = default;
  virtual int32_t partition_count() const = 0;
  // Makes sure the partitions exist (creating the internal topic when missing); false while they do not yet.
  virtual bool ensure_partitions() { return true; }
  // Appends the entries as one batch and calls `done` once they are durable (or failed).
  virtual void append(int32_t partition, std::vector<Entry> entries, Done done) = 0;
  // The same, as part of a producer's transaction: a transactional batch of that producer id and epoch, whose
  // entries count once the transaction's marker commits them.
  virtual void append_transactional(int32_t partition, int64_t producer_id, int16_t producer_epoch,
                                    std::vector<Entry> entries, Done done) = 0;
  // Reads one partition's records back (entries and transaction markers), in offset order, without blocking the loop:
  // `chunk` runs on the loop with each run of entries read (several, for a long history), then `done` once (false: it
  // could not be read).
  virtual void read_partition(int32_t partition, std::function<void(std::vector<Entry>)> chunk,
                              std::function<void(bool ok)> done) = 0;
};

}  // namespace fjord::coordinator
