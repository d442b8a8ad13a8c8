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
constexpr const char* kCleanerCheckpointFile = "cleaner-checkpoint";

bool parse_segment_name(const std::string& name, const std::string& suffix, int64_t& base_offset) {
  if (name.size() != 20 + suffix.size() || name.compare(20, suffix.size(), suffix) != 0) return false;
  auto [ptr, ec] = std::from_chars(name.data(), name.data() + 20, base_offset);
  return ec == std::errc() && ptr == name.data() + 20;
}

std::string describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

// segment.jitter.ms: how much earlier than segment.ms this segment rolls. Derived from the segment's identity
// rather than drawn at random, so that partitions created together spread their rolls and a test can predict it.
int64_t roll_jitter(const std::string& directory, int64_t base_offset, int64_t jitter_ms) {
  if (jitter_ms <= 0) return 0;
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : directory) h = (h ^ c) * 1099511628211ull;
  h = (h ^ static_cast<uint64_t>(base_offset)) * 1099511628211ull;
  return static_cast<int64_t>(h % static_cast<uint64_t>(jitter_ms));
}

}  // namespace

Log::Log(LogContext context, std::string directory, LogConfig config)
    : ctx_(context), directory_(std::move(directory)), config_(config) {}

Log::~Log() {
  // Whoever still waits for a sync learns it will not come (the callbacks of a job in flight run when it ends).
  auto waiting = std::move(next_callbacks_);
  for (auto& done : waiting) done(false);
}

std::shared_ptr<Log> Log::open(LogContext context, std::string directory, LogConfig config) {
  std::shared_ptr<Log> log(new Log(context, std::move(directory), config));
  log->load();
  return log;
}

std::string Log::log_start_path() const { return join_path(directory_, kLogStartFile); }
std::string Log::leader_epochs_path() const { return join_path(directory_, kLeaderEpochFile); }
std::string Log::cleaner_checkpoint_path() const { return join_path(directory_, kCleanerCheckpointFile); }

template <typename Work>
bool Log::guarded(const char* what, Work&& work) {
  try {
    work();
    return true;
  } catch (const std::exception& e) {
    fail(std::string(what) + ": " + e.what());
    return false;
  }
}

void Log::load() {
  auto& fs = ctx_.fs;
  if (!fs.exists(directory_)) {
    // A new partition: its directory and first segment exist at once, and become durable with its first sync,
    // before anything in it is acknowledged.
    fs.create_directories(directory_);
    directories_to_sync_.push_back(parent_directory(directory_));
    directories_to_sync_.push_back(directory_);
    segments_[0] = Segment::create(fs, directory_, 0, config_.index_interval_bytes, ctx_.clock.now_ms());
    return;
  }
  recover_compaction();
  std::vector<int64_t> bases;
  for (const auto& name : fs.list(directory_)) {
    int64_t base = 0;
    if (parse_segment_name(name, ".log", base)) {
      bases.push_back(base);
    } else if (name.ends_with(".tmp") || name.ends_with(Segment::kDeletedSuffix)) {
      // An index or checkpoint write that a crash interrupted, or a removal that it did not let finish.
      fs.remove(join_path(directory_, name));
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
    // An empty segment before the last is kept: compaction leaves one where every record went, and the offsets
    // it covered must not move the log start.
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
    directories_to_sync_.push_back(directory_);
  } else {
    // The active segment's index files would go stale with the next append; a crash must rebuild them instead.
    active().remove_index_files(fs);
    active().log_file()->sync();
  }
  log_start_offset_ = std::clamp(log_start_offset_, segments_.begin()->second->base_offset(), log_end_offset());
  durable_offset_ = log_end_offset();
  load_producer_state();
  load_leader_epochs();
  if (auto bytes = fs.read_all(cleaner_checkpoint_path())) {
    if (auto loaded = CleanerCheckpoint::parse(*bytes)) cleaner_checkpoint_ = std::move(*loaded);
  }
  cleaner_checkpoint_.truncate(log_end_offset());
}

void Log::recover_compaction() {
  auto& fs = ctx_.fs;
  auto names = fs.list(directory_);
  for (const auto& name : names) {
    // A pass that had not committed: what it staged goes, the old segments are whole.
    if (name.ends_with(Segment::kStagedSuffix)) fs.remove(join_path(directory_, name));
  }
  bool finished = false;
  for (const auto& name : names) {
    // BASE-UNTIL.swap: committed. Every segment it replaces goes (those still there), then it takes its name;
    // its index files are rebuilt from the .log (those of either generation may be on disk).
    int64_t base = 0;
    int64_t until = 0;
    if (!name.ends_with(".swap") || name.size() != 41 + 5 || name[20] != '-') continue;
    if (std::from_chars(name.data(), name.data() + 20, base).ec != std::errc() ||
        std::from_chars(name.data() + 21, name.data() + 41, until).ec != std::errc()) {
      continue;
    }
    for (const auto& other : fs.list(directory_)) {
      int64_t other_base = 0;
      if (!parse_segment_name(other, ".log", other_base) && !parse_segment_name(other, ".index", other_base) &&
          !parse_segment_name(other, ".timeindex", other_base)) {
        continue;
      }
      if (other_base >= base && other_base < until) fs.remove(join_path(directory_, other));
    }
    fs.rename(join_path(directory_, name), join_path(directory_, Segment::log_name(base)));
    spdlog::info("{}: finished swapping in the cleaned segment {} (replacing offsets {} to {})", directory_, base, base,
                 until - 1);
    finished = true;
  }
  if (finished) fs.sync_directory(directory_);
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
      if (h.producer_id >= 0 && h.last_offset() >= replay_from) {
        // A marker's record says which way its transaction ended: control batches are read whole (they are
        // small); other batches by their header alone.
        std::vector<uint8_t> bytes;
        if (h.is_control()) bytes = segment->read_bytes(position, batch->size);
        record_batch(bytes, h, h.max_timestamp);
      }
      position += batch->size;
    }
  }
  producers_.truncate_head(log_start_offset_);
}

