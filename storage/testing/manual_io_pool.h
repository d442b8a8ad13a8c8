// Test-only: holds I/O jobs until the test runs them, so a test can append while an fsync is "in flight".
#pragma once

#include <deque>

#include "storage/io_pool.h"

namespace fjord::storage::testing {

class ManualIoPool final : public IoPool {
 public:
  void run(std::function<void()> work, Executor&, IoCompletion done) override {
    jobs_.push_back({std::move(work), std::move(done)});
  }
  size_t pending() const { return jobs_.size(); }
  // Forgets every job unrun, completions included (the process died with them).
  void discard() { jobs_.clear(); }
  // Runs the oldest job and its completion. Returns false when there is none.
  bool run_one() {
    if (jobs_.empty()) return false;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    std::exception_ptr error;
    try {
      job.first();
    } catch (...) {
      error = std::current_exception();
    }
    job.second(error);
    return true;
  }
  // Runs jobs until none is left (including any the completions queue). Returns how many ran.
  size_t run_all() {
    size_t ran = 0;
    while (run_one()) ++ran;
    return ran;
  }

 private:
  std::deque<std::pair<std::function<void()>, IoCompletion>> jobs_;
};

}  // namespace fjord::storage::testing
