#include "storage/log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>

namespace fjord::storage {
namespace {

using protocol::BatchHeader;

constexpr const char* kLogStartFile = "log-start-offset";
constexpr const char* kLeaderEpochFile = "leader-epoch-checkpoint";

bool parse_segment_name(const std::string& name, const std::string& suffix, int64_t& base_offset) {
  if (name.size() != 20 + suffix.size() || name.compare(20, suffix.size(), suffix) != 0) return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, base_offset);
  return ec == std::errc() && ptr == name.data() + 20;
}

}  // namespace

Log::Log(LogContext context, std::string directory, LogConfig config)
    : ctx_(context), directory_(std::move(directory)), config_(config) {}

std::shared_ptr<Log> Log::open(LogContext context, std::string directory, LogConfig config, bool clean_shutdown) {
  std::shared_ptr<Log> log(new Log(context, std::move(directory), config));
  log->load(clean_shutdown);
  return log;
}

std::string Log::log_start_path() const { return join_path(directory_, kLogStartFile); }

void Log::load(bool clean_shutdown) {
  auto& fs = ctx_.fs;
  if (!fs.exists(directory_)) {
    fs.create_directories(directory_);
    fs.sync_directory(parent_directory(directory_));
  }
  std::vector<int64_t> bases;
  for (const auto& name : fs.list(directory_)) {
    int64_t base = 0;
    if (parse_segment_name(name, ".log", base)) {
      bases.push_back(base);
    } else if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) {
      fs.remove(join_path(directory_, name));  // an index write that a crash interrupted
    }
  }
  std::sort(bases.begin(), bases.end());
  if (auto saved = fs.read_all(log_start_path())) {
    std::string text(saved->begin(), saved->end());
    std::from_chars(text.data(), text.data() + text.size(), log_start_offset_);
  }

  const int64_t now = ctx_.clock.now_ms();
  bool dropping = false;  // a segment was torn: everything after it is not part of the log
  for (size_t i = 0; i < bases.size(); ++i) {
    int64_t base = bases[i];
    if (dropping) {
      spdlog::warn("{}: dropping segment {} that follows a torn one", directory_, base);
      fs.remove(join_path(directory_, Segment::log_name(base)));
      fs.remove(join_path(directory_, Segment::index_name(base)));
      fs.remove(join_path(directory_, Segment::time_index_name(base)));
      continue;
    }
    ScanResult scan;
    auto segment = Segment::open(fs, directory_, base, config_.index_interval_bytes, now, true, &scan);
    if (scan.truncated_bytes > 0) {
      if (ctx_.probe) ctx_.probe->recovered_truncated_bytes.Increment(static_cast<double>(scan.truncated_bytes));
      spdlog::warn("{}: segment {}: {}; truncated {} bytes after {} valid bytes", directory_, base, scan.reason,
                   scan.truncated_bytes, scan.valid_bytes);
      dropping = true;
    }
    bool last = i + 1 == bases.size() || dropping;
    if (segment->empty() && !last) {
      segment->remove_files(fs);
      continue;
    }
    if (!last && !fs.exists(join_path(directory_, Segment::index_name(base)))) {
      // Rolled, but its seal (sync, index files) did not finish before the stop.
      segment->log_file()->sync();
      segment->write_index_files(fs);
    }
    segments_[base] = std::move(segment);
  }
  if (segments_.empty()) {
    int64_t base = log_start_offset_;
    segments_[base] = Segment::create(fs, directory_, base, config_.index_interval_bytes, now);
    fs.sync_directory(directory_);
  } else {
    // The active segment's index files would go stale with the next append; a crash must rebuild them instead.
    active().remove_index_files(fs);
    active().log_file()->sync();
  }
  log_start_offset_ = std::clamp(log_start_offset_, segments_.begin()->second->base_offset(), log_end_offset());
  durable_offset_ = log_end_offset();
  load_producer_state();
  load_leader_epochs();
  (void)clean_shutdown;  // index files alone say what may be trusted; see storage/FORMAT.md
}

std::string Log::snapshot_path(int64_t offset) const {
  char name[64];
  std::snprintf(name, sizeof(name), "%020lld.snapshot", static_cast<long long>(offset));
  return join_path(directory_, name);
}

