// Test-only: the broker's loop for tests of the etcd cluster service, whose threads post to it; what they post runs
// on the test's thread inside run_until().
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "model/executor.h"

namespace fjord::cluster::testing {

class TestLoop final : public Executor {
 public:
  void post(Task task) override {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    ready_.notify_all();
  }
  // Runs what is posted until `done` holds (true) or `timeout` passes (what `done` says then).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      std::unique_lock lock(mutex_);
      if (!ready_.wait_until(lock, deadline, [&] { return !tasks_.empty(); })) return done();
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
    }
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Task> tasks_;
};

}  // namespace fjord::cluster::testing
