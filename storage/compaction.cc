#include "storage/compaction.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "protocol/record_batch.h"

namespace fjord::storage {
namespace {

using protocol::BatchHeader;
using protocol::kBatchHeaderSize;
using protocol::kBatchLengthPrefix;

constexpr std::string_view kCheckpointMagic = "fjord-cleaner-checkpoint 1";

// Key -> latest offset, looked up by the record's key bytes without copying them.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
using KeyMap = std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>>;
// What one map entry costs beyond its key's bytes (node, bucket, string header), roughly.
constexpr size_t kKeyEntryOverhead = 64;

std::string_view as_view(std::span<const uint8_t> key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// Reads a segment's batches in order, up to the size the pass was planned with.
class BatchReader {
 public:
  BatchReader(const CompactionSegment& segment, IoThrottle* throttle) : segment_(segment), throttle_(throttle) {}

  // The next whole batch, or nullopt at the end. A batch the file does not hold whole ends the segment early
  // (the loop truncated it meanwhile; the swap then sees the segment changed and drops the pass).
  std::optional<std::span<const uint8_t>> next() {
    if (position_ + static_cast<int64_t>(kBatchHeaderSize) > segment_.size) return std::nullopt;
    uint8_t prefix[kBatchLengthPrefix];
    if (segment_.file->read(position_, prefix) != kBatchLengthPrefix) return std::nullopt;
    const auto length = protocol::parse_batch_prefix(prefix).batch_length;
    const int64_t total = static_cast<int64_t>(kBatchLengthPrefix) + length;
    if (length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix) || position_ + total > segment_.size) {
      return std::nullopt;
    }
    buffer_.resize(static_cast<size_t>(total));
    if (segment_.file->read(position_, buffer_) != buffer_.size()) return std::nullopt;
    if (throttle_) throttle_->acquire(total);
    position_ += total;
    bytes_read_ += total;
    return std::span<const uint8_t>(buffer_);
  }
  int64_t bytes_read() const { return bytes_read_; }

 private:
  const CompactionSegment& segment_;
  IoThrottle* throttle_;
  int64_t position_ = 0;
  int64_t bytes_read_ = 0;
  std::vector<uint8_t> buffer_;
};

void check_stop(const CompactionLimits& limits) {
  if (limits.stop && limits.stop->load(std::memory_order_relaxed)) throw CompactionStopped();
}

// Consecutive segments that one cleaned segment replaces: within segment.bytes (at least one segment), and
// offsets that the index's 32-bit relative offsets can hold.
std::vector<std::pair<size_t, size_t>> group_segments(const std::vector<CompactionSegment>& segments, size_t count,
                                                      int64_t segment_bytes) {
  std::vector<std::pair<size_t, size_t>> groups;  // [first, last)
  size_t first = 0;
  while (first < count) {
    size_t last = first + 1;
    int64_t bytes = segments[first].size;
    while (last < count && bytes + segments[last].size <= segment_bytes &&
           segments[last].next_offset - segments[first].base_offset < std::numeric_limits<int32_t>::max() / 2) {
      bytes += segments[last].size;
      ++last;
    }
    groups.emplace_back(first, last);
    first = last;
  }
  return groups;
}

// Whether a transactional batch belongs to an aborted transaction: its producer's records from the
// transaction's first offset up to its marker.
class AbortedBatches {
 public:
  explicit AbortedBatches(const std::vector<AbortedTransaction>& aborted) {
    for (const auto& t : aborted) by_producer_[t.producer_id].emplace(t.first_offset, t.last_offset);
  }
  bool contains(int64_t producer_id, int64_t offset) const {
    auto producer = by_producer_.find(producer_id);
    if (producer == by_producer_.end()) return false;
    auto after = producer->second.upper_bound(offset);  // the first transaction beginning after `offset`
    if (after == producer->second.begin()) return false;
    return std::prev(after)->second >= offset;
  }