std::vector<int64_t> Log::snapshot_offsets() const {
  std::vector<int64_t> offsets;
  for (const auto& name : ctx_.fs.list(directory_)) {
    int64_t offset = 0;
    if (parse_segment_name(name, ".snapshot", offset)) offsets.push_back(offset);
  }
  std::sort(offsets.begin(), offsets.end());
  return offsets;
}

void Log::load_producer_state() {
  producers_ = ProducerStateManager();
  int64_t replay_from = log_start_offset_;
  auto offsets = snapshot_offsets();
  for (auto it = offsets.rbegin(); it != offsets.rend(); ++it) {
    std::optional<ProducerStateManager> loaded;
    if (*it <= log_end_offset()) {
      if (auto bytes = ctx_.fs.read_all(snapshot_path(*it))) loaded = ProducerStateManager::parse_snapshot(*bytes);
    }
    if (loaded) {
      producers_ = std::move(*loaded);
      replay_from = std::max(*it, log_start_offset_);
      break;
    }
    // Past the end of a truncated log, or damaged: of no use.
    ctx_.fs.remove(snapshot_path(*it));
  }
  // The batches written after the snapshot, read header by header.
  for (const auto& [base, segment] : segments_) {
    if (segment->next_offset() <= replay_from) continue;
    auto first = segment->locate(replay_from);
    int64_t position = first ? first->position : 0;
    while (auto batch = segment->batch_at(position)) {
      BatchHeader h = segment->header_at(position);
      if (h.producer_id >= 0 && h.last_offset() >= replay_from) producers_.record(h, h.max_timestamp);
      position += batch->size;
    }
  }
  producers_.truncate_head(log_start_offset_);
}

void Log::load_leader_epochs() {
  const std::string path = join_path(directory_, kLeaderEpochFile);
  std::optional<LeaderEpochs> loaded;
  if (auto bytes = ctx_.fs.read_all(path)) loaded = LeaderEpochs::parse(*bytes);
  if (loaded) {
    leader_epochs_ = std::move(*loaded);
  } else if (log_end_offset() > log_start_offset_) {
    // No history (a log from a single node, which writes one epoch, or a damaged file): the epoch of the first
    // batch from the start is the best that can be said without reading every batch.
    leader_epochs_.assign(std::max(leader_epoch_at(log_start_offset_), 0), log_start_offset_);
  }
  // Epochs that began in a tail that recovery dropped are not part of this log.
  if (leader_epochs_.truncate_from_end(log_end_offset()) || !loaded) persist_leader_epochs();
}

void Log::persist_leader_epochs() {
  ctx_.fs.write_atomically(join_path(directory_, kLeaderEpochFile), leader_epochs_.serialize());
}

void Log::assign_leader_epoch(int32_t epoch) {
  if (leader_epochs_.assign(epoch, log_end_offset())) persist_leader_epochs();
}

size_t Log::expire_producers(int64_t expiration_ms) { return producers_.expire(ctx_.clock.now_ms(), expiration_ms); }

int64_t Log::size_bytes() const {
  int64_t total = 0;
  for (const auto& [base, segment] : segments_) total += segment->size();
  return total;
}

bool Log::should_roll(int64_t incoming_bytes, int64_t now_ms) const {
  const Segment& s = active();
  if (s.empty()) return false;
  if (s.size() + incoming_bytes > config_.segment_bytes) return true;
  if (now_ms - s.created_ms() >= config_.segment_ms) return true;
  // Relative offsets in the index are 32-bit.
  return log_end_offset() - s.base_offset() > std::numeric_limits<int32_t>::max() / 2;
}

void Log::roll(int64_t now_ms) {
  auto sealed = segments_.rbegin()->second;
  int64_t base = log_end_offset();
  // Producer state as of the roll, so that a restart replays at most the segments after it.
  auto snapshot = std::make_shared<std::vector<uint8_t>>(producers_.snapshot());
  std::string snapshot_file = snapshot_path(base);
  std::vector<std::string> older_snapshots;
  auto offsets = snapshot_offsets();
  if (offsets.size() > 1) {
    for (size_t i = 0; i + 1 < offsets.size(); ++i) older_snapshots.push_back(snapshot_path(offsets[i]));
  }
  segments_[base] = Segment::create(ctx_.fs, directory_, base, config_.index_interval_bytes, now_ms);
  sealing_[sealed->base_offset()] = sealed;
  std::weak_ptr<Log> weak = weak_from_this();
  FileSystem& fs = ctx_.fs;
  std::string directory = directory_;
  ctx_.io.run(
      [sealed, &fs, directory, snapshot, snapshot_file, older_snapshots] {
        sealed->log_file()->sync();
        fs.sync_directory(directory);  // the new segment's entry
        sealed->write_index_files(fs);
        fs.write_atomically(snapshot_file, *snapshot);
        for (const auto& old : older_snapshots) fs.remove(old);  // the latest two are kept
      },
      ctx_.loop,
      [weak, base = sealed->base_offset(), directory](std::exception_ptr error) {
        if (error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            spdlog::error("{}: sealing segment {} failed: {}", directory, base, e.what());
          }
        }
        if (auto self = weak.lock()) self->sealing_.erase(base);
      });
}

