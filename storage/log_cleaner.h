// The log cleaner: finds the compacted logs worth cleaning (min.cleanable.dirty.ratio, max.compaction.lag.ms) every
// log.cleaner.backoff.ms and runs their passes (storage/compaction.h) on its own threads, paced to
// log.cleaner.io.max.bytes.per.second, one pass per log at a time, dirtiest first. Lives on the loop its logs live
// on; only compact() runs on the cleaner threads.
#pragma once

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "model/clock.h"
#include "model/executor.h"
#include "model/metrics.h"
#include "storage/compaction.h"
#include "storage/io_pool.h"
#include "storage/log.h"

namespace fjord::storage {

struct LogCleanerSettings {
  bool enabled = true;                      // log.cleaner.enable
  int threads = 1;                          // log.cleaner.threads
  double io_max_bytes_per_second = 0;       // log.cleaner.io.max.bytes.per.second; 0: no limit
  int64_t backoff_ms = 15000;               // log.cleaner.backoff.ms: how often to look for work when idle
  int64_t dedupe_buffer_bytes = 128 << 20;  // log.cleaner.dedupe.buffer.size, shared by the threads
};

struct CleanerProbe {
  explicit CleanerProbe(Metrics& metrics)
      : passes(metrics.counter("fjord_log_cleaner_passes_total", "Compaction passes swapped into their logs")),
        bytes_read(metrics.counter("fjord_log_cleaner_read_bytes_total", "Bytes the log cleaner read")),
        bytes_written(metrics.counter("fjord_log_cleaner_written_bytes_total", "Bytes of cleaned segments written")),
        bytes_reclaimed(metrics.counter("fjord_log_cleaner_reclaimed_bytes_total",
                                        "Bytes compaction removed from logs (replaced minus written)")),
        records_removed(metrics.counter("fjord_log_cleaner_removed_records_total",
                                        "Records compaction removed: older versions of a key, expired tombstones")),
        max_dirty_ratio(metrics.gauge("fjord_log_cleaner_max_dirty_ratio",
                                      "The largest dirty ratio (dirty / cleanable bytes) of any compacted log")),
        lag_seconds(metrics.gauge("fjord_log_cleaner_lag_seconds",
                                  "Age of the oldest record of any compacted log that may be cleaned but was not")),
        dirty_ratio(metrics.gauge_family("fjord_log_dirty_ratio",
                                         "Per compacted partition: bytes never cleaned / cleanable bytes (the "
                                         "cleaner starts a pass at min.cleanable.dirty.ratio)")) {}
  prometheus::Counter& passes;
  prometheus::Counter& bytes_read;
  prometheus::Counter& bytes_written;
  prometheus::Counter& bytes_reclaimed;
  prometheus::Counter& records_removed;
  prometheus::Gauge& max_dirty_ratio;
  prometheus::Gauge& lag_seconds;
  prometheus::Family<prometheus::Gauge>& dirty_ratio;  // labels: topic, partition
};

class LogCleaner {
 public:
  using LogSource = std::function<std::vector<std::shared_ptr<Log>>()>;
  // `threads` runs the passes (a pool of log.cleaner.threads threads in the broker); `logs` lists the logs to
  // consider (those whose config says compact are cleaned).
  LogCleaner(Executor& loop, Scheduler& timers, IoPool& threads, FileSystem& fs, const Clock& clock,
             LogCleanerSettings settings, LogSource logs, CleanerProbe* probe = nullptr);
  // Passes in flight give up at their next batch; their results are dropped.
  ~LogCleaner();

  // Looks for work now and then every log.cleaner.backoff.ms (at once again after a pass that found some).
  void start();
  void check_now();

  struct Totals {
    uint64_t passes = 0;     // swapped in
    uint64_t abandoned = 0;  // the log changed under the pass, or the pass failed
    int64_t bytes_read = 0;
    int64_t bytes_written = 0;
    int64_t bytes_reclaimed = 0;
    int64_t records_removed = 0;
  };
  const Totals& totals() const { return state_->totals; }
  size_t passes_running() const { return state_->running.size(); }

 private:
  struct State {
    std::set<const Log*> running;
    Totals totals;
  };
  void check();
  void run_pass(const std::shared_ptr<Log>& log, CompactionInput input);
  void arm(int64_t delay_ms);
  // The per-partition dirty ratio series: set for every compacted log seen, removed for the others.
  void publish_dirty_ratios(const std::map<std::string, double>& ratios);

  Executor& loop_;
  Scheduler& timers_;
  IoPool& threads_;
  FileSystem& fs_;
  const Clock& clock_;
  LogCleanerSettings settings_;
  LogSource logs_;
  CleanerProbe* probe_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::shared_ptr<std::atomic<bool>> stop_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<IoThrottle> throttle_;
  std::unique_ptr<TimerHandle> timer_;
  std::map<std::string, prometheus::Gauge*> dirty_ratio_series_;  // by partition directory name
};

}  // namespace fjord::storage
