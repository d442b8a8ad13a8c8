// One segment of a partition log: a .log file of record batches plus its sparse offset and time indexes.
// Byte layouts: storage/FORMAT.md. A segment is owned by its Log and used only on the Log's event loop, except
// that a sealed segment's files may be synced and its index files written on an I/O thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/record_batch.h"
#include "storage/file_system.h"

namespace fjord::storage {

struct OffsetIndexEntry {
  uint32_t relative_offset;
  uint32_t position;
};

struct TimeIndexEntry {
  int64_t max_timestamp;
  uint32_t relative_offset;
};

// Where a batch lies in a segment.
struct BatchLocation {
  int64_t base_offset;
  int64_t last_offset;
  int64_t position;
  int64_t size;
};

struct ScanResult {
  int64_t valid_bytes = 0;      // bytes of whole, valid batches from the start of the file
  int64_t truncated_bytes = 0;  // bytes dropped after them
  std::string reason;           // why the scan stopped early, if it did
};

class Segment {
 public:
  static std::string log_name(int64_t base_offset);
  static std::string index_name(int64_t base_offset);
  static std::string time_index_name(int64_t base_offset);

  // A new, empty segment.
  static std::unique_ptr<Segment> create(FileSystem& fs, const std::string& directory, int64_t base_offset,
                                         int64_t index_interval_bytes, int64_t now_ms);
  // A segment the log cleaner writes beside the log: its files carry kStagedSuffix until the log swaps it in
  // (storage/FORMAT.md, "Compaction"), and unstage() is called once they were renamed to their segment names.
  static std::unique_ptr<Segment> create_staged(FileSystem& fs, const std::string& directory, int64_t base_offset,
                                                int64_t index_interval_bytes, int64_t now_ms);
  static constexpr const char* kStagedSuffix = ".cleaned";
  bool staged() const { return !suffix_.empty(); }
  void unstage() { suffix_.clear(); }
  // The name a cleaned segment's .log takes while it replaces the segments in [base_offset, replaced_until): the
  // swap's commit point, which recovery finishes.
  static std::string swap_name(int64_t base_offset, int64_t replaced_until);
  // An existing segment. With trust_index_files, index files that are present and consistent are used as they
  // are; otherwise (or when they are absent or inconsistent) the whole .log is scanned and repaired.
  static std::unique_ptr<Segment> open(FileSystem& fs, const std::string& directory, int64_t base_offset,
                                       int64_t index_interval_bytes, int64_t now_ms, bool trust_index_files,
                                       ScanResult* scan_result);

  int64_t base_offset() const { return base_offset_; }
  int64_t next_offset() const { return next_offset_; }
  int64_t size() const { return log_->size(); }
  bool empty() const { return size() == 0; }
  int64_t max_timestamp() const { return max_timestamp_; }
  int64_t offset_of_max_timestamp() const { return offset_of_max_timestamp_; }
  int64_t created_ms() const { return created_ms_; }
  size_t offset_index_entries() const { return offset_index_.size(); }
  static constexpr int64_t kOffsetIndexEntryBytes = 8;
  const std::shared_ptr<File>& log_file() const { return log_; }

  // Appends batches whose offsets are already assigned; `batches` describes them in order.
  void append(std::span<const uint8_t> bytes, const std::vector<protocol::BatchHeader>& batches);

  // The first batch whose last offset is >= offset, if the segment holds one.
  std::optional<BatchLocation> locate(int64_t offset) const;
  // The batch at `position` (which must be a batch boundary), if one starts there.
  std::optional<BatchLocation> batch_at(int64_t position) const;
  // Full header of the batch at `position`.
  protocol::BatchHeader header_at(int64_t position) const;
  std::vector<uint8_t> read_bytes(int64_t position, int64_t size) const;

  // Position to start a search for the first record with timestamp >= ts.
  int64_t time_search_start(int64_t timestamp) const;

  // Drops every batch at or after `offset`. Bounded work: the file is cut, index entries past the cut go, and
  // only the batches after the last index entry left are read again (never the whole segment).
  void truncate_to(int64_t offset);

  // The index files' bytes as they are now, taken on the loop so that an I/O thread can write them while the
  // loop goes on changing the segment.
  struct IndexFiles {
    std::string index_path;
    std::vector<uint8_t> index;
    std::string time_index_path;
    std::vector<uint8_t> time_index;
    // Blocking: writes both (temporary name, sync, rename).
    void write(FileSystem& fs) const;
  };
  IndexFiles index_files() const;
  // Blocking: index_files().write(fs); at start and at a clean stop.
  void write_index_files(FileSystem& fs) const { index_files().write(fs); }
  void remove_index_files(FileSystem& fs) const;
  // Blocking: removes the segment's files.
  void remove_files(FileSystem& fs) const;
  // Renames the segment's files (those that exist; only the index files with `index_files_only`) to
  // NAME.deleted and returns their new paths, for the caller to remove later (file.delete.delay.ms). Only
  // directory entries change, so it is cheap enough for the event loop, and a new segment may take this base
  // offset at once.
  std::vector<std::string> rename_for_deletion(FileSystem& fs, bool index_files_only = false) const;
  static constexpr const char* kDeletedSuffix = ".deleted";

 private:
  Segment(std::string directory, int64_t base_offset, int64_t index_interval_bytes);
  ScanResult scan_and_rebuild();
  bool load_index_files(FileSystem& fs);
  bool load_tail_after_index();
  void note_batch(const protocol::BatchHeader& header, int64_t position);

  std::string path_of(const std::string& name) const;

  std::string directory_;
  std::string suffix_;  // kStagedSuffix while staged
  int64_t base_offset_;
  int64_t index_interval_bytes_;
  std::shared_ptr<File> log_;
  int64_t next_offset_;
  int64_t max_timestamp_ = -1;
  int64_t offset_of_max_timestamp_ = -1;
  int64_t created_ms_ = 0;
  int64_t bytes_since_index_entry_ = 0;
  std::vector<OffsetIndexEntry> offset_index_;
  std::vector<TimeIndexEntry> time_index_;
  // The last batches appended, so that a consumer reading at the tail finds its batch without touching the file.
  std::deque<BatchLocation> recent_batches_;
};

}  // namespace fjord::storage