 private:
  std::map<int64_t, std::map<int64_t, int64_t>> by_producer_;  // producer -> first offset -> marker offset
};

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

int64_t CleanerCheckpoint::tombstone_horizon(int64_t now_ms, int64_t delete_retention_ms) const {
  int64_t horizon = 0;
  for (const auto& pass : passes) {
    if (pass.time_ms > now_ms - delete_retention_ms) break;
    horizon = pass.end_offset;
  }
  return horizon;
}

void CleanerCheckpoint::record_pass(int64_t end_offset, int64_t now_ms, int64_t delete_retention_ms) {
  first_dirty_offset = end_offset;
  if (passes.empty() || passes.back().end_offset < end_offset) passes.push_back({end_offset, now_ms});
  // Every pass before the newest one whose tombstones may all go adds nothing to it.
  size_t newest_expired = 0;
  for (size_t i = 0; i < passes.size(); ++i) {
    if (passes[i].time_ms <= now_ms - delete_retention_ms) newest_expired = i;
  }
  passes.erase(passes.begin(), passes.begin() + static_cast<long>(newest_expired));
}

void CleanerCheckpoint::truncate(int64_t log_end) {
  first_dirty_offset = std::min(first_dirty_offset, log_end);
  std::erase_if(passes, [&](const Pass& p) { return p.end_offset > log_end; });
}

std::vector<uint8_t> CleanerCheckpoint::serialize() const {
  std::string text(kCheckpointMagic);
  text += "\n" + std::to_string(first_dirty_offset) + "\n" + std::to_string(passes.size()) + "\n";
  for (const auto& p : passes) text += std::to_string(p.end_offset) + " " + std::to_string(p.time_ms) + "\n";
  return {text.begin(), text.end()};
}

std::optional<CleanerCheckpoint> CleanerCheckpoint::parse(std::span<const uint8_t> bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto next_token = [&text]() -> std::optional<int64_t> {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) return std::nullopt;
    text.remove_prefix(static_cast<size_t>(ptr - text.data()));
    return value;
  };
  if (!text.starts_with(kCheckpointMagic)) return std::nullopt;
  text.remove_prefix(kCheckpointMagic.size());
  CleanerCheckpoint checkpoint;
  auto first_dirty = next_token();
  auto count = next_token();
  if (!first_dirty || !count || *first_dirty < 0 || *count < 0 || *count > 100000) return std::nullopt;
  checkpoint.first_dirty_offset = *first_dirty;
  for (int64_t i = 0; i < *count; ++i) {
    auto end = next_token();
    auto time = next_token();
    if (!end || !time) return std::nullopt;
    if (!checkpoint.passes.empty() && checkpoint.passes.back().end_offset >= *end) return std::nullopt;
    checkpoint.passes.push_back({*end, *time});
  }
  return checkpoint;
}

// ---------------------------------------------------------------------------------------------------------------

IoThrottle::IoThrottle(double bytes_per_second, Time time) : bytes_per_second_(bytes_per_second), time_(time) {}

IoThrottle::Time IoThrottle::system_time() {
  return Time{[] { return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now().time_since_epoch()); },
              [](Nanos d) { std::this_thread::sleep_for(d); }};
}

void IoThrottle::acquire(int64_t bytes) {
  if (bytes_per_second_ <= 0 || bytes_per_second_ == std::numeric_limits<double>::infinity() || bytes <= 0) return;
  Nanos wait{0};
  {
    std::lock_guard lock(mutex_);
    const Nanos now = time_.now();
    const Nanos start = std::max(next_free_, now);
    next_free_ = start + Nanos(static_cast<int64_t>(static_cast<double>(bytes) / bytes_per_second_ * 1e9));
    // This caller may go at once if the budget is free; it waits for what earlier callers used beyond it.
    wait = start - now;
  }
  if (wait.count() > 0) time_.sleep(wait);
}

// ---------------------------------------------------------------------------------------------------------------