void Log::load_leader_epochs() {
  std::optional<LeaderEpochs> loaded;
  if (auto bytes = ctx_.fs.read_all(leader_epochs_path())) loaded = LeaderEpochs::parse(*bytes);
  if (loaded) {
    leader_epochs_ = std::move(*loaded);
  } else if (log_end_offset() > log_start_offset_) {
    // No history (a log from a single node, which writes one epoch, or a damaged file): the epoch of the first
    // batch from the start is the best that can be said without reading every batch.
    leader_epochs_.assign(std::max(leader_epoch_at(log_start_offset_), 0), log_start_offset_);
  }
  // Epochs that began in a tail that recovery dropped are not part of this log.
  if (leader_epochs_.truncate_from_end(log_end_offset()) || !loaded) {
    ctx_.fs.write_atomically(leader_epochs_path(), leader_epochs_.serialize());
  }
}

void Log::assign_leader_epoch(int32_t epoch) {
  if (leader_epochs_.assign(epoch, log_end_offset())) {
    leader_epochs_dirty_ = true;
    sync();
  }
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
  // A compacted log rolls by max.compaction.lag.ms too: the active segment is never cleaned.
  const int64_t segment_ms =
      config_.compact ? std::min(config_.segment_ms, config_.max_compaction_lag_ms) : config_.segment_ms;
  const int64_t roll_after = segment_ms - roll_jitter(directory_, s.base_offset(), config_.segment_jitter_ms);
  if (now_ms - s.created_ms() >= roll_after) return true;
  // The next batch could add an index entry to a full index.
  if (static_cast<int64_t>(s.offset_index_entries() + 1) * Segment::kOffsetIndexEntryBytes >
      config_.segment_index_bytes) {
    return true;
  }
  // Relative offsets in the index are 32-bit.
  return log_end_offset() - s.base_offset() > std::numeric_limits<int32_t>::max() / 2;
}

void Log::roll(int64_t now_ms) {
  auto sealed = segments_.rbegin()->second;
  const int64_t base = log_end_offset();
  // Producer state as of the roll, so that a restart replays at most the segments after it.
  auto snapshot = std::make_shared<std::vector<uint8_t>>(producers_.snapshot());
  // The new file's directory entry is made durable by the next sync, before anything in it is acknowledged.
  segments_[base] = Segment::create(ctx_.fs, directory_, base, config_.index_interval_bytes, now_ms);
  directories_to_sync_.push_back(directory_);
  sealing_[sealed->base_offset()] = Sealing{sealed, snapshot, false};
  // Under a relaxed flush policy too: the sealed segment's index files are written only once it is durable.
  sync();
}

