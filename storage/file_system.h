// Files, injected. The log reaches the disk only through these interfaces, so that tests can run it on a
// simulated disk that forgets every byte not yet synced when it "loses power" (storage/testing).
//
// Errors are thrown as std::system_error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace fjord::storage {

class File {
 public:
  virtual ~File() = default;
  virtual int64_t size() const = 0;
  // Writes at the end of the file.
  virtual void append(std::span<const uint8_t> data) = 0;
  // Reads up to out.size() bytes at `position`; returns how many were read (fewer only at the end of the file).
  virtual size_t read(int64_t position, std::span<uint8_t> out) const = 0;
  // Makes every byte appended so far durable (fdatasync). Safe to call from another thread than append's.
  virtual void sync() = 0;
  virtual void truncate(int64_t size) = 0;
  // A descriptor the network layer may sendfile from; -1 when the file has none (then its bytes are copied).
  virtual int descriptor() const = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Opens a file for reading and appending; creates it when `create` is set. Throws when it does not exist.
  virtual std::shared_ptr<File> open(const std::string& path, bool create) = 0;
  virtual bool exists(const std::string& path) = 0;
  virtual void remove(const std::string& path) = 0;
  virtual void remove_all(const std::string& path) = 0;
  virtual void rename(const std::string& from, const std::string& to) = 0;
  // Names (not paths) of the entries of a directory.
  virtual std::vector<std::string> list(const std::string& directory) = 0;
  virtual void create_directories(const std::string& path) = 0;
  // Makes the directory's entries (created, renamed, removed files) durable.
  virtual void sync_directory(const std::string& path) = 0;
  // Makes everything written to the file system holding `path` durable, files and directory entries (syncfs):
  // one journal commit where syncing each file would take one per file.
  virtual void sync_file_system(const std::string& path) = 0;

  // Replaces `path` with `data` so that a crash leaves either the old or the new contents.
  void write_atomically(const std::string& path, std::span<const uint8_t> data);
  std::optional<std::vector<uint8_t>> read_all(const std::string& path);
};

std::string parent_directory(const std::string& path);
std::string join_path(const std::string& directory, const std::string& name);

// The real disk, through POSIX calls.
class PosixFileSystem final : public FileSystem {
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
};

}  // namespace fjord::storage
