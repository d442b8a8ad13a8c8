// What the lag engine concludes from a group's partition over time: its velocity (how fast lag grows), its
// status in Burrow's vocabulary, and how long until retention deletes the first record the group has not read.
// Pure: samples in, conclusions out, so every case is tested with made-up times.
//
// Statuses (PRODUCT.md's words in brackets), the first that applies:
// - OK [ok]: nothing is waiting (lag 0), whatever happened before. An idle topic with a caught-up group is OK.
// - REWIND: the committed offset went back within the window (an offset reset, a replay).
// - STALL [stalled]: records have waited a whole window and the committed offset has not moved, although the
//   group keeps committing (the same offset: a consumer stuck on a record while its auto-commit runs on).
// - STOP [stopped]: records have waited a whole window and nothing was committed in it (the consumers are gone
//   or stuck). Members' heartbeats do not matter: a live member that does not commit is stopped too.
// - ERR [critical]: lag in seconds at or past the critical threshold (the SLO breach point).
// - WARN [warning]: lag in seconds at or past the warning threshold, or lag that grew at every sample of a full
//   window (Burrow's rule: the consumer moves but falls behind).
// A group's status is its worst partition's, in the order OK < REWIND < WARN < ERR < STOP < STALL.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

namespace fjord::observe {

enum class LagStatus : int { kOk = 0, kRewind = 1, kWarn = 2, kErr = 3, kStop = 4, kStall = 5 };

std::string_view status_name(LagStatus status);
// ERR, STOP and STALL: someone should look now (`fjord lag` exits non-zero, the critical alert fires).
bool needs_attention(LagStatus status);

struct LagThresholds {
  int64_t window_ms = 60'000;
  double warning_seconds = 60;
  double critical_seconds = 300;
};

struct LagSample {
  int64_t at_ms = 0;  // monotonic
  int64_t committed_offset = -1;
  int64_t commit_timestamp_ms = -1;  // wall clock, when the coordinator took the last commit
  int64_t end_offset = 0;            // what the group can read to
  int64_t lag = 0;
  double lag_seconds = 0;
};

class PartitionLagHistory {
 public:
  void add(const LagSample& sample, const LagThresholds& thresholds);

  const LagSample& latest() const { return samples_.back(); }
  // Lag change per second over the window (over what has been seen of it; 0 with a single sample).
  double velocity() const;
  // Records produced per second over the window (the log end's rate).
  double produce_rate() const;
  LagStatus status(int64_t now_wall_ms, const LagThresholds& thresholds) const;

 private:
  std::deque<LagSample> samples_;  // oldest first, the first at or just before the window's start
  int64_t waiting_since_ms_ = -1;  // monotonic: since when records have waited at this committed offset
  int64_t rewound_at_ms_ = -1;     // monotonic: when the committed offset last went back
};

// How long until retention deletes the first record a group has not read, from the log's outlook for it
// (storage::Log::retention_outlook) and the rate bytes are appended; nullopt when nothing limits it.
std::optional<double> seconds_to_data_loss(std::optional<int64_t> deletable_at_ms,
                                           std::optional<int64_t> bytes_until_deleted, double bytes_per_second,
                                           int64_t now_wall_ms);

}  // namespace fjord::observe
