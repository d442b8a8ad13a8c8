#include "storage/testing/simulated_file_system.h"

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace fjord::storage::testing {

class SimulatedFile final : public File {
 public:
  SimulatedFile(SimulatedFileSystem* fs, std::shared_ptr<SimulatedFileSystem::Contents> contents)
      : fs_(fs), contents_(std::move(contents)) {}

  int64_t size() const override {
    std::lock_guard lock(fs_->mutex_);
    return static_cast<int64_t>(contents_->data.size());
  }
  void append(std::span<const uint8_t> data) override {
    std::lock_guard lock(fs_->mutex_);
    if (fs_->appends_to_fail_ > 0) {
      --fs_->appends_to_fail_;
      contents_->data.insert(contents_->data.end(), data.begin(), data.begin() + static_cast<long>(data.size() / 2));
      throw std::system_error(fs_->append_error_, std::generic_category(), "write");
    }
    contents_->data.insert(contents_->data.end(), data.begin(), data.end());
  }
  size_t read(int64_t position, std::span<uint8_t> out) const override {
    std::lock_guard lock(fs_->mutex_);
    const auto& d = contents_->data;
    if (position >= static_cast<int64_t>(d.size())) return 0;
    size_t n = std::min(out.size(), d.size() - static_cast<size_t>(position));
    std::copy_n(d.begin() + position, n, out.begin());
    fs_->bytes_read_ += static_cast<int64_t>(n);
    return n;
  }
  void sync() override {
    std::lock_guard lock(fs_->mutex_);
    fs_->maybe_fail_sync(contents_.get());
    contents_->synced_size = contents_->data.size();
    ++fs_->syncs_;
  }
  void truncate(int64_t size) override {
    std::lock_guard lock(fs_->mutex_);
    contents_->data.resize(static_cast<size_t>(size));
    contents_->synced_size = std::min(contents_->synced_size, contents_->data.size());
  }
  int descriptor() const override { return -1; }

 private:
  SimulatedFileSystem* fs_;
  std::shared_ptr<SimulatedFileSystem::Contents> contents_;
};

namespace {
[[noreturn]] void not_found(const std::string& path) { throw std::system_error(ENOENT, std::generic_category(), path); }
}  // namespace

std::shared_ptr<File> SimulatedFileSystem::open(const std::string& path, bool create) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  if (it == files_.end()) {
    if (!create) not_found(path);
    if (!directories_.count(parent_directory(path))) not_found(parent_directory(path));
    it = files_.emplace(path, std::make_shared<Contents>()).first;
    journal_.push_back({"", path, it->second});
  }
  return std::make_shared<SimulatedFile>(this, it->second);
}

bool SimulatedFileSystem::exists(const std::string& path) {
  std::lock_guard lock(mutex_);
  return files_.count(path) || directories_.count(path);
}

void SimulatedFileSystem::remove(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (files_.erase(path)) journal_.push_back({path, "", nullptr});
}

