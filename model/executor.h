// Where work runs. Each partition and each connection belongs to one event loop; anything that finishes elsewhere
// (an fsync on an I/O thread) posts its completion back to the owner's Executor, so state is never shared between
// threads.
#pragma once

#include <functional>
#include <memory>

namespace fjord {

using Task = std::function<void()>;

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(Task task) = 0;
};

// A cancellable timer handle: destroying it or calling cancel() stops a task that has not run yet.
class TimerHandle {
 public:
  virtual ~TimerHandle() = default;
  virtual void cancel() = 0;
};

// Runs tasks later on the owner's loop.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::unique_ptr<TimerHandle> schedule_after(int64_t delay_ms, Task task) = 0;
};

}  // namespace fjord