AppendResult Log::append(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches,
                         int32_t leader_epoch) {
  const int64_t now = ctx_.clock.now_ms();
  AppendResult result;
  // Idempotent producers first: a retried batch is answered from where it already is, a gap or a fenced epoch
  // is refused, and nothing is written in either case.
  for (const auto& validated : batches) {
    auto check = producers_.check(validated.header);
    if (check.outcome == ProducerCheck::Outcome::kRefuse) {
      result.error = check.error;
      result.message = check.message;
      return result;
    }
    if (check.outcome == ProducerCheck::Outcome::kDuplicate) {
      if (batches.size() > 1) {
        result.error = ErrorCode::kDuplicateSequenceNumber;
        result.message = "a batch of this request was written before, the others not";
        return result;
      }
      result.duplicate = true;
      result.base_offset = check.original.first_offset;
      result.last_offset = check.original.last_offset;
      return result;
    }
  }
  if (should_roll(static_cast<int64_t>(records.size()), now)) roll(now);
  result.base_offset = log_end_offset();
  int64_t next = result.base_offset;
  std::vector<BatchHeader> headers;
  headers.reserve(batches.size());
  for (const auto& validated : batches) {
    auto batch = records.subspan(validated.position, validated.header.total_size());
    BatchHeader h = validated.header;
    h.base_offset = next;
    h.partition_leader_epoch = leader_epoch;
    protocol::set_base_offset(batch, next);
    protocol::set_partition_leader_epoch(batch, leader_epoch);
    if (config_.timestamp_type == TimestampType::kLogAppendTime) {
      protocol::set_log_append_time(batch, now);
      h.max_timestamp = now;
      h.attributes |= protocol::kAttributeLogAppendTime;
      result.log_append_time = now;
    }
    next = h.next_offset();
    headers.push_back(h);
  }
  active().append(records, headers);
  for (const auto& h : headers) producers_.record(h, now);
  if (leader_epochs_.assign(leader_epoch, result.base_offset)) persist_leader_epochs();
  result.last_offset = next - 1;
  if (ctx_.probe) {
    ctx_.probe->appends.Increment();
    ctx_.probe->appended_bytes.Increment(static_cast<double>(records.size()));
  }
  return result;
}

AppendResult Log::append_replicated(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches) {
  AppendResult result;
  int64_t next = log_end_offset();
  for (const auto& validated : batches) {
    if (validated.header.base_offset != next) {
      result.error = ErrorCode::kCorruptMessage;
      result.message = "replicated batch at offset " + std::to_string(validated.header.base_offset) +
                       " does not continue the log, which ends at " + std::to_string(next);
      return result;
    }
    next = validated.header.next_offset();
  }
  if (batches.empty()) return result;
  const int64_t now = ctx_.clock.now_ms();
  if (should_roll(static_cast<int64_t>(records.size()), now)) roll(now);
  std::vector<BatchHeader> headers;
  headers.reserve(batches.size());
  bool epochs_changed = false;
  for (const auto& validated : batches) {
    headers.push_back(validated.header);
    epochs_changed |= leader_epochs_.assign(validated.header.partition_leader_epoch, validated.header.base_offset);
  }
  active().append(records, headers);
  for (const auto& h : headers) producers_.record(h, now);
  if (epochs_changed) persist_leader_epochs();
  result.base_offset = batches.front().header.base_offset;
  result.last_offset = next - 1;
  if (ctx_.probe) {
    ctx_.probe->appends.Increment();
    ctx_.probe->appended_bytes.Increment(static_cast<double>(records.size()));
  }
  return result;
}

