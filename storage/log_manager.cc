#include "storage/log_manager.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace fjord::storage {
namespace {

constexpr const char* kCleanShutdownFile = ".clean-shutdown";

// "orders-3" -> ("orders", 3). Topic names may contain '-', so the partition is what follows the last one.
bool parse_partition_directory(const std::string& name, TopicPartitionKey& key) {
  auto dash = name.find_last_of('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return false;
  int32_t partition = 0;
  auto [ptr, ec] = std::from_chars(name.data() + dash + 1, name.data() + name.size(), partition);
  if (ec != std::errc() || ptr != name.data() + name.size() || partition < 0) return false;
  key = {name.substr(0, dash), partition};
  return true;
}

}  // namespace

LogManager::LogManager(LogContext context, std::string data_directory)
    : ctx_(context), data_directory_(std::move(data_directory)) {
  ctx_.fs.create_directories(data_directory_);
  if (ctx_.health) {
    // One failed write or sync anywhere in the directory: no log in it is trusted with another.
    ctx_.health->on_offline([this](const std::string& reason) {
      for (auto& [key, log] : logs_) log->fail("the log directory went offline (" + reason + ")");
    });
  }
}

std::string LogManager::partition_directory(const TopicPartitionKey& key) const {
  return join_path(data_directory_, key.topic + "-" + std::to_string(key.partition));
}

bool LogManager::clean_shutdown_marker_present() {
  return ctx_.fs.exists(join_path(data_directory_, kCleanShutdownFile));
}

void LogManager::open_existing(const std::function<LogConfig(const TopicPartitionKey&)>& config_for) {
  auto& fs = ctx_.fs;
  std::string marker = join_path(data_directory_, kCleanShutdownFile);
  clean_shutdown_ = fs.exists(marker);
  for (const auto& name : fs.list(data_directory_)) {
    std::string path = join_path(data_directory_, name);
    if (name.size() > 7 && name.compare(name.size() - 7, 7, "-delete") == 0) {
      fs.remove_all(path);  // a deletion that the stop interrupted
      continue;
    }
    TopicPartitionKey key;
    if (!parse_partition_directory(name, key)) continue;
    logs_[key] = Log::open(ctx_, path, config_for(key));
  }
  if (!clean_shutdown_ && !logs_.empty()) {
    spdlog::info("the previous stop was not clean: segments without index files were scanned and repaired");
  }
  // From here on the logs change: a crash must not look like a clean stop.
  if (clean_shutdown_) {
    fs.remove(marker);
    fs.sync_directory(data_directory_);
  }
}

std::shared_ptr<Log> LogManager::get(const TopicPartitionKey& key) const {
  auto it = logs_.find(key);
  return it == logs_.end() ? nullptr : it->second;
}

std::shared_ptr<Log> LogManager::create(const TopicPartitionKey& key, const LogConfig& config) {
  if (auto existing = get(key)) return existing;
  auto log = Log::open(ctx_, partition_directory(key), config);
  if (ctx_.health && ctx_.health->offline()) log->fail("the log directory is offline");
  logs_[key] = log;
  return log;
}

void LogManager::remove(const TopicPartitionKey& key) {
  auto it = logs_.find(key);
  if (it == logs_.end()) return;
  it->second->destroy();
  logs_.erase(it);
}

void LogManager::close_all() {
  if (ctx_.health && ctx_.health->offline()) {
    // Nothing is synced again after a failure, and no marker claims a clean stop: the next start recovers.
    spdlog::error("the log directory is offline ({}): stopping without syncing", ctx_.health->reason());
    return;
  }
  for (auto& [key, log] : logs_) {
    try {
      log->close();
    } catch (const std::exception& e) {
      spdlog::error("closing {}-{}: {}", key.topic, key.partition, e.what());
      return;  // no marker: the next start recovers
    }
  }
  auto marker = ctx_.fs.open(join_path(data_directory_, kCleanShutdownFile), true);
  marker->sync();
  ctx_.fs.sync_directory(data_directory_);
}

}  // namespace fjord::storage
