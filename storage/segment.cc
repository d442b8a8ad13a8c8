#include "storage/segment.h"

#include <algorithm>
#include <cstdio>

#include "protocol/crc32c.h"

namespace fjord::storage {
namespace {

using protocol::BatchHeader;
using protocol::kBatchHeaderSize;
using protocol::kBatchLengthPrefix;

constexpr size_t kOffsetEntrySize = 8;
constexpr size_t kTimeEntrySize = 12;
// Bytes of a batch header needed to know where the batch ends and what its last offset is.
constexpr size_t kLocateHeaderSize = 27;
constexpr size_t kRecentBatches = 1024;

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_i64(std::vector<uint8_t>& out, int64_t v) {
  auto u = static_cast<uint64_t>(v);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(u >> (8 * i)));
}
uint32_t get_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
int64_t get_i64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return static_cast<int64_t>(v);
}

std::string numbered(int64_t base_offset, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof(name), "%020lld%s", static_cast<long long>(base_offset), suffix);
  return name;
}

}  // namespace

std::string Segment::log_name(int64_t base_offset) { return numbered(base_offset, ".log"); }
std::string Segment::index_name(int64_t base_offset) { return numbered(base_offset, ".index"); }
std::string Segment::time_index_name(int64_t base_offset) { return numbered(base_offset, ".timeindex"); }

Segment::Segment(std::string directory, int64_t base_offset, int64_t index_interval_bytes)
    : directory_(std::move(directory)),
      base_offset_(base_offset),
      index_interval_bytes_(index_interval_bytes),
      next_offset_(base_offset) {}

std::unique_ptr<Segment> Segment::create(FileSystem& fs, const std::string& directory, int64_t base_offset,
                                         int64_t index_interval_bytes, int64_t now_ms) {
  std::unique_ptr<Segment> s(new Segment(directory, base_offset, index_interval_bytes));
  s->log_ = fs.open(join_path(directory, log_name(base_offset)), true);
  if (s->log_->size() != 0) s->log_->truncate(0);  // a leftover of a crash before the segment held anything
  s->created_ms_ = now_ms;
  return s;
}

std::unique_ptr<Segment> Segment::create_staged(FileSystem& fs, const std::string& directory, int64_t base_offset,
                                                int64_t index_interval_bytes, int64_t now_ms) {
  std::unique_ptr<Segment> s(new Segment(directory, base_offset, index_interval_bytes));
  s->suffix_ = kStagedSuffix;
  s->log_ = fs.open(s->path_of(log_name(base_offset)), true);
  if (s->log_->size() != 0) s->log_->truncate(0);
  s->created_ms_ = now_ms;
  return s;
}

std::string Segment::swap_name(int64_t base_offset, int64_t replaced_until) {
  return numbered(base_offset, "-") + numbered(replaced_until, ".swap");
}

std::string Segment::path_of(const std::string& name) const { return join_path(directory_, name + suffix_); }

std::unique_ptr<Segment> Segment::open(FileSystem& fs, const std::string& directory, int64_t base_offset,
                                       int64_t index_interval_bytes, int64_t now_ms, bool trust_index_files,
                                       ScanResult* scan_result) {
  std::unique_ptr<Segment> s(new Segment(directory, base_offset, index_interval_bytes));
  s->log_ = fs.open(join_path(directory, log_name(base_offset)), false);
  s->created_ms_ = now_ms;
  if (trust_index_files && s->load_index_files(fs) && s->load_tail_after_index()) {
    if (scan_result) scan_result->valid_bytes = s->size();
  } else {
    ScanResult r = s->scan_and_rebuild();
    if (scan_result) *scan_result = r;
  }
  return s;
}