CompactionResult compact(FileSystem& fs, const CompactionInput& input, const CompactionLimits& limits) {
  CompactionResult result;
  result.cleaned_until = input.end_offset;

  // 1. The latest offset of every key in the dirty part. When the map is full, the pass stops at the segment
  // where it filled (after at least one dirty segment): offsets already in the map are real records past that
  // point, which stay, so older versions of those keys may still go.
  const AbortedBatches aborted(input.aborted);
  KeyMap latest;
  size_t map_bytes = 0;
  size_t cleanable = input.segments.size();
  bool first_dirty_segment = true;
  for (size_t i = 0; i < input.segments.size(); ++i) {
    const auto& segment = input.segments[i];
    if (segment.next_offset <= input.first_dirty_offset) continue;
    if (!first_dirty_segment && map_bytes > limits.key_map_bytes) {
      cleanable = i;
      result.cleaned_until = segment.base_offset;
      break;
    }
    first_dirty_segment = false;
    BatchReader reader(segment, limits.throttle);
    while (auto batch = reader.next()) {
      check_stop(limits);
      const BatchHeader h = protocol::parse_batch_header(*batch);
      if (h.last_offset() < input.first_dirty_offset || h.is_control()) continue;
      if (h.is_transactional() && aborted.contains(h.producer_id, h.base_offset)) continue;  // shadows nothing
      protocol::filter_batch(
          *batch,
          [&](const protocol::RecordView& record) {
            if (!record.key || record.offset < input.first_dirty_offset) return false;
            auto [it, added] = latest.try_emplace(std::string(as_view(*record.key)), record.offset);
            if (added) {
              map_bytes += record.key->size() + kKeyEntryOverhead;
            } else {
              it->second = std::max(it->second, record.offset);
            }
            return false;
          },
          input.max_decompressed_bytes);
    }
    result.bytes_read += reader.bytes_read();
  }

  // 2. Each group of segments below cleaned_until, rewritten with what survives.
  auto survives = [&](const protocol::RecordView& record) {
    if (!record.key) {
      ++result.records_without_key;
      return false;
    }
    auto it = latest.find(as_view(*record.key));
    if (it != latest.end() && it->second > record.offset) return false;
    if (record.tombstone && record.offset < input.tombstone_horizon) {
      ++result.tombstones_removed;
      return false;
    }
    return true;
  };
  // Producers whose current transaction (since their last marker) still has a batch in the cleaned log: its
  // marker stays, or a reader replaying the log would take the batch for part of a transaction still open.
  std::set<int64_t> transaction_has_batches;
  std::shared_ptr<Segment> writing;  // the staged segment being written, removed if the pass fails
  try {
    for (auto [first, last] : group_segments(input.segments, cleanable, input.segment_bytes)) {
      const auto& head = input.segments[first];
      CleanedGroup group;
      group.base_offset = head.base_offset;
      group.replaced_until = last < input.segments.size() ? input.segments[last].base_offset : input.end_offset;
      group.cleaned =
          Segment::create_staged(fs, input.directory, head.base_offset, input.index_interval_bytes, input.now_ms);
      writing = group.cleaned;
      bool changed = last - first > 1;
      int64_t replaced_bytes = 0;
      std::vector<uint8_t> pending;
      std::vector<BatchHeader> pending_headers;
      auto flush = [&] {
        if (pending.empty()) return;
        if (limits.throttle) limits.throttle->acquire(static_cast<int64_t>(pending.size()));
        group.cleaned->append(pending, pending_headers);
        result.bytes_written += static_cast<int64_t>(pending.size());
        pending.clear();
        pending_headers.clear();
      };
      auto keep = [&](std::span<const uint8_t> bytes) {
        pending.insert(pending.end(), bytes.begin(), bytes.end());
        pending_headers.push_back(protocol::parse_batch_header(bytes));
        if (pending.size() >= 1024 * 1024) flush();
      };
      for (size_t i = first; i < last; ++i) {
        const auto& segment = input.segments[i];
        group.replaced.push_back(segment.segment);
        replaced_bytes += segment.size;
        BatchReader reader(segment, limits.throttle);
        while (auto batch = reader.next()) {
          check_stop(limits);
          const BatchHeader h = protocol::parse_batch_header(*batch);
          if (h.is_control()) {
            const bool has_batches = transaction_has_batches.erase(h.producer_id) > 0;
            if (!has_batches && h.last_offset() < input.tombstone_horizon) {
              ++result.markers_removed;
              changed = true;
              continue;
            }
            keep(*batch);
            continue;
          }
          auto last_batch = input.producer_last_offsets.find(h.producer_id);
          const bool producers_last = h.producer_id >= 0 && last_batch != input.producer_last_offsets.end() &&
                                      last_batch->second == h.last_offset();
          if (h.record_count == 0 && !producers_last) {
            changed = true;  // emptied by an earlier pass for a producer that has written since
            continue;
          }
          int64_t dropped = 0, kept = 0;
          protocol::Bytes rebuilt;
          if (h.is_transactional() && aborted.contains(h.producer_id, h.base_offset)) {
            dropped = h.record_count;
            result.aborted_records_removed += dropped;
          } else {
            auto filtered = protocol::filter_batch(*batch, survives, input.max_decompressed_bytes);
            dropped = filtered.dropped;
            kept = filtered.kept;
            rebuilt = std::move(filtered.rebuilt);
          }
          result.records_removed += dropped;
          if (dropped == 0) {
            if (h.is_transactional()) transaction_has_batches.insert(h.producer_id);
            keep(*batch);
            continue;
          }
          changed = true;
          if (kept > 0) {
            if (h.is_transactional()) transaction_has_batches.insert(h.producer_id);
            keep(rebuilt);
            continue;
          }
          if (producers_last) {
            if (h.is_transactional()) transaction_has_batches.insert(h.producer_id);
            keep(protocol::rebuild_batch(batch->first(kBatchHeaderSize), {}, 0));
          }
        }
        result.bytes_read += reader.bytes_read();
        if (reader.bytes_read() != segment.size) changed = true;  // cut short: the swap will see it changed
      }
      flush();
      if (!changed) {
        // Nothing to gain: the segment stays as it is.
        group.cleaned->remove_files(fs);
        writing.reset();
        continue;
      }
      group.cleaned->log_file()->sync();
      group.cleaned->write_index_files(fs);  // also makes the staged names durable (a directory sync)
      result.bytes_replaced += replaced_bytes;
      result.groups.push_back(std::move(group));
      writing.reset();
    }
  } catch (...) {
    if (writing) writing->remove_files(fs);
    remove_staged(fs, result);
    throw;
  }
  return result;
}

void remove_staged(FileSystem& fs, const CompactionResult& result) {
  for (const auto& group : result.groups) {
    if (group.cleaned && group.cleaned->staged()) group.cleaned->remove_files(fs);
  }
}

}  // namespace fjord::storage
