#include "storage/log_cleaner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fjord::storage {

LogCleaner::LogCleaner(Executor& loop, Scheduler& timers, IoPool& threads, FileSystem& fs, const Clock& clock,
                       LogCleanerSettings settings, LogSource logs, CleanerProbe* probe)
    : loop_(loop),
      timers_(timers),
      threads_(threads),
      fs_(fs),
      clock_(clock),
      settings_(settings),
      logs_(std::move(logs)),
      probe_(probe),
      throttle_(std::make_shared<IoThrottle>(settings.io_max_bytes_per_second)) {}

LogCleaner::~LogCleaner() {
  stop_->store(true);
  timer_.reset();
  publish_dirty_ratios({});
}

void LogCleaner::publish_dirty_ratios(const std::map<std::string, double>& ratios) {
  if (!probe_) return;
  for (auto it = dirty_ratio_series_.begin(); it != dirty_ratio_series_.end();) {
    if (ratios.count(it->first)) {
      ++it;
      continue;
    }
    probe_->dirty_ratio.Remove(it->second);
    it = dirty_ratio_series_.erase(it);
  }
  for (const auto& [name, ratio] : ratios) {
    auto& series = dirty_ratio_series_[name];
    if (!series) {
      // The directory is TOPIC-PARTITION.
      const auto dash = name.rfind('-');
      series = &probe_->dirty_ratio.Add({{"topic", name.substr(0, dash)}, {"partition", name.substr(dash + 1)}});
    }
    series->Set(ratio);
  }
}

void LogCleaner::start() {
  if (!settings_.enabled) return;
  check();
}

void LogCleaner::check_now() { check(); }

void LogCleaner::arm(int64_t delay_ms) {
  timer_ = timers_.schedule_after(delay_ms, [this] { check(); });
}

void LogCleaner::check() {
  if (!settings_.enabled || stop_->load()) return;
  struct Candidate {
    std::shared_ptr<Log> log;
    double ratio;
  };
  std::vector<Candidate> due;
  double max_ratio = 0;
  int64_t lag_ms = 0;
  std::map<std::string, double> ratios;
  const int64_t now = clock_.now_ms();
  for (auto& log : logs_()) {
    if (!log || !log->config().compact || log->failed()) continue;
    const auto cleanable = log->cleanable();
    const double ratio = cleanable.dirty_ratio();
    const auto& directory = log->directory();
    ratios[directory.substr(directory.rfind('/') + 1)] = ratio;
    if (cleanable.dirty_bytes == 0) continue;
    max_ratio = std::max(max_ratio, ratio);
    const bool overdue = cleanable.first_dirty_timestamp >= 0 &&
                         cleanable.first_dirty_timestamp < now - log->config().max_compaction_lag_ms;
    if (cleanable.first_dirty_timestamp >= 0) lag_ms = std::max(lag_ms, now - cleanable.first_dirty_timestamp);
    if (state_->running.count(log.get())) continue;
    if (ratio >= log->config().min_cleanable_dirty_ratio || overdue) due.push_back({log, overdue ? 2.0 : ratio});
  }
  if (probe_) {
    probe_->max_dirty_ratio.Set(max_ratio);
    probe_->lag_seconds.Set(static_cast<double>(lag_ms) / 1000.0);
  }
  publish_dirty_ratios(ratios);
  std::sort(due.begin(), due.end(), [](const Candidate& a, const Candidate& b) { return a.ratio > b.ratio; });
  const size_t free_threads =
      static_cast<size_t>(std::max(settings_.threads, 1)) - std::min<size_t>(state_->running.size(), settings_.threads);
  for (size_t i = 0; i < due.size() && i < free_threads; ++i) {
    if (auto input = due[i].log->prepare_compaction()) run_pass(due[i].log, std::move(*input));
  }
  if (state_->running.empty()) arm(settings_.backoff_ms);
}

void LogCleaner::run_pass(const std::shared_ptr<Log>& log, CompactionInput input) {
  state_->running.insert(log.get());
  auto result = std::make_shared<CompactionResult>();
  auto shared_input = std::make_shared<CompactionInput>(std::move(input));
  CompactionLimits limits;
  limits.key_map_bytes = static_cast<size_t>(settings_.dedupe_buffer_bytes / std::max(settings_.threads, 1));
  limits.throttle = throttle_.get();
  limits.stop = stop_.get();
  std::weak_ptr<Log> weak_log = log;
  std::weak_ptr<State> weak_state = state_;
  // The pass holds what it uses (the input, the throttle, the stop flag) so that it may outlive the cleaner.
  threads_.run([&fs = fs_, result, shared_input, limits, throttle = throttle_,
                stop = stop_] { *result = compact(fs, *shared_input, limits); },
               loop_,
               [this, weak_log, weak_state, key = log.get(), result, directory = shared_input->directory,
                &fs = fs_](std::exception_ptr error) {
                 auto state = weak_state.lock();
                 auto log = weak_log.lock();
                 if (!state) {
                   // The cleaner is gone: what the pass staged is removed at the log's next start if not now.
                   if (!error) remove_staged(fs, *result);
                   return;
                 }
                 state->running.erase(key);
                 if (error) {
                   try {
                     std::rethrow_exception(error);
                   } catch (const CompactionStopped&) {
                   } catch (const std::exception& e) {
                     spdlog::warn("{}: cleaning pass failed: {}", directory, e.what());
                   }
                   ++state->totals.abandoned;
                 } else if (!log || !log->finish_compaction(std::move(*result))) {
                   if (!log) remove_staged(fs, *result);
                   ++state->totals.abandoned;
                 } else {
                   auto& t = state->totals;
                   ++t.passes;
                   t.bytes_read += result->bytes_read;
                   t.bytes_written += result->bytes_written;
                   t.bytes_reclaimed += std::max<int64_t>(0, result->bytes_replaced - result->bytes_written);
                   t.records_removed += result->records_removed;
                   if (probe_) {
                     probe_->passes.Increment();
                     probe_->bytes_read.Increment(static_cast<double>(result->bytes_read));
                     probe_->bytes_written.Increment(static_cast<double>(result->bytes_written));
                     probe_->bytes_reclaimed.Increment(
                         static_cast<double>(std::max<int64_t>(0, result->bytes_replaced - result->bytes_written)));
                     probe_->records_removed.Increment(static_cast<double>(result->records_removed));
                   }
                   spdlog::debug(
                       "{}: cleaned up to offset {}: {} records removed ({} of aborted transactions), {} markers "
                       "removed, {} of {} bytes kept",
                       directory, result->cleaned_until, result->records_removed, result->aborted_records_removed,
                       result->markers_removed, result->bytes_written, result->bytes_replaced);
                 }
                 // More may be due (another log, or this one still dirty).
                 check();
               });
}

}  // namespace fjord::storage