void SimulatedFileSystem::remove_all(const std::string& path) {
  std::lock_guard lock(mutex_);
  std::string prefix = path + "/";
  std::erase_if(files_, [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
  std::erase_if(durable_files_, [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
  forget_journal_under(prefix);
  std::erase_if(directories_, [&](const auto& kv) { return kv.first == path || kv.first.rfind(prefix, 0) == 0; });
}

void SimulatedFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mutex_);
  if (directories_.count(from)) {
    // Directory rename: move every entry below it.
    std::map<std::string, std::shared_ptr<Contents>> moved;
    std::string prefix = from + "/";
    for (auto it = files_.begin(); it != files_.end();) {
      if (it->first.rfind(prefix, 0) == 0) {
        moved.emplace(to + "/" + it->first.substr(prefix.size()), it->second);
        it = files_.erase(it);
      } else {
        ++it;
      }
    }
    files_.insert(moved.begin(), moved.end());
    // Directories are kept durable here (see create_directories): the renamed tree is what a crash restores.
    std::erase_if(durable_files_, [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
    for (const auto& [path, contents] : moved) durable_files_[path] = contents;
    forget_journal_under(prefix);
    bool durable = directories_[from];
    directories_.erase(from);
    directories_[to] = durable;
    return;
  }
  auto it = files_.find(from);
  if (it == files_.end()) not_found(from);
  auto contents = it->second;
  files_.erase(it);
  files_[to] = contents;  // until the directory is synced, a crash brings back both names as they were
  journal_.push_back({from, to, contents});
}

std::vector<std::string> SimulatedFileSystem::list(const std::string& directory) {
  std::lock_guard lock(mutex_);
  if (!directories_.count(directory)) not_found(directory);
  std::vector<std::string> names;
  std::string prefix = directory + "/";
  for (const auto& [path, entry] : files_) {
    if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos) {
      names.push_back(path.substr(prefix.size()));
    }
  }
  for (const auto& [path, durable] : directories_) {
    if (path.rfind(prefix, 0) == 0 && path.find('/', prefix.size()) == std::string::npos) {
      names.push_back(path.substr(prefix.size()));
    }
  }
  return names;
}

void SimulatedFileSystem::create_directories(const std::string& path) {
  std::lock_guard lock(mutex_);
  std::string so_far;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    so_far = path.substr(0, slash);
    if (!so_far.empty()) directories_.emplace(so_far, true);  // directories themselves are kept durable
    start = slash + 1;
  }
}

void SimulatedFileSystem::fail_syncs(int count, int error) {
  std::lock_guard lock(mutex_);
  syncs_to_fail_ = count;
  sync_error_ = error;
}

void SimulatedFileSystem::fail_appends(int count, int error) {
  std::lock_guard lock(mutex_);
  appends_to_fail_ = count;
  append_error_ = error;
}

void SimulatedFileSystem::maybe_fail_sync(Contents* contents) {
  if (syncs_to_fail_ == 0) return;
  --syncs_to_fail_;
  // The writeback failed: whatever was dirty is gone from the disk's point of view, though still readable.
  if (contents) {
    contents->lost_after = std::min(contents->lost_after, contents->synced_size);
  } else {
    for (auto& [name, file] : files_) file->lost_after = std::min(file->lost_after, file->synced_size);
  }
  throw std::system_error(sync_error_, std::generic_category(), "sync");
}

void SimulatedFileSystem::sync_directory(const std::string& path) {
  std::lock_guard lock(mutex_);
  maybe_fail_sync(nullptr);
  make_directory_durable(path);
  ++syncs_;
}

void SimulatedFileSystem::forget_journal_under(const std::string& prefix) {
  std::erase_if(journal_, [&](const DirectoryOperation& op) {
    return op.from.rfind(prefix, 0) == 0 || op.to.rfind(prefix, 0) == 0;
  });
}

void SimulatedFileSystem::make_directory_durable(const std::string& directory) {
  const std::string prefix = directory + "/";
  auto in_directory = [&](const std::string& name) {
    return name.rfind(prefix, 0) == 0 && name.find('/', prefix.size()) == std::string::npos;
  };
  std::erase_if(durable_files_, [&](const auto& kv) { return in_directory(kv.first); });
  for (const auto& [name, contents] : files_) {
    if (in_directory(name)) durable_files_[name] = contents;
  }
  std::erase_if(journal_, [&](const DirectoryOperation& op) {
    return (op.from.empty() || in_directory(op.from)) && (op.to.empty() || in_directory(op.to));
  });
}

void SimulatedFileSystem::sync_file_system(const std::string&) {
  std::lock_guard lock(mutex_);
  maybe_fail_sync(nullptr);
  for (auto& [name, contents] : files_) contents->synced_size = contents->data.size();
  durable_files_ = files_;
  journal_.clear();
  ++syncs_;
}

void SimulatedFileSystem::crash(size_t kept_directory_operations) {
  std::lock_guard lock(mutex_);
  auto names = durable_files_;
  for (size_t i = 0; i < journal_.size() && i < kept_directory_operations; ++i) {
    const auto& op = journal_[i];
    if (!op.from.empty()) names.erase(op.from);
    if (!op.to.empty()) names[op.to] = op.contents;
  }
  journal_.clear();
  std::map<std::string, std::shared_ptr<Contents>> survivors;
  for (const auto& [name, before] : names) {
    auto restored = std::make_shared<Contents>();
    const size_t kept = std::min(before->synced_size, before->lost_after);
    restored->data.assign(before->data.begin(), before->data.begin() + static_cast<long>(kept));
    restored->synced_size = restored->data.size();
    survivors.emplace(name, restored);
  }
  files_ = survivors;
  durable_files_ = std::move(survivors);
}

void SimulatedFileSystem::flip_byte(const std::string& path, int64_t position) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  if (it == files_.end()) not_found(path);
  it->second->data.at(static_cast<size_t>(position)) ^= 0xFF;
}

}  // namespace fjord::storage::testing