AppendResult Log::append(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches,
                         int32_t leader_epoch, bool check_sequences) {
  AppendResult result;
  if (failed_) {
    result.error = ErrorCode::kKafkaStorageError;
    result.message = "the log directory is offline";
    return result;
  }
  // Idempotent producers first: a retried batch is answered from where it already is, a gap or a fenced epoch
  // is refused, and nothing is written in either case.
  for (const auto& validated : batches) {
    const auto& h = validated.header;
    auto check = check_sequences || h.producer_id < 0
                     ? producers_.check(h)
                     : producers_.check_marker(h.producer_id, h.producer_epoch, std::numeric_limits<int32_t>::max());
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
  return write(records, batches, leader_epoch, std::move(result));
}

AppendResult Log::append_marker(int64_t producer_id, int16_t producer_epoch, protocol::ControlMarker marker,
                                int32_t leader_epoch) {
  AppendResult result;
  if (failed_) {
    result.error = ErrorCode::kKafkaStorageError;
    result.message = "the log directory is offline";
    return result;
  }
  auto check = producers_.check_marker(producer_id, producer_epoch, marker.coordinator_epoch);
  if (check.outcome == ProducerCheck::Outcome::kRefuse) {
    result.error = check.error;
    result.message = check.message;
    return result;
  }
  auto batch = protocol::build_control_batch(producer_id, producer_epoch, marker, ctx_.clock.now_ms());
  std::vector<protocol::ValidatedBatch> batches{{0, protocol::parse_batch_header(batch)}};
  return write(batch, batches, leader_epoch, std::move(result));
}

void Log::record_batch(std::span<const uint8_t> batch, const BatchHeader& header, int64_t now_ms) {
  if (header.producer_id < 0) return;
  std::optional<protocol::ControlMarker> marker;
  if (header.is_control()) marker = protocol::parse_control_marker(batch);
  producers_.record(header, now_ms, marker ? std::optional(marker->type) : std::nullopt,
                    marker ? marker->coordinator_epoch : -1);
}

AppendResult Log::write(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches,
                        int32_t leader_epoch, AppendResult result) {
  const int64_t now = ctx_.clock.now_ms();
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
    if (config_.timestamp_type == TimestampType::kLogAppendTime && !h.is_control()) {
      protocol::set_log_append_time(batch, now);
      h.max_timestamp = now;
      h.attributes |= protocol::kAttributeLogAppendTime;
      result.log_append_time = now;
    }
    next = h.next_offset();
    headers.push_back(h);
  }
  const bool written = guarded("append", [&] {
    if (should_roll(static_cast<int64_t>(records.size()), now)) roll(now);
    active().append(records, headers);
  });
  if (!written) {
    result = AppendResult{};
    result.error = ErrorCode::kKafkaStorageError;
    result.message = "writing to the log failed; the log directory is offline";
    return result;
  }
  for (size_t i = 0; i < headers.size(); ++i) {
    record_batch(records.subspan(batches[i].position, headers[i].total_size()), headers[i], now);
  }
  if (leader_epochs_.assign(leader_epoch, result.base_offset)) leader_epochs_dirty_ = true;
  result.last_offset = next - 1;
  if (ctx_.probe) {
    ctx_.probe->appends.Increment();
    ctx_.probe->appended_bytes.Increment(static_cast<double>(records.size()));
  }
  return result;
}

AppendResult Log::append_replicated(std::span<uint8_t> records, const std::vector<protocol::ValidatedBatch>& batches) {
  AppendResult result;
  if (failed_) {
    result.error = ErrorCode::kKafkaStorageError;
    result.message = "the log directory is offline";
    return result;
  }
  if (!batches.empty() && log_start_offset_ == log_end_offset()) {
    // An empty log that begins inside the leader's first batch (its log start, which DeleteRecords may put in
    // the middle of a batch): the log starts again at that batch, whose records below the log start stay
    // invisible, as Kafka's followers do.
    const auto& first = batches.front().header;
    if (first.base_offset < log_end_offset() && first.last_offset() >= log_end_offset()) {
      const int64_t start = log_start_offset_;
      reset_to(first.base_offset);
      log_start_offset_ = start;
    }
  }
  int64_t next = log_end_offset();
  for (const auto& validated : batches) {
    // A batch may begin past the log end: the leader's log was compacted and the offsets between are gone there.
    if (validated.header.base_offset < next) {
      result.error = ErrorCode::kCorruptMessage;
      result.message = "replicated batch at offset " + std::to_string(validated.header.base_offset) +
                       " does not continue the log, which ends at " + std::to_string(next);
      return result;
    }
    next = validated.header.next_offset();
  }
  if (batches.empty()) return result;
  const int64_t now = ctx_.clock.now_ms();
  std::vector<BatchHeader> headers;
  headers.reserve(batches.size());
  for (const auto& validated : batches) headers.push_back(validated.header);
  const bool written = guarded("append", [&] {
    if (should_roll(static_cast<int64_t>(records.size()), now)) roll(now);
    active().append(records, headers);
  });
  if (!written) {
    result.error = ErrorCode::kKafkaStorageError;
    result.message = "writing to the log failed; the log directory is offline";
    return result;
  }
  for (size_t i = 0; i < headers.size(); ++i) {
    const auto& h = headers[i];
    record_batch(records.subspan(batches[i].position, h.total_size()), h, now);
    if (leader_epochs_.assign(h.partition_leader_epoch, h.base_offset)) leader_epochs_dirty_ = true;
  }
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
      result.next_offset = batch->last_offset + 1;
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

std::optional<Log::FileRange> Log::range_from(int64_t offset, int64_t max_bytes) const {
  auto it = segments_.upper_bound(offset);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    const Segment& segment = *it->second;
    auto first = segment.locate(offset);
    if (!first) continue;  // offset is at this segment's end: the batch is in the next one
    const int64_t length = std::max(first->size, std::min(max_bytes, segment.size() - first->position));
    return FileRange{segment.log_file(), first->position, length};
  }
  return std::nullopt;
}

