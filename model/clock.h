// Time, injected: production code asks a Clock, tests move a ManualClock forward.
#pragma once

#include <chrono>
#include <cstdint>

namespace fjord {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch: record timestamps, retention, ListOffsets by time.
  virtual int64_t now_ms() const = 0;
  // Milliseconds on a clock that never goes back: timeouts and intervals.
  virtual int64_t monotonic_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t monotonic_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_(start_ms), monotonic_(0) {}
  int64_t now_ms() const override { return now_; }
  int64_t monotonic_ms() const override { return monotonic_; }
  void advance(int64_t ms) {
    now_ += ms;
    monotonic_ += ms;
  }

 private:
  int64_t now_;
  int64_t monotonic_;
};

}  // namespace fjord
