#include "storage/sync_scheduler.h"

#include <chrono>

namespace fjord::storage {
namespace {

// Runs `work` and records how long it took.
template <typename Work>
void timed(prometheus::Histogram* histogram, Work&& work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  if (histogram) {
    histogram->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}

}  // namespace

SyncScheduler::SyncScheduler(IoPool& io, Executor& loop, FileSystem& fs, std::string data_directory, Limits limits)
    : io_(io), loop_(loop), fs_(fs), data_directory_(std::move(data_directory)), limits_(limits) {}

void SyncScheduler::submit(Job job, Done done) {
  waiting_.push_back(Request{std::move(job), std::move(done)});
  pump();
}

void SyncScheduler::pump() {
  while (!waiting_.empty() && in_flight_ < limits_.max_in_flight) {
    ++in_flight_;
    if (waiting_.size() >= limits_.whole_file_system) {
      auto batch = std::make_shared<std::deque<Request>>(std::move(waiting_));
      waiting_.clear();
      ++file_system_syncs_;
      // One failed preparation fails the whole round: its syncfs would cover bytes of an unknown state.
      io_.run(
          [this, batch] {
            for (const auto& request : *batch) {
              if (request.job.prepare) request.job.prepare();
            }
            timed(latency_, [this] { fs_.sync_file_system(data_directory_); });
          },
          loop_,
          [this, batch](std::exception_ptr error) {
            --in_flight_;
            for (auto& request : *batch) request.done(error);
            pump();
          });
      return;
    }
    auto request = std::make_shared<Request>(std::move(waiting_.front()));
    waiting_.pop_front();
    io_.run(
        [this, request] {
          const auto& job = request->job;
          if (job.prepare) job.prepare();
          timed(latency_, [&job, this] {
            for (const auto& file : job.files) file->sync();
            for (const auto& directory : job.directories) fs_.sync_directory(directory);
          });
        },
        loop_,
        [this, request](std::exception_ptr error) {
          --in_flight_;
          request->done(error);
          pump();
        });
  }
}

}  // namespace fjord::storage
