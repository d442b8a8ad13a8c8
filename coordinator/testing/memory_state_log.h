// Test-only: a StateLog in memory. Appends and reads complete at once (or, with hold_appends / hold_reads, when
// the test releases them), and appends can be told to fail, so the coordinator's persistence paths are tested
// without a broker.
#pragma once

#include <deque>
#include <map>

#include "coordinator/state_log.h"

namespace fjord::coordinator::testing {

class MemoryStateLog final : public StateLog {
 public:
  explicit MemoryStateLog(int32_t partitions = 50) : partitions_(partitions) {}

  int32_t partition_count() const override { return partitions_; }
  void append(int32_t partition, std::vector<Entry> entries, Done done) override {
    if (fail_appends) return done(ErrorCode::kKafkaStorageError);
    auto write = [this, partition, entries = std::move(entries), done = std::move(done)]() mutable {
      auto& log = logs_[partition];
      for (auto& e : entries) log.push_back(std::move(e));
      done(ErrorCode::kNone);
    };
    if (hold_appends) {
      held_.push_back(std::move(write));
    } else {
      write();
    }
  }
  void append_transactional(int32_t partition, int64_t producer_id, int16_t producer_epoch, std::vector<Entry> entries,
                            Done done) override {
    for (auto& e : entries) {
      e.producer_id = producer_id;
      e.producer_epoch = producer_epoch;
    }
    append(partition, std::move(entries), std::move(done));
  }
  // A transaction marker, as the transaction coordinator writes it.
  void write_marker(int32_t partition, int64_t producer_id, bool commit) {
    Entry marker;
    marker.producer_id = producer_id;
    marker.marker_commit = commit;
    logs_[partition].push_back(std::move(marker));
  }
  void read_partition(int32_t partition, std::function<void(std::vector<Entry>)> chunk,
                      std::function<void(bool)> done) override {
    auto read = [this, partition, chunk = std::move(chunk), done = std::move(done)] {
      auto it = logs_.find(partition);
      if (it != logs_.end()) chunk(it->second);
      done(true);
    };
    if (hold_reads) {
      held_reads_.push_back(std::move(read));
    } else {
      read();
    }
  }
  void release_reads() {
    while (!held_reads_.empty()) {
      auto read = std::move(held_reads_.front());
      held_reads_.pop_front();
      read();
    }
  }

  void release_appends() {
    while (!held_.empty()) {
      auto write = std::move(held_.front());
      held_.pop_front();
      write();
    }
  }
  size_t records(int32_t partition) const {
    auto it = logs_.find(partition);
    return it == logs_.end() ? 0 : it->second.size();
  }
  const std::vector<Entry>& entries(int32_t partition) { return logs_[partition]; }
  size_t total_records() const {
    size_t n = 0;
    for (const auto& [p, entries] : logs_) n += entries.size();
    return n;
  }

  bool fail_appends = false;
  bool hold_appends = false;
  bool hold_reads = false;

 private:
  int32_t partitions_;
  std::map<int32_t, std::vector<Entry>> logs_;
  std::deque<std::function<void()>> held_;
  std::deque<std::function<void()>> held_reads_;
};

}  // namespace fjord::coordinator::testing
