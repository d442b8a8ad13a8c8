// Blocking file work (fsync, index files, deleting directories) runs here, off the event loop. Completions are
// posted back to the Executor of the loop that asked, so callers never see another thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "model/executor.h"

namespace fjord::storage {

using IoCompletion = std::function<void(std::exception_ptr error)>;

class IoPool {
 public:
  virtual ~IoPool() = default;
  // Runs `work` on an I/O thread, then `done` on `completion_executor`.
  virtual void run(std::function<void()> work, Executor& completion_executor, IoCompletion done) = 0;
};

class ThreadIoPool final : public IoPool {
 public:
  explicit ThreadIoPool(int threads);
  ~ThreadIoPool() override;
  void run(std::function<void()> work, Executor& completion_executor, IoCompletion done) override;

 private:
  struct Job {
    std::function<void()> work;
    Executor* executor;
    IoCompletion done;
  };
  void loop();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Test-only in spirit: runs the work and the completion at once, on the caller's thread, so a test sees the exact
// order of events.
class InlineIoPool final : public IoPool {
 public:
  void run(std::function<void()> work, Executor&, IoCompletion done) override {
    std::exception_ptr error;
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
    done(error);
  }
};

// An Executor that runs each task immediately; for tests and for code already on its loop.
class InlineExecutor final : public Executor {
 public:
  void post(Task task) override { task(); }
};

}  // namespace fjord::storage
