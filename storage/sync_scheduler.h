// Carries out the syncs partition logs ask for. A few dirty logs are each synced with fdatasync, several at once
// on the I/O threads (concurrent fdatasyncs also share journal commits). When many wait at the same moment (a
// broker with thousands of partitions), one syncfs of the data directory's file system makes them all durable
// with a single journal commit instead of one fdatasync per file.
//
// A job may also carry small files to replace first (checkpoints: leader epochs, the log start) and directories
// whose entries must become durable (a new segment, a new partition), so that whatever an acknowledgement relies
// on is made durable by the same job that makes the records durable.
#pragma once

#include <prometheus/histogram.h>

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

  struct Job {
    std::function<void()> prepare;  // runs first, on the I/O thread (may be empty)
    std::vector<std::shared_ptr<File>> files;
    std::vector<std::string> directories;
  };
  using Done = std::function<void(std::exception_ptr error)>;
  // Runs the job's preparation, then makes every byte appended to its files so far and its directories' entries
  // durable, then calls `done` on the loop.
  void submit(Job job, Done done);
  void submit(std::vector<std::shared_ptr<File>> files, Done done) { submit(Job{{}, std::move(files), {}}, done); }

  // Seconds each sync round took on its I/O thread (fdatasyncs of one job, or one syncfs).
  void set_latency_histogram(prometheus::Histogram* histogram) { latency_ = histogram; }

  size_t waiting() const { return waiting_.size(); }
  uint64_t file_system_syncs() const { return file_system_syncs_; }

 private:
  struct Request {
    Job job;
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
  prometheus::Histogram* latency_ = nullptr;
};

}  // namespace fjord::storage