std::optional<int64_t> Log::timestamp_at(int64_t offset, int64_t end_offset) const {
  constexpr int kMaxBatches = 16;  // markers and emptied batches in between: enough, and bounded
  offset = std::max(offset, log_start_offset_);
  int batches = 0;
  auto it = segments_.upper_bound(offset);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    const Segment& segment = *it->second;
    auto location = segment.locate(offset);
    while (location && batches++ < kMaxBatches) {
      if (location->base_offset >= end_offset) return std::nullopt;
      const BatchHeader h = segment.header_at(location->position);
      if (!h.is_control()) {
        auto bytes = segment.read_bytes(location->position, location->size);
        for (const auto& record : protocol::decode_records(bytes, 256 * 1024 * 1024)) {
          if (record.offset >= end_offset) return std::nullopt;
          if (record.offset >= offset) return record.timestamp;
        }
      }
      location = segment.batch_at(location->position + location->size);
    }
    if (batches >= kMaxBatches) return std::nullopt;
  }
  return std::nullopt;
}

Log::RetentionOutlook Log::retention_outlook(int64_t offset) const {
  RetentionOutlook outlook;
  auto holding = segments_.upper_bound(std::max(offset, log_start_offset_));
  if (holding != segments_.begin()) --holding;
  if (config_.retention_ms >= 0) {
    int64_t newest = -1;
    for (auto it = segments_.begin();; ++it) {
      newest = std::max(newest, it->second->max_timestamp());
      if (it == holding) break;
    }
    if (newest >= 0) outlook.deletable_at_ms = newest + config_.retention_ms;
  }
  if (config_.retention_bytes >= 0) {
    int64_t after = 0;
    for (auto it = std::next(holding); it != segments_.end(); ++it) after += it->second->size();
    outlook.bytes_until_deleted = std::max<int64_t>(0, config_.retention_bytes - after);
  }
  return outlook;
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

// ---------------------------------------------------------------------------------------------------------------
// Syncing: one job at a time per log, each covering everything appended and every checkpoint changed before it
// started.

bool Log::sync_pending_work() const {
  return durable_offset_ < log_end_offset() || log_start_dirty_ || leader_epochs_dirty_ || cleaner_checkpoint_dirty_ ||
         !directories_to_sync_.empty() ||
         std::any_of(sealing_.begin(), sealing_.end(), [](const auto& s) { return !s.second.indexing; });
}

void Log::sync(SyncDone done) {
  if (failed_ || destroyed_) {
    if (done) done(false);
    return;
  }
  if (sync_running_) {
    // The job in flight covers this caller when nothing was appended or changed since it started.
    const bool covered = running_target_ >= log_end_offset() && running_valid_until_ >= running_target_ &&
                         !log_start_dirty_ && !leader_epochs_dirty_ && !cleaner_checkpoint_dirty_ &&
                         directories_to_sync_.empty();
    if (done) (covered ? running_callbacks_->push_back(std::move(done)) : next_callbacks_.push_back(std::move(done)));
    if (!covered) sync_wanted_ = true;
    return;
  }
  if (!sync_pending_work() && next_callbacks_.empty()) {
    if (done) done(true);
    return;
  }
  if (done) next_callbacks_.push_back(std::move(done));
  start_sync();
}

void Log::start_sync() {
  sync_running_ = true;
  sync_wanted_ = false;
  const int64_t target = log_end_offset();
  running_target_ = target;
  running_valid_until_ = target;
  running_callbacks_ = std::make_shared<std::vector<SyncDone>>(std::move(next_callbacks_));
  next_callbacks_.clear();

  SyncScheduler::Job job;
  std::vector<int64_t> sealed_bases;
  for (const auto& [base, sealing] : sealing_) {
    if (sealing.indexing) continue;
    job.files.push_back(sealing.segment->log_file());
    sealed_bases.push_back(base);
  }
  job.files.push_back(active().log_file());
  job.directories = std::move(directories_to_sync_);
  directories_to_sync_.clear();
  // Checkpoints are written before the records they describe are made durable: whatever a sync makes durable,
  // the epochs and log start it depends on are durable too.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> checkpoints;
  if (leader_epochs_dirty_) checkpoints.emplace_back(leader_epochs_path(), leader_epochs_.serialize());
  if (log_start_dirty_) {
    std::string text = std::to_string(log_start_offset_);
    checkpoints.emplace_back(log_start_path(), std::vector<uint8_t>(text.begin(), text.end()));
  }
  if (cleaner_checkpoint_dirty_) checkpoints.emplace_back(cleaner_checkpoint_path(), cleaner_checkpoint_.serialize());
  leader_epochs_dirty_ = false;
  log_start_dirty_ = false;
  cleaner_checkpoint_dirty_ = false;
  if (!checkpoints.empty()) {
    job.prepare = [&fs = ctx_.fs, checkpoints = std::move(checkpoints)] {
      for (const auto& [path, bytes] : checkpoints) fs.write_atomically(path, bytes);
    };
  }
  std::weak_ptr<Log> weak = weak_from_this();
  auto callbacks = running_callbacks_;
  ctx_.syncs.submit(std::move(job), [weak, target, sealed_bases = std::move(sealed_bases),
                                     callbacks](std::exception_ptr error) mutable {
    auto self = weak.lock();
    if (!self) {
      for (auto& done : *callbacks) done(false);
      return;
    }
    self->on_sync_done(error, target, std::move(sealed_bases), callbacks);
  });
}

void Log::on_sync_done(std::exception_ptr error, int64_t target, std::vector<int64_t> sealed_bases,
                       const std::shared_ptr<std::vector<SyncDone>>& callbacks) {
  sync_running_ = false;
  if (error) fail("sync failed: " + describe(error));
  const bool durable = !error && !destroyed_ && !failed_;
  if (durable) {
    if (ctx_.probe) ctx_.probe->fsyncs.Increment();
    const int64_t covered = std::min(target, running_valid_until_);
    if (covered > durable_offset_) {
      durable_offset_ = covered;
      if (durable_listener_) durable_listener_(covered);
    }
    for (int64_t base : sealed_bases) seal(base);
  }
  auto answered = std::move(*callbacks);
  callbacks->clear();
  for (auto& done : answered) done(durable);
  if (durable && sync_wanted_) start_sync();
}

void Log::seal(int64_t base_offset) {
  auto it = sealing_.find(base_offset);
  if (it == sealing_.end() || it->second.indexing) return;
  it->second.indexing = true;
  auto segment = it->second.segment;
  auto index_files = std::make_shared<Segment::IndexFiles>(segment->index_files());
  auto snapshot = it->second.producer_snapshot;
  // The snapshot describes the state at the roll, which is where the next segment begins.
  auto next = segments_.upper_bound(base_offset);
  const std::string snapshot_file = snapshot_path(next == segments_.end() ? log_end_offset() : next->first);
  std::vector<std::string> older_snapshots;
  auto offsets = snapshot_offsets();
  for (size_t i = 0; i + 1 < offsets.size(); ++i) older_snapshots.push_back(snapshot_path(offsets[i]));
  std::weak_ptr<Log> weak = weak_from_this();
  FileSystem& fs = ctx_.fs;
  ctx_.io.run(
      [&fs, index_files, snapshot, snapshot_file, older_snapshots] {
        index_files->write(fs);
        fs.write_atomically(snapshot_file, *snapshot);
        for (const auto& old : older_snapshots) fs.remove(old);  // the latest two are kept
      },
      ctx_.loop,
      [weak, base_offset, segment, index_files](std::exception_ptr error) {
        auto self = weak.lock();
        if (!self) return;
        if (error) self->fail("sealing segment " + std::to_string(base_offset) + ": " + describe(error));
        auto sealed = self->sealing_.find(base_offset);
        if (sealed != self->sealing_.end() && sealed->second.segment == segment) {
          self->sealing_.erase(sealed);
          return;
        }
        // Truncated back into, or removed, while its index files were written: they describe bytes that are
        // gone, and must not be trusted at the next start.
        std::vector<std::string> renamed;
        self->guarded("renaming stale index files", [&] {
          for (const auto& path : {index_files->index_path, index_files->time_index_path}) {
            if (!self->ctx_.fs.exists(path)) continue;
            self->ctx_.fs.rename(path, path + Segment::kDeletedSuffix);
            renamed.push_back(path + Segment::kDeletedSuffix);
          }
        });
        self->delete_files(std::move(renamed));
      });
}

void Log::fail(const std::string& reason) {
  if (failed_) return;
  failed_ = true;
  // The first failure says what happened; the directory's other logs follow it quietly.
  const bool first = !ctx_.health || !ctx_.health->offline();
  spdlog::log(first ? spdlog::level::err : spdlog::level::debug,
              "{}: {}; the log is offline (nothing more is written, synced or acknowledged)", directory_, reason);
  auto waiting = std::move(next_callbacks_);
  next_callbacks_.clear();
  for (auto& done : waiting) done(false);
  if (ctx_.health) ctx_.health->fail(directory_ + ": " + reason);
  if (failure_listener_) failure_listener_();
}

// ---------------------------------------------------------------------------------------------------------------
// Removing records: retention, DeleteRecords, truncation.

void Log::delete_files(std::vector<std::string> renamed) {
  if (renamed.empty()) return;
  if (!ctx_.timers || config_.file_delete_delay_ms <= 0) return remove_files_now(std::move(renamed));
  pending_deletions_.push_back({ctx_.clock.monotonic_ms() + config_.file_delete_delay_ms, std::move(renamed)});
  if (!deletion_timer_) arm_deletion_timer();
}

void Log::arm_deletion_timer() {
  const int64_t delay = std::max<int64_t>(pending_deletions_.front().due_ms - ctx_.clock.monotonic_ms(), 0);
  // The timer goes with the log: what it had not removed yet is removed at the next start (*.deleted).
  deletion_timer_ = ctx_.timers->schedule_after(delay, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    const int64_t now = self->ctx_.clock.monotonic_ms();
    while (!self->pending_deletions_.empty() && self->pending_deletions_.front().due_ms <= now) {
      self->remove_files_now(std::move(self->pending_deletions_.front().paths));
      self->pending_deletions_.pop_front();
    }
    self->deletion_timer_.reset();
    if (!self->pending_deletions_.empty()) self->arm_deletion_timer();
  });
}

