// How late the event loop runs what is due: a timer asks to run every interval and records how far past its due
// time it actually ran. Anything that blocks the loop (a sync, a long scan, a replay) shows up here as lag, for
// every client of this broker at once.
#pragma once

#include <prometheus/histogram.h>

#include <chrono>
#include <memory>

#include "model/executor.h"
#include "model/metrics.h"

namespace fjord::server {

class LoopLagProbe {
 public:
  LoopLagProbe(Metrics& metrics, Scheduler& scheduler, int64_t interval_ms = 100)
      : lag_(metrics.histogram("fjord_event_loop_lag_seconds",
                               "How late the event loop ran a timer that was due (sampled every 100 ms)",
                               {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1})),
        scheduler_(scheduler),
        interval_ms_(interval_ms) {
    schedule();
  }

 private:
  void schedule() {
    const auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms_);
    timer_ = scheduler_.schedule_after(interval_ms_, [this, due] {
      const auto late = std::chrono::steady_clock::now() - due;
      lag_.Observe(std::max(0.0, std::chrono::duration<double>(late).count()));
      schedule();
    });
  }

  prometheus::Histogram& lag_;
  Scheduler& scheduler_;
  int64_t interval_ms_;
  std::unique_ptr<TimerHandle> timer_;
};

}  // namespace fjord::server
