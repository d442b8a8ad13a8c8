// The verdict of a chaos run, computed from what the producer had acknowledged and what the members journaled.
// Pure: every input is a plain list, so the rules are unit-tested on hand-made histories.
//
//   lost        acknowledged, never processed
//   skipped     lost records that processing went past: a later offset of the same partition was processed
//   moved       processed at a partition/offset other than the one its acknowledgement named (an idempotent
//               producer reports records without an offset when a later batch's success is what confirmed them:
//               those name no place, so they cannot have moved, nor be told skipped)
//   duplicated  processings beyond the first of a record; absorbed: those the idempotent sink turned away
//   rebalances  episodes of assignment callbacks (callbacks less than episode_gap_ms apart form one) in which a
//               member that was already running took part; a restarted static member rejoining with its old
//               assignment, a member's own revocation as it closes, or the group forming, is not one
//   pause       for a partition, the longest time between two of its processings; a rebalance's pause is the
//               longest over partitions of the gap that spans its start, a fault's the longest within its window
//               (which runs to the next fault). Stop-the-world shows as revocations: an eager rebalance revokes
//               every partition, however briefly; a cooperative one only those that move.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chaos/journal.h"

namespace fjord::chaos {

struct Ack {
  int64_t seq = 0;
  int32_t partition = 0;
  int64_t offset = 0;
};

struct Fault {
  std::string kind;      // kill, restart, rolling, scale, broker
  std::string instance;  // the member process it hit (empty for scale and broker)
  int64_t at_ms = 0;
  int64_t batch_started_ms = 0;  // kills: when the batch it interrupted started (0: it was between batches)
};

struct RebalanceEpisode {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int instances = 0;           // members that had callbacks in it
  int revoked_partitions = 0;  // partitions taken from their owner (eager: every one; cooperative: those that move)
  int paused_partitions = 0;   // whose gap over it exceeded the pause threshold
  int64_t max_pause_ms = 0;
};

struct FaultOutcome {
  Fault fault;
  // Kills: records the member had processed in the batch the kill interrupted. A batch is committed only after
  // its last record, so these were processed and not committed: the kill landed mid-batch.
  int64_t uncommitted_at_kill = 0;
  int rebalances = 0;
  int revoked_partitions = 0;  // revocations in its window: how much of the group stopped, however briefly
  int paused_partitions = 0;
  int64_t max_pause_ms = 0;
  int64_t others_max_pause_ms = 0;  // partitions that member did not own: the stop-the-world measure
};

struct VerifyOptions {
  int64_t pause_threshold_ms = 1000;
  int64_t episode_gap_ms = 1000;
  int64_t end_ms = 0;       // when production ended: fault windows close here
  int64_t shutdown_ms = 0;  // when the run began stopping its members: later callbacks are not rebalances
  int64_t formed_ms = 0;    // when the group had formed and settled: earlier callbacks are the group forming
};

struct Verdict {
  uint64_t produced = 0;
  uint64_t acknowledged = 0;
  uint64_t processed = 0;   // distinct acknowledged records processed
  uint64_t deliveries = 0;  // processings, duplicates included
  uint64_t lost = 0;
  uint64_t skipped = 0;
  uint64_t moved = 0;
  uint64_t duplicated = 0;
  uint64_t absorbed = 0;
  uint64_t processed_unacknowledged = 0;  // the write landed although the producer saw an error
  std::vector<Ack> lost_examples;         // the first few
  uint64_t kills = 0;
  uint64_t kills_mid_batch = 0;
  uint64_t uncommitted_at_kills = 0;
  std::vector<RebalanceEpisode> rebalances;
  std::vector<FaultOutcome> faults;
  bool passed() const { return acknowledged > 0 && lost == 0 && moved == 0; }
};

Verdict verify(uint64_t produced, const std::vector<Ack>& acks, const std::vector<Delivery>& deliveries,
               const std::vector<RebalanceRecord>& rebalances, const std::vector<Fault>& faults,
               const VerifyOptions& options);

// "member-2#3" -> "member-2": the slot a member process filled.
std::string slot_of(const std::string& instance);

}  // namespace fjord::chaos