void Log::remove_files_now(std::vector<std::string> paths) {
  FileSystem& fs = ctx_.fs;
  ctx_.io.run(
      [&fs, paths = std::move(paths)] {
        for (const auto& path : paths) fs.remove(path);
      },
      ctx_.loop,
      [directory = directory_](std::exception_ptr error) {
        // Only names already marked deleted are left behind; the next start removes them.
        if (error) spdlog::warn("{}: could not remove deleted files: {}", directory, describe(error));
      });
}

void Log::delete_segment_files(const Segment& segment) {
  std::vector<std::string> renamed;
  if (guarded("renaming a removed segment", [&] { renamed = segment.rename_for_deletion(ctx_.fs); })) {
    delete_files(std::move(renamed));
  }
}

int64_t Log::delete_records_before(int64_t offset) {
  offset = std::min(offset, log_end_offset());
  if (offset <= log_start_offset_ || failed_) return log_start_offset_;
  log_start_offset_ = offset;
  log_start_dirty_ = true;
  producers_.truncate_head(log_start_offset_);
  for (auto it = segments_.begin(); it != segments_.end() && std::next(it) != segments_.end();) {
    auto next = std::next(it);
    if (it->second->next_offset() <= log_start_offset_ && !sealing_.count(it->first)) {
      remove_segment(it->first);
    }
    it = next;
  }
  sync();
  return log_start_offset_;
}

