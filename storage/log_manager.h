// Every partition log under one data directory: finds them at start, creates and deletes them, and stops them
// cleanly. Partition directories are named TOPIC-PARTITION (storage/FORMAT.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "storage/log.h"

namespace fjord::storage {

struct TopicPartitionKey {
  std::string topic;
  int32_t partition;
  auto operator<=>(const TopicPartitionKey&) const = default;
};

class LogManager {
 public:
  LogManager(LogContext context, std::string data_directory);

  // Whether the previous run stopped cleanly. Call before open_existing, which consumes the marker.
  bool clean_shutdown_marker_present();
  // Opens every partition log found on disk; `config_for` supplies each one's configuration.
  void open_existing(const std::function<LogConfig(const TopicPartitionKey&)>& config_for);

  std::shared_ptr<Log> get(const TopicPartitionKey& key) const;
  std::shared_ptr<Log> create(const TopicPartitionKey& key, const LogConfig& config);
  void remove(const TopicPartitionKey& key);
  const std::map<TopicPartitionKey, std::shared_ptr<Log>>& logs() const { return logs_; }

  // Clean stop: every log synced and indexed, then the marker written. Blocking.
  void close_all();

  std::string partition_directory(const TopicPartitionKey& key) const;

 private:
  LogContext ctx_;
  std::string data_directory_;
  bool clean_shutdown_ = false;
  std::map<TopicPartitionKey, std::shared_ptr<Log>> logs_;
};

}  // namespace fjord::storage
