// Test-only: a disk in memory that can lose power. crash() keeps exactly what a real disk guarantees after power
// loss: the bytes of each file up to its last sync, and each directory as its last sync left it. Every entry
// created, renamed or removed since is undone (a renamed file is back under its old name, a removed one is back),
// which is one of the states a journaling file system may leave. Everything else is forgotten, so a log that
// acknowledges before it syncs loses data here.
#pragma once

#include <cerrno>
#include <cstdint>
#include <map>
#include <mutex>

#include "storage/file_system.h"

namespace fjord::storage::testing {

class SimulatedFileSystem final : public FileSystem {
 public:
  std::shared_ptr<File> open(const std::string& path, bool create) override;
  bool exists(const std::string& path) override;
  void remove(const std::string& path) override;
  void remove_all(const std::string& path) override;
  void rename(const std::string& from, const std::string& to) override;
  std::vector<std::string> list(const std::string& directory) override;
  void create_directories(const std::string& path) override;
  void sync_directory(const std::string& path) override;
  void sync_file_system(const std::string& path) override;

  // Power loss: unsynced bytes and undurable directory entries vanish. Open File objects keep working on their
  // old contents but no longer belong to the file system. A journaling file system commits directory changes in
  // order, so a crash may also keep the first `kept_directory_operations` creations, renames and removals made
  // since the last directory sync (a test tries each prefix).
  void crash(size_t kept_directory_operations = 0);
  // Directory operations a crash would undo now.
  size_t undurable_directory_operations() const { return journal_.size(); }

  // Corrupts one byte of a file in place (for recovery tests).
  void flip_byte(const std::string& path, int64_t position);
  int64_t sync_count() const { return syncs_; }
  // Bytes read from files so far (to show that some work reads little).
  int64_t bytes_read() const { return bytes_read_; }

  // Faults, as a real disk shows them. The next `count` syncs (of files, directories or the whole file system)
  // fail with `error`; like Linux after a failed writeback, the file's dirty pages are then dropped as if
  // written: a later sync "succeeds" but nothing written before the failure, past what was already durable,
  // survives a crash (the "fsyncgate" behaviour that makes retrying a failed fsync unsafe).
  void fail_syncs(int count, int error = EIO);
  // The next `count` appends write half their bytes, then fail with `error` (a full disk).
  void fail_appends(int count, int error = ENOSPC);

  struct Contents {
    std::vector<uint8_t> data;
    size_t synced_size = 0;        // data[0, synced_size) survives a crash...
    size_t lost_after = SIZE_MAX;  // ...but never past here: pages a failed sync dropped
  };

 private:
  // Live names, and the names as the last sync of their directory left them (what a crash restores).
  std::recursive_mutex mutex_;
  std::map<std::string, std::shared_ptr<Contents>> files_;
  std::map<std::string, std::shared_ptr<Contents>> durable_files_;
  // Creations (from empty), renames and removals (to empty) not yet made durable, oldest first.
  struct DirectoryOperation {
    std::string from;
    std::string to;
    std::shared_ptr<Contents> contents;
  };
  std::vector<DirectoryOperation> journal_;
  void make_directory_durable(const std::string& directory);
  // Directories are removed and renamed durably at once here: their files' pending operations go with them.
  void forget_journal_under(const std::string& prefix);
  std::map<std::string, bool> directories_;  // path -> durable
  int64_t syncs_ = 0;
  int64_t bytes_read_ = 0;
  int syncs_to_fail_ = 0;
  int sync_error_ = 0;
  int appends_to_fail_ = 0;
  int append_error_ = 0;
  // Called with the mutex held: throws when a fault is due.
  void maybe_fail_sync(Contents* contents);
  friend class SimulatedFile;
};

}  // namespace fjord::storage::testing
