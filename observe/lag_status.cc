#include "observe/lag_status.h"

#include <algorithm>

namespace fjord::observe {

std::string_view status_name(LagStatus status) {
  switch (status) {
    case LagStatus::kOk:
      return "OK";
    case LagStatus::kRewind:
      return "REWIND";
    case LagStatus::kWarn:
      return "WARN";
    case LagStatus::kErr:
      return "ERR";
    case LagStatus::kStop:
      return "STOP";
    case LagStatus::kStall:
      return "STALL";
  }
  return "OK";
}

bool needs_attention(LagStatus status) { return status >= LagStatus::kErr; }

void PartitionLagHistory::add(const LagSample& sample, const LagThresholds& thresholds) {
  if (!samples_.empty()) {
    const LagSample& previous = samples_.back();
    if (sample.committed_offset < previous.committed_offset) rewound_at_ms_ = sample.at_ms;
    if (sample.committed_offset != previous.committed_offset) waiting_since_ms_ = -1;
  }
  if (sample.lag <= 0) {
    waiting_since_ms_ = -1;
  } else if (waiting_since_ms_ < 0) {
    waiting_since_ms_ = sample.at_ms;
  }
  samples_.push_back(sample);
  // Keep one sample at or before the window's start, so that the window is measured whole.
  while (samples_.size() > 2 && samples_[1].at_ms <= sample.at_ms - thresholds.window_ms) samples_.pop_front();
}

double PartitionLagHistory::velocity() const {
  const LagSample& first = samples_.front();
  const LagSample& last = samples_.back();
  if (last.at_ms <= first.at_ms) return 0;
  return static_cast<double>(last.lag - first.lag) * 1000.0 / static_cast<double>(last.at_ms - first.at_ms);
}

double PartitionLagHistory::produce_rate() const {
  const LagSample& first = samples_.front();
  const LagSample& last = samples_.back();
  if (last.at_ms <= first.at_ms) return 0;
  return static_cast<double>(std::max<int64_t>(0, last.end_offset - first.end_offset)) * 1000.0 /
         static_cast<double>(last.at_ms - first.at_ms);
}

LagStatus PartitionLagHistory::status(int64_t now_wall_ms, const LagThresholds& thresholds) const {
  const LagSample& last = samples_.back();
  if (last.lag <= 0) return LagStatus::kOk;
  if (rewound_at_ms_ >= 0 && last.at_ms - rewound_at_ms_ < thresholds.window_ms) return LagStatus::kRewind;
  if (waiting_since_ms_ >= 0 && last.at_ms - waiting_since_ms_ >= thresholds.window_ms) {
    const bool committing =
        last.commit_timestamp_ms >= 0 && now_wall_ms - last.commit_timestamp_ms < thresholds.window_ms;
    return committing ? LagStatus::kStall : LagStatus::kStop;
  }
  if (last.lag_seconds >= thresholds.critical_seconds) return LagStatus::kErr;
  if (last.lag_seconds >= thresholds.warning_seconds) return LagStatus::kWarn;
  // Growing at every step of a whole window: consuming, but not keeping up.
  const LagSample& first = samples_.front();
  if (samples_.size() >= 3 && last.at_ms - first.at_ms >= thresholds.window_ms) {
    bool growing = true;
    for (size_t i = 1; i < samples_.size() && growing; ++i) growing = samples_[i].lag > samples_[i - 1].lag;
    if (growing) return LagStatus::kWarn;
  }
  return LagStatus::kOk;
}

std::optional<double> seconds_to_data_loss(std::optional<int64_t> deletable_at_ms,
                                           std::optional<int64_t> bytes_until_deleted, double bytes_per_second,
                                           int64_t now_wall_ms) {
  std::optional<double> seconds;
  if (deletable_at_ms) seconds = std::max<double>(0, static_cast<double>(*deletable_at_ms - now_wall_ms) / 1000.0);
  if (bytes_until_deleted) {
    if (*bytes_until_deleted <= 0) {
      seconds = 0;
    } else if (bytes_per_second > 0) {
      const double by_size = static_cast<double>(*bytes_until_deleted) / bytes_per_second;
      seconds = seconds ? std::min(*seconds, by_size) : by_size;
    }
  }
  return seconds;
}

}  // namespace fjord::observe