ReadResult Log::read(int64_t offset, int64_t end_offset, int64_t max_bytes, bool allow_oversized_first) const {
  ReadResult result;
  if (offset >= end_offset) return result;
  auto it = segments_.upper_bound(offset);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    const Segment& segment = *it->second;
    auto first = segment.locate(offset);
    if (!first) continue;  // offset is at this segment's end: the batch is in the next one
    int64_t start = first->position;
    int64_t length = 0;
    std::optional<BatchLocation> batch = first;
    while (batch && batch->base_offset < end_offset) {
      bool fits = length + batch->size <= max_bytes;
      if (!fits && !(length == 0 && allow_oversized_first)) break;
      length += batch->size;
      if (!fits) break;
      batch = segment.batch_at(batch->position + batch->size);
    }
    if (length > 0) {
      const auto& file = segment.log_file();
      if (file->descriptor() >= 0) {
        result.slices.push_back(protocol::FileSlice{file->descriptor(), start, length, file});
      } else {
        auto bytes = segment.read_bytes(start, length);
        result.owned.push_back(std::move(bytes));
      }
      result.bytes = length;
    }
    break;
  }
  return result;
}

std::optional<OffsetAndTimestamp> Log::offset_for_timestamp(int64_t timestamp, int64_t end_offset) const {
  for (const auto& [base, segment] : segments_) {
    if (segment->max_timestamp() < timestamp) continue;
    if (base >= end_offset) return std::nullopt;
    int64_t position = segment->time_search_start(timestamp);
    while (auto location = segment->batch_at(position)) {
      if (location->base_offset >= end_offset) return std::nullopt;
      BatchHeader h = segment->header_at(position);
      if (h.max_timestamp >= timestamp && h.last_offset() >= log_start_offset_) {
        auto bytes = segment->read_bytes(position, location->size);
        for (const auto& record : protocol::decode_records(bytes, 256 * 1024 * 1024)) {
          if (record.offset < log_start_offset_ || record.offset >= end_offset) continue;
          if (record.timestamp >= timestamp)
            return OffsetAndTimestamp{record.offset, record.timestamp, h.partition_leader_epoch};
        }
      }
      position += location->size;
    }
  }
  return std::nullopt;
}

std::optional<OffsetAndTimestamp> Log::offset_of_max_timestamp(int64_t end_offset) const {
  const Segment* best = nullptr;
  for (const auto& [base, segment] : segments_) {
    if (segment->max_timestamp() >= 0 && (!best || segment->max_timestamp() > best->max_timestamp())) {
      best = segment.get();
    }
  }
  if (!best) return std::nullopt;
  auto location = best->locate(best->offset_of_max_timestamp());
  if (!location || location->base_offset >= end_offset) return std::nullopt;
  BatchHeader h = best->header_at(location->position);
  auto bytes = best->read_bytes(location->position, location->size);
  std::optional<OffsetAndTimestamp> result;
  for (const auto& record : protocol::decode_records(bytes, 256 * 1024 * 1024)) {
    if (record.offset >= end_offset || record.offset < log_start_offset_) continue;
    if (!result || record.timestamp > result->timestamp) {
      result = OffsetAndTimestamp{record.offset, record.timestamp, h.partition_leader_epoch};
    }
  }
  return result;
}

int32_t Log::leader_epoch_at(int64_t offset) const {
  auto it = segments_.upper_bound(offset);
  if (it == segments_.begin()) return -1;
  --it;
  auto location = it->second->locate(offset);
  if (!location) return -1;
  return it->second->header_at(location->position).partition_leader_epoch;
}

void Log::sync() {
  if (sync_running_) {
    sync_wanted_ = true;
    return;
  }
  start_sync();
}

void Log::start_sync() {
  sync_running_ = true;
  sync_wanted_ = false;
  const int64_t target = log_end_offset();
  std::vector<std::shared_ptr<File>> files;
  for (const auto& [base, segment] : sealing_) files.push_back(segment->log_file());
  files.push_back(active().log_file());
  std::weak_ptr<Log> weak = weak_from_this();
  std::string directory = directory_;
  ctx_.syncs.submit(std::move(files), [weak, target, directory](std::exception_ptr error) {
    auto self = weak.lock();
    if (!self || self->destroyed_) return;
    self->sync_running_ = false;
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        // Nothing past the last good sync is acknowledged; the next append tries again.
        spdlog::error("{}: fsync failed: {}", directory, e.what());
      }
      return;
    }
    if (self->ctx_.probe) self->ctx_.probe->fsyncs.Increment();
    if (target > self->durable_offset_) {
      self->durable_offset_ = target;
      if (self->durable_listener_) self->durable_listener_(target);
    }
    if (self->sync_wanted_) self->start_sync();
  });
}

