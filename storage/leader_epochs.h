// Which leader epoch wrote which offsets: the offset at which each epoch's first batch sits. A follower that
// takes a new leader asks it where the follower's latest epoch ends (OffsetForLeaderEpoch) and truncates there,
// so a tail written by a deposed leader, and never acknowledged by the in-sync replicas, is not kept. The file
// that persists it is described in storage/FORMAT.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fjord::storage {

struct EpochStart {
  int32_t epoch;
  int64_t start_offset;
  bool operator==(const EpochStart&) const = default;
};

struct EpochEndOffset {
  int32_t epoch = -1;       // the largest known epoch at or below the one asked for; -1 when none
  int64_t end_offset = -1;  // where the next epoch starts, or the log end for the latest epoch
};

class LeaderEpochs {
 public:
  // Records that `epoch` begins at `start_offset` when it is newer than every epoch known. Returns whether the
  // history changed (and so needs persisting).
  bool assign(int32_t epoch, int64_t start_offset);
  int32_t latest_epoch() const { return entries_.empty() ? -1 : entries_.back().epoch; }
  EpochEndOffset end_offset_for(int32_t epoch, int64_t log_end_offset) const;
  // Forgets epochs that begin at or after `end_offset` (the log was truncated there). Returns whether it changed.
  bool truncate_from_end(int64_t end_offset);
  const std::vector<EpochStart>& entries() const { return entries_; }

  std::vector<uint8_t> serialize() const;
  // nullopt when the bytes are not a well-formed history (the caller rebuilds one).
  static std::optional<LeaderEpochs> parse(std::span<const uint8_t> bytes);

 private:
  std::vector<EpochStart> entries_;  // ascending in both epoch and start offset
};

}  // namespace fjord::storage
