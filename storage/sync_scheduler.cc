#include "storage/sync_scheduler.h"

namespace fjord::storage {

SyncScheduler::SyncScheduler(IoPool& io, Executor& loop, FileSystem& fs, std::string data_directory, Limits limits)
    : io_(io), loop_(loop), fs_(fs), data_directory_(std::move(data_directory)), limits_(limits) {}

void SyncScheduler::submit(std::vector<std::shared_ptr<File>> files, Done done) {
  waiting_.push_back(Request{std::move(files), std::move(done)});
  pump();
}

void SyncScheduler::pump() {
  while (!waiting_.empty() && in_flight_ < limits_.max_in_flight) {
    ++in_flight_;
    if (waiting_.size() >= limits_.whole_file_system) {
      auto batch = std::make_shared<std::deque<Request>>(std::move(waiting_));
      waiting_.clear();
      ++file_system_syncs_;
      io_.run([this] { fs_.sync_file_system(data_directory_); }, loop_,
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
        [request] {
          for (const auto& file : request->files) file->sync();
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