void Segment::note_batch(const BatchHeader& h, int64_t position) {
  auto size = static_cast<int64_t>(h.total_size());
  auto relative = static_cast<uint32_t>(h.base_offset - base_offset_);
  if (h.max_timestamp > max_timestamp_) {
    max_timestamp_ = h.max_timestamp;
    offset_of_max_timestamp_ = h.base_offset;
  }
  if (bytes_since_index_entry_ >= index_interval_bytes_ && position > 0) {
    offset_index_.push_back({relative, static_cast<uint32_t>(position)});
    if (time_index_.empty() || max_timestamp_ > time_index_.back().max_timestamp) {
      time_index_.push_back({max_timestamp_, relative});
    }
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += size;
  recent_batches_.push_back({h.base_offset, h.last_offset(), position, size});
  if (recent_batches_.size() > kRecentBatches) recent_batches_.pop_front();
  next_offset_ = h.next_offset();
}

void Segment::append(std::span<const uint8_t> bytes, const std::vector<BatchHeader>& batches) {
  int64_t position = size();
  log_->append(bytes);
  for (const auto& h : batches) {
    note_batch(h, position);
    position += static_cast<int64_t>(h.total_size());
  }
}

std::optional<BatchLocation> Segment::batch_at(int64_t position) const {
  uint8_t header[kLocateHeaderSize];
  if (position + static_cast<int64_t>(kLocateHeaderSize) > size()) return std::nullopt;
  if (log_->read(position, header) != kLocateHeaderSize) return std::nullopt;
  int64_t base = get_i64(header);
  auto length = static_cast<int32_t>(get_u32(header + 8));
  auto last_delta = static_cast<int32_t>(get_u32(header + 23));
  return BatchLocation{base, base + last_delta, position, static_cast<int64_t>(kBatchLengthPrefix) + length};
}

BatchHeader Segment::header_at(int64_t position) const {
  uint8_t header[kBatchHeaderSize];
  if (log_->read(position, header) != kBatchHeaderSize) throw std::runtime_error("short read of a batch header");
  return protocol::parse_batch_header(header);
}

std::vector<uint8_t> Segment::read_bytes(int64_t position, int64_t size) const {
  std::vector<uint8_t> out(static_cast<size_t>(size));
  out.resize(log_->read(position, out));
  return out;
}

std::optional<BatchLocation> Segment::locate(int64_t offset) const {
  if (offset >= next_offset_) return std::nullopt;
  if (!recent_batches_.empty() && offset >= recent_batches_.front().base_offset) {
    auto it = std::lower_bound(recent_batches_.begin(), recent_batches_.end(), offset,
                               [](const BatchLocation& b, int64_t o) { return b.last_offset < o; });
    if (it != recent_batches_.end()) return *it;
    return std::nullopt;
  }
  int64_t position = 0;
  auto relative = offset - base_offset_;
  auto it = std::upper_bound(
      offset_index_.begin(), offset_index_.end(), relative,
      [](int64_t r, const OffsetIndexEntry& e) { return r < static_cast<int64_t>(e.relative_offset); });
  if (it != offset_index_.begin()) position = std::prev(it)->position;
  while (auto batch = batch_at(position)) {
    if (batch->last_offset >= offset) return batch;
    position += batch->size;
  }
  return std::nullopt;
}

int64_t Segment::time_search_start(int64_t timestamp) const {
  auto it = std::lower_bound(time_index_.begin(), time_index_.end(), timestamp,
                             [](const TimeIndexEntry& e, int64_t ts) { return e.max_timestamp < ts; });
  if (it == time_index_.begin()) return 0;
  int64_t offset = base_offset_ + std::prev(it)->relative_offset;
  auto location = locate(offset);
  return location ? location->position : 0;
}

ScanResult Segment::scan_and_rebuild() {
  ScanResult result;
  offset_index_.clear();
  time_index_.clear();
  recent_batches_.clear();
  bytes_since_index_entry_ = 0;
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  next_offset_ = base_offset_;
  const int64_t file_size = size();
  int64_t position = 0;
  std::vector<uint8_t> buffer;
  while (position < file_size) {
    if (file_size - position < static_cast<int64_t>(kBatchHeaderSize)) {
      result.reason = "torn batch header";
      break;
    }
    BatchHeader h = header_at(position);
    if (h.magic != protocol::kMagicV2 || h.batch_length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix) ||
        position + static_cast<int64_t>(h.total_size()) > file_size) {
      result.reason = "torn or invalid batch header";
      break;
    }
    if (h.base_offset < next_offset_ || h.last_offset_delta < 0) {
      result.reason = "batch offsets go backwards";
      break;
    }
    buffer.resize(h.total_size());
    if (log_->read(position, buffer) != buffer.size() || protocol::compute_batch_crc(buffer) != h.crc) {
      result.reason = "batch CRC mismatch";
      break;
    }
    note_batch(h, position);
    position += static_cast<int64_t>(h.total_size());
  }
  result.valid_bytes = position;
  result.truncated_bytes = file_size - position;
  if (position < file_size) log_->truncate(position);
  return result;
}

bool Segment::load_index_files(FileSystem& fs) {
  auto index = fs.read_all(path_of(index_name(base_offset_)));
  auto time_index = fs.read_all(path_of(time_index_name(base_offset_)));
  if (!index || !time_index) return false;
  if (index->size() % kOffsetEntrySize != 0 || time_index->size() % kTimeEntrySize != 0) return false;
  std::vector<OffsetIndexEntry> offsets;
  for (size_t i = 0; i < index->size(); i += kOffsetEntrySize) {
    OffsetIndexEntry e{get_u32(index->data() + i), get_u32(index->data() + i + 4)};
    if (!offsets.empty() &&
        (e.relative_offset <= offsets.back().relative_offset || e.position <= offsets.back().position)) {
      return false;
    }
    if (static_cast<int64_t>(e.position) >= size()) return false;
    offsets.push_back(e);
  }
  std::vector<TimeIndexEntry> times;
  for (size_t i = 0; i < time_index->size(); i += kTimeEntrySize) {
    TimeIndexEntry e{get_i64(time_index->data() + i), get_u32(time_index->data() + i + 8)};
    if (!times.empty() && e.max_timestamp <= times.back().max_timestamp) return false;
    times.push_back(e);
  }
  offset_index_ = std::move(offsets);
  time_index_ = std::move(times);
  return true;
}