void Log::remove_segment(int64_t base_offset) {
  auto it = segments_.find(base_offset);
  if (it == segments_.end()) return;
  auto segment = it->second;
  segments_.erase(it);
  log_start_offset_ = std::max(log_start_offset_, segments_.begin()->second->base_offset());
  producers_.truncate_head(log_start_offset_);
  // In-flight fetches hold the open file; renaming and then removing its name does not disturb them.
  delete_segment_files(*segment);
}

int Log::apply_retention() {
  if (failed_) return 0;
  const int64_t now = ctx_.clock.now_ms();
  int removed = 0;
  auto expired = [&](const Segment& s) {
    return config_.retention_ms >= 0 && s.max_timestamp() >= 0 && s.max_timestamp() < now - config_.retention_ms;
  };
  if (!active().empty() && expired(active())) {
    if (!guarded("rolling an expired segment", [&] { roll(now); })) return 0;  // so that it can go once sealed
  }
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
  if (offset >= log_end_offset() || failed_) return;
  guarded("truncating", [&] {
    while (segments_.size() > 1 && segments_.rbegin()->first >= offset) {
      auto last = segments_.rbegin()->second;
      segments_.erase(last->base_offset());
      sealing_.erase(last->base_offset());
      delete_segment_files(*last);
    }
    // The new active segment may be one that was sealed: its index files would go stale with the next append
    // (and a seal job in flight removes what it writes once it sees the segment is active again).
    sealing_.erase(active().base_offset());
    delete_files(active().rename_for_deletion(ctx_.fs, true));
    active().truncate_to(offset);
  });
  // The removed segments' names must not come back after a crash, beside what is appended after the cut: the
  // next sync makes the renames durable before it acknowledges anything.
  directories_to_sync_.push_back(directory_);
  running_valid_until_ = std::min(running_valid_until_, log_end_offset());
  durable_offset_ = std::min(durable_offset_, log_end_offset());
  producers_.truncate_tail(log_end_offset());
  if (leader_epochs_.truncate_from_end(log_end_offset())) leader_epochs_dirty_ = true;
  const auto checkpoint_before = cleaner_checkpoint_;
  cleaner_checkpoint_.truncate(log_end_offset());
  if (!(cleaner_checkpoint_ == checkpoint_before)) cleaner_checkpoint_dirty_ = true;
  std::vector<std::string> stale_snapshots;
  for (int64_t snapshot : snapshot_offsets()) {
    if (snapshot > log_end_offset()) stale_snapshots.push_back(snapshot_path(snapshot));
  }
  if (!stale_snapshots.empty()) {
    std::vector<std::string> renamed;
    guarded("renaming stale snapshots", [&] {
      for (const auto& path : stale_snapshots) {
        ctx_.fs.rename(path, path + Segment::kDeletedSuffix);
        renamed.push_back(path + Segment::kDeletedSuffix);
      }
    });
    delete_files(std::move(renamed));
  }
  sync();
}

