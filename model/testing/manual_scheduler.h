// Test-only: timers that fire when the test moves time, in deadline order.
#pragma once

#include <map>
#include <memory>

#include "model/clock.h"
#include "model/executor.h"

namespace fjord::testing {

class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(ManualClock& clock) : clock_(clock) {}

  std::unique_ptr<TimerHandle> schedule_after(int64_t delay_ms, Task task) override {
    auto id = next_id_++;
    timers_.emplace(std::make_pair(clock_.monotonic_ms() + delay_ms, id), std::move(task));
    return std::make_unique<Handle>(this, clock_.monotonic_ms() + delay_ms, id);
  }

  // Moves the clock forward by `ms`, running every timer that falls due, in order.
  void advance(int64_t ms) {
    int64_t target = clock_.monotonic_ms() + ms;
    while (!timers_.empty() && timers_.begin()->first.first <= target) {
      auto it = timers_.begin();
      clock_.advance(it->first.first - clock_.monotonic_ms());
      Task task = std::move(it->second);
      timers_.erase(it);
      task();
    }
    clock_.advance(target - clock_.monotonic_ms());
  }
  size_t pending() const { return timers_.size(); }

 private:
  class Handle final : public TimerHandle {
   public:
    Handle(ManualScheduler* owner, int64_t due, uint64_t id) : owner_(owner), key_(due, id) {}
    ~Handle() override { cancel(); }
    void cancel() override { owner_->timers_.erase(key_); }

   private:
    ManualScheduler* owner_;
    std::pair<int64_t, uint64_t> key_;
  };
  ManualClock& clock_;
  std::map<std::pair<int64_t, uint64_t>, Task> timers_;
  uint64_t next_id_ = 0;
};

}  // namespace fjord::testing