bool Segment::load_tail_after_index() {
  // The indexes cover the segment up to their last entry; the batches after it are read here, each checked as a
  // scan would check it. Anything wrong means the index files cannot be trusted after all.
  int64_t position = offset_index_.empty() ? 0 : offset_index_.back().position;
  if (!time_index_.empty()) {
    max_timestamp_ = time_index_.back().max_timestamp;
    offset_of_max_timestamp_ = base_offset_ + time_index_.back().relative_offset;
  }
  bytes_since_index_entry_ = 0;
  next_offset_ = base_offset_ + (offset_index_.empty() ? 0 : offset_index_.back().relative_offset);
  const int64_t file_size = size();
  std::vector<uint8_t> buffer;
  while (position < file_size) {
    if (file_size - position < static_cast<int64_t>(kBatchHeaderSize)) return false;
    BatchHeader h = header_at(position);
    if (h.magic != protocol::kMagicV2 || h.batch_length < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix) ||
        position + static_cast<int64_t>(h.total_size()) > file_size || h.base_offset < next_offset_ ||
        h.last_offset_delta < 0) {
      return false;
    }
    buffer.resize(h.total_size());
    if (log_->read(position, buffer) != buffer.size() || protocol::compute_batch_crc(buffer) != h.crc) return false;
    if (h.max_timestamp > max_timestamp_) {
      max_timestamp_ = h.max_timestamp;
      offset_of_max_timestamp_ = h.base_offset;
    }
    bytes_since_index_entry_ += static_cast<int64_t>(h.total_size());
    recent_batches_.push_back({h.base_offset, h.last_offset(), position, static_cast<int64_t>(h.total_size())});
    if (recent_batches_.size() > kRecentBatches) recent_batches_.pop_front();
    next_offset_ = h.next_offset();
    position += static_cast<int64_t>(h.total_size());
  }
  return true;
}

void Segment::truncate_to(int64_t offset) {
  auto location = locate(offset);
  if (!location) return;
  const int64_t cut = location->position;
  log_->truncate(cut);
  while (!offset_index_.empty() && static_cast<int64_t>(offset_index_.back().position) >= cut) {
    offset_index_.pop_back();
  }
  // A time entry sits beside the offset entry of the same batch, so the ones past the last offset entry left go.
  if (offset_index_.empty()) {
    time_index_.clear();
  } else {
    while (!time_index_.empty() && time_index_.back().relative_offset > offset_index_.back().relative_offset) {
      time_index_.pop_back();
    }
  }
  recent_batches_.clear();
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  // The bytes before the cut were valid when appended; a tail that no longer reads back is scanned in full.
  if (!load_tail_after_index()) scan_and_rebuild();
}

Segment::IndexFiles Segment::index_files() const {
  IndexFiles files;
  files.index_path = path_of(index_name(base_offset_));
  files.index.reserve(offset_index_.size() * kOffsetEntrySize);
  for (const auto& e : offset_index_) {
    put_u32(files.index, e.relative_offset);
    put_u32(files.index, e.position);
  }
  files.time_index_path = path_of(time_index_name(base_offset_));
  files.time_index.reserve(time_index_.size() * kTimeEntrySize);
  for (const auto& e : time_index_) {
    put_i64(files.time_index, e.max_timestamp);
    put_u32(files.time_index, e.relative_offset);
  }
  return files;
}

void Segment::IndexFiles::write(FileSystem& fs) const {
  fs.write_atomically(index_path, index);
  fs.write_atomically(time_index_path, time_index);
}

void Segment::remove_index_files(FileSystem& fs) const {
  fs.remove(path_of(index_name(base_offset_)));
  fs.remove(path_of(time_index_name(base_offset_)));
}

void Segment::remove_files(FileSystem& fs) const {
  remove_index_files(fs);
  fs.remove(path_of(log_name(base_offset_)));
}

std::vector<std::string> Segment::rename_for_deletion(FileSystem& fs, bool index_files_only) const {
  std::vector<std::string> renamed;
  for (const auto& name : {log_name(base_offset_), index_name(base_offset_), time_index_name(base_offset_)}) {
    if (index_files_only && name == log_name(base_offset_)) continue;
    const std::string path = path_of(name);
    if (!fs.exists(path)) continue;
    fs.rename(path, path + kDeletedSuffix);
    renamed.push_back(path + kDeletedSuffix);
  }
  return renamed;
}

}  // namespace fjord::storage