void Log::reset_to(int64_t offset) {
  if (failed_) return;
  guarded("starting the log again", [&] {
    for (const auto& [base, segment] : segments_) delete_segment_files(*segment);
    segments_.clear();
    sealing_.clear();
    segments_[offset] = Segment::create(ctx_.fs, directory_, offset, config_.index_interval_bytes, ctx_.clock.now_ms());
    directories_to_sync_.push_back(directory_);
  });
  if (failed_) return;
  log_start_offset_ = offset;
  log_start_dirty_ = true;
  durable_offset_ = offset;
  running_valid_until_ = std::min(running_valid_until_, offset);
  producers_ = ProducerStateManager();
  leader_epochs_ = LeaderEpochs();
  leader_epochs_dirty_ = true;
  cleaner_checkpoint_ = CleanerCheckpoint{offset, {}};
  cleaner_checkpoint_dirty_ = true;
  sync();
}

void Log::close() {
  if (failed_) return;
  for (const auto& [base, sealing] : sealing_) {
    sealing.segment->log_file()->sync();
    sealing.segment->write_index_files(ctx_.fs);
  }
  sealing_.clear();
  // Written whether or not they changed: a sync job in flight may not have written them yet.
  ctx_.fs.write_atomically(leader_epochs_path(), leader_epochs_.serialize());
  const std::string log_start = std::to_string(log_start_offset_);
  ctx_.fs.write_atomically(log_start_path(), std::vector<uint8_t>(log_start.begin(), log_start.end()));
  ctx_.fs.write_atomically(cleaner_checkpoint_path(), cleaner_checkpoint_.serialize());
  leader_epochs_dirty_ = log_start_dirty_ = cleaner_checkpoint_dirty_ = false;
  active().log_file()->sync();
  for (const auto& directory : directories_to_sync_) ctx_.fs.sync_directory(directory);
  directories_to_sync_.clear();
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

namespace fjord::storage {

// ---------------------------------------------------------------------------------------------------------------
// Compaction: what may be cleaned, and swapping a pass's result in.

Log::Cleanable Log::cleanable() const {
  Cleanable c;
  c.first_dirty_offset = std::clamp(cleaner_checkpoint_.first_dirty_offset, segments_.begin()->first, log_end_offset());
  c.end_offset = segments_.begin()->first;
  const int64_t now = ctx_.clock.now_ms();
  // A transaction still open may yet abort: nothing from its first batch on is cleaned until it has ended.
  const int64_t unstable = producers_.first_unstable_offset().value_or(std::numeric_limits<int64_t>::max());
  for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {
    const Segment& segment = *it->second;
    if (sealing_.count(it->first) || segment.next_offset() > durable_offset_ || segment.next_offset() > unstable) break;
    if (config_.min_compaction_lag_ms > 0 && segment.max_timestamp() > now - config_.min_compaction_lag_ms) break;
    c.end_offset = std::next(it)->first;
    if (segment.next_offset() <= c.first_dirty_offset) {
      c.clean_bytes += segment.size();
      continue;
    }
    c.dirty_bytes += segment.size();
    if (c.first_dirty_timestamp < 0 && !segment.empty()) {
      // For max.compaction.lag.ms and the cleaner's lag: one batch header, read from the page cache.
      try {
        auto first = segment.locate(c.first_dirty_offset);
        if (first) c.first_dirty_timestamp = segment.header_at(first->position).max_timestamp;
      } catch (const std::exception&) {
        // Unreadable now: the pass itself will say why.
      }
    }
  }
  return c;
}

std::optional<CompactionInput> Log::prepare_compaction() const {
  if (failed_ || destroyed_) return std::nullopt;
  const Cleanable c = cleanable();
  if (c.dirty_bytes == 0) return std::nullopt;
  CompactionInput input;
  input.directory = directory_;
  for (const auto& [base, segment] : segments_) {
    if (base >= c.end_offset) break;
    input.segments.push_back({segment, segment->log_file(), base, segment->next_offset(), segment->size()});
  }
  input.end_offset = c.end_offset;
  input.first_dirty_offset = c.first_dirty_offset;
  input.tombstone_horizon = std::min(
      cleaner_checkpoint_.tombstone_horizon(ctx_.clock.now_ms(), config_.delete_retention_ms), c.first_dirty_offset);
  input.producer_last_offsets = producers_.last_batch_offsets();
  input.aborted = producers_.aborted_between(segments_.begin()->first, c.end_offset);
  input.segment_bytes = config_.segment_bytes;
  input.index_interval_bytes = config_.index_interval_bytes;
  input.now_ms = ctx_.clock.now_ms();
  return input;
}

bool Log::finish_compaction(CompactionResult result) {
  auto unchanged = [&](const CleanedGroup& group) {
    for (const auto& old : group.replaced) {
      auto it = segments_.find(old->base_offset());
      // Still the same sealed segment, not truncated, and not the active one.
      if (it == segments_.end() || it->second != old || std::next(it) == segments_.end() || sealing_.count(it->first)) {
        return false;
      }
    }
    return true;
  };
  const bool valid = !failed_ && !destroyed_ && std::all_of(result.groups.begin(), result.groups.end(), unchanged) &&
                     result.cleaned_until <= log_end_offset();
  if (!valid) {
    FileSystem& fs = ctx_.fs;
    ctx_.io.run([&fs, result = std::move(result)] { remove_staged(fs, result); }, ctx_.loop,
                [directory = directory_](std::exception_ptr error) {
                  if (error)
                    spdlog::warn("{}: could not remove a cleaning pass's files: {}", directory, describe(error));
                });
    return false;
  }
  auto& fs = ctx_.fs;
  const bool swapped = guarded("swapping cleaned segments", [&] {
    for (auto& group : result.groups) {
      // The commit point: BASE-UNTIL.swap names the cleaned .log and what it replaces. Then the old files go to
      // *.deleted, the cleaned index files and .log take their names. A crash at any step leaves either the old
      // segments whole (no .swap) or a .swap that recovery finishes.
      const std::string staged_log =
          join_path(directory_, Segment::log_name(group.base_offset) + Segment::kStagedSuffix);
      const std::string swap = join_path(directory_, Segment::swap_name(group.base_offset, group.replaced_until));
      fs.rename(staged_log, swap);
      std::vector<std::string> renamed;
      for (const auto& old : group.replaced) {
        auto files = old->rename_for_deletion(fs);
        renamed.insert(renamed.end(), files.begin(), files.end());
        segments_.erase(old->base_offset());
      }
      for (const auto& name : {Segment::index_name(group.base_offset), Segment::time_index_name(group.base_offset)}) {
        fs.rename(join_path(directory_, name + Segment::kStagedSuffix), join_path(directory_, name));
      }
      fs.rename(swap, join_path(directory_, Segment::log_name(group.base_offset)));
      group.cleaned->unstage();
      segments_[group.base_offset] = group.cleaned;
      delete_files(std::move(renamed));
    }
  });
  if (!swapped) return false;
  // The aborted transactions that ended below this pass's end have no record left to skip: a read_committed
  // Fetch need not list them any more, and the index stops growing with every abort.
  producers_.forget_aborted_before(result.cleaned_until);
  cleaner_checkpoint_.record_pass(result.cleaned_until, ctx_.clock.now_ms(), config_.delete_retention_ms);
  cleaner_checkpoint_dirty_ = true;
  directories_to_sync_.push_back(directory_);
  sync();
  return true;
}

}  // namespace fjord::storage
