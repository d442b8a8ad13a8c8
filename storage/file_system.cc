#include "storage/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace fjord::storage {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, int64_t size) : fd_(fd), path_(std::move(path)), size_(size) {}
  ~PosixFile() override { ::close(fd_); }

  int64_t size() const override { return size_.load(std::memory_order_acquire); }

  void append(std::span<const uint8_t> data) override {
    const uint8_t* p = data.data();
    size_t left = data.size();
    int64_t position = size_.load(std::memory_order_relaxed);
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, position);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("write " + path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
      position += n;
    }
    size_.store(position, std::memory_order_release);
  }

  size_t read(int64_t position, std::span<uint8_t> out) const override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, position + static_cast<int64_t>(done));
      if (n < 0) {
        if (errno == EINTR) continue;
        throw_errno("read " + path_);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  void sync() override {
    if (::fdatasync(fd_) != 0) throw_errno("fdatasync " + path_);
  }

  void truncate(int64_t size) override {
    if (::ftruncate(fd_, size) != 0) throw_errno("truncate " + path_);
    size_.store(size, std::memory_order_release);
  }

  int descriptor() const override { return fd_; }

 private:
  int fd_;
  std::string path_;
  std::atomic<int64_t> size_;
};

}  // namespace

std::string parent_directory(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string join_path(const std::string& directory, const std::string& name) {
  if (directory.empty()) return name;
  if (directory.back() == '/') return directory + name;
  return directory + "/" + name;
}

void FileSystem::write_atomically(const std::string& path, std::span<const uint8_t> data) {
  std::string temporary = path + ".tmp";
  if (exists(temporary)) remove(temporary);
  {
    auto file = open(temporary, true);
    file->append(data);
    file->sync();
  }
  rename(temporary, path);
  sync_directory(parent_directory(path));
}

std::optional<std::vector<uint8_t>> FileSystem::read_all(const std::string& path) {
  if (!exists(path)) return std::nullopt;
  auto file = open(path, false);
  std::vector<uint8_t> data(static_cast<size_t>(file->size()));
  data.resize(file->read(0, data));
  return data;
}

std::shared_ptr<File> PosixFileSystem::open(const std::string& path, bool create) {
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) throw_errno("open " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw_errno("stat " + path);
  }
  return std::make_shared<PosixFile>(fd, path, st.st_size);
}

bool PosixFileSystem::exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno("remove " + path);
}

void PosixFileSystem::remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) throw std::system_error(ec, "remove " + path);
}

void PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) throw_errno("rename " + from + " to " + to);
}

std::vector<std::string> PosixFileSystem::list(const std::string& directory) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
    names.push_back(entry.path().filename().string());
  }
  if (ec) throw std::system_error(ec, "list " + directory);
  return names;
}

void PosixFileSystem::create_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw std::system_error(ec, "create " + path);
}

void PosixFileSystem::sync_directory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("open directory " + path);
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    errno = saved;
    throw_errno("fsync directory " + path);
  }
}

void PosixFileSystem::sync_file_system(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno("open directory " + path);
  int rc = ::syncfs(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) {
    errno = saved;
    throw_errno("syncfs " + path);
  }
}

}  // namespace fjord::storage
