#include "storage/io_pool.h"

namespace fjord::storage {

ThreadIoPool::ThreadIoPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

ThreadIoPool::~ThreadIoPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadIoPool::run(std::function<void()> work, Executor& completion_executor, IoCompletion done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(Job{std::move(work), &completion_executor, std::move(done)});
  }
  wake_.notify_one();
}

void ThreadIoPool::loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and every queued job has run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::exception_ptr error;
    try {
      job.work();
    } catch (...) {
      error = std::current_exception();
    }
    job.executor->post([done = std::move(job.done), error] { done(error); });
  }
}

}  // namespace fjord::storage
