// Carries out the syncs partition logs ask for. A few dirty logs are each synced with fdatasync, several at once
// on the I/O threads (concurrent fdatasyncs also share journal commits). When many wait at the same moment (a
// broker with thousands of partitions), one syncfs of the data directory's file system makes them all durable
// with a single journal commit instead of one fdatasync per file.
#pragma once

#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/executor.h"
#include "storage/file_system.h"
#include "storage/io_pool.h"

namespace fjord::storage {

class SyncScheduler {
 public:
  struct Limits {
    size_t max_in_flight = 16;      // syncs running at once: the I/O threads
    size_t whole_file_system = 64;  // waiting requests that make the next sync a syncfs
  };
  SyncScheduler(IoPool& io, Executor& loop, FileSystem& fs, std::string data_directory, Limits limits);
  SyncScheduler(IoPool& io, Executor& loop, FileSystem& fs, std::string data_directory)
      : SyncScheduler(io, loop, fs, std::move(data_directory), Limits{}) {}

  using Done = std::function<void(std::exception_ptr error)>;
  // Makes every byte appended to `files` so far durable, then calls `done` on the loop.
  void submit(std::vector<std::shared_ptr<File>> files, Done done);

  size_t waiting() const { return waiting_.size(); }
  uint64_t file_system_syncs() const { return file_system_syncs_; }

 private:
  struct Request {
    std::vector<std::shared_ptr<File>> files;
    Done done;
  };
  void pump();

  IoPool& io_;
  Executor& loop_;
  FileSystem& fs_;
  std::string data_directory_;
  Limits limits_;
  std::deque<Request> waiting_;
  size_t in_flight_ = 0;
  uint64_t file_system_syncs_ = 0;
};

}  // namespace fjord::storage