void Log::persist_log_start_offset() {
  std::string text = std::to_string(log_start_offset_);
  ctx_.fs.write_atomically(log_start_path(), std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

int64_t Log::delete_records_before(int64_t offset) {
  offset = std::min(offset, log_end_offset());
  if (offset <= log_start_offset_) return log_start_offset_;
  log_start_offset_ = offset;
  persist_log_start_offset();
  producers_.truncate_head(log_start_offset_);
  for (auto it = segments_.begin(); it != segments_.end() && std::next(it) != segments_.end();) {
    auto next = std::next(it);
    if (it->second->next_offset() <= log_start_offset_ && !sealing_.count(it->first)) {
      remove_segment(it->first);
    }
    it = next;
  }
  return log_start_offset_;
}

void Log::remove_segment(int64_t base_offset) {
  auto it = segments_.find(base_offset);
  if (it == segments_.end()) return;
  auto segment = it->second;
  segments_.erase(it);
  log_start_offset_ = std::max(log_start_offset_, segments_.begin()->second->base_offset());
  producers_.truncate_head(log_start_offset_);
  FileSystem& fs = ctx_.fs;
  std::string directory = directory_;
  // In-flight fetches hold the open file; removing its name does not disturb them.
  ctx_.io.run([segment, &fs] { segment->remove_files(fs); }, ctx_.loop,
              [directory, base_offset](std::exception_ptr error) {
                if (error) spdlog::warn("{}: could not remove segment {}", directory, base_offset);
              });
}

int Log::apply_retention() {
  const int64_t now = ctx_.clock.now_ms();
  int removed = 0;
  auto expired = [&](const Segment& s) {
    return config_.retention_ms >= 0 && s.max_timestamp() >= 0 && s.max_timestamp() < now - config_.retention_ms;
  };
  if (!active().empty() && expired(active())) roll(now);  // so that it can go once sealed
  int64_t excess = config_.retention_bytes >= 0 ? size_bytes() - config_.retention_bytes : 0;
  while (segments_.size() > 1) {
    const auto& [base, segment] = *segments_.begin();
    if (sealing_.count(base)) break;
    bool by_time = expired(*segment);
    bool by_size = excess >= segment->size();
    if (!by_time && !by_size) break;
    excess -= segment->size();
    remove_segment(base);
    ++removed;
  }
  return removed;
}

void Log::truncate_to(int64_t offset) {
  while (segments_.size() > 1 && segments_.rbegin()->first >= offset) {
    auto last = segments_.rbegin()->second;
    segments_.erase(last->base_offset());
    sealing_.erase(last->base_offset());
    last->remove_files(ctx_.fs);
  }
  active().truncate_to(offset);
  active().remove_index_files(ctx_.fs);
  durable_offset_ = std::min(durable_offset_, log_end_offset());
  producers_.truncate_tail(log_end_offset());
  if (leader_epochs_.truncate_from_end(log_end_offset())) persist_leader_epochs();
  for (int64_t snapshot : snapshot_offsets()) {
    if (snapshot > log_end_offset()) ctx_.fs.remove(snapshot_path(snapshot));
  }
}

void Log::close() {
  for (const auto& [base, segment] : sealing_) {
    segment->log_file()->sync();
    segment->write_index_files(ctx_.fs);
  }
  sealing_.clear();
  active().log_file()->sync();
  active().write_index_files(ctx_.fs);
  ctx_.fs.write_atomically(snapshot_path(log_end_offset()), producers_.snapshot());
  durable_offset_ = log_end_offset();
}

void Log::destroy() {
  destroyed_ = true;
  std::string doomed = directory_ + "." + std::to_string(ctx_.clock.now_ms()) + "-delete";
  ctx_.fs.rename(directory_, doomed);
  FileSystem& fs = ctx_.fs;
  ctx_.io.run([&fs, doomed] { fs.remove_all(doomed); }, ctx_.loop,
              [doomed](std::exception_ptr error) {
                if (error) spdlog::warn("could not remove {}", doomed);
              });
}

}  // namespace fjord::storage
