// Test-only: a disk in memory that can lose power. crash() keeps exactly what a real disk guarantees after power
// loss: the bytes of each file up to its last sync, and only the directory entries that a directory sync made
// durable. Everything else is forgotten, so a log that acknowledges before it syncs loses data here.
#pragma once

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
  // old contents but no longer belong to the file system.
  void crash();

  // Corrupts one byte of a file in place (for recovery tests).
  void flip_byte(const std::string& path, int64_t position);
  int64_t sync_count() const { return syncs_; }

  struct Contents {
    std::vector<uint8_t> data;
    size_t synced_size = 0;  // data[0, synced_size) survives a crash
  };

 private:
  struct Entry {
    std::shared_ptr<Contents> contents;
    bool durable = false;                        // the directory entry survives a crash
    std::shared_ptr<Contents> durable_contents;  // what a crash restores at this name (after renames)
  };
  std::recursive_mutex mutex_;
  std::map<std::string, Entry> files_;
  std::map<std::string, bool> directories_;  // path -> durable
  int64_t syncs_ = 0;
  friend class SimulatedFile;
};

}  // namespace fjord::storage::testing
