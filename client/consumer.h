// A consumer group member where commit-after-process is the only way records are committed.
//
// The application hands run() a function that processes one batch. The layer commits the batch's offsets only
// after that function returned kDone: asynchronously normally, synchronously on the next batch when an
// asynchronous commit failed, synchronously for partitions being revoked (before they are given up) and on close.
// A batch that failed (kRetry, or an exception) is not committed: its partitions are rewound to the batch's first
// records and it comes again. Partitions revoked while a batch was being gathered are dropped from it, since their
// next owner starts from the committed offset.
//
// Rebalancing is cooperative-sticky by default, with incremental_assign/incremental_unassign in the rebalance
// callback; an eager strategy (range, roundrobin) set by the application gets assign/unassign. Static membership
// is on by default (see ConsumerSettings). SIGTERM (client/shutdown.h) ends run() cleanly.
//
// Exactly-once processing (ConsumerOptions::transactional_producer): each batch runs inside a transaction of that
// producer, and the batch's offsets are committed in it (send_offsets_to_transaction), so what the handler sent
// through the producer and the batch's progress count together or not at all. The layer then commits nothing on
// its own (not on revocation, not on close: every finished batch is already committed) and reads read_committed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "client/config.h"

namespace fjord::client {

class Producer;

// One consumed record; its views stay valid while the batch that holds it lives.
class Record {
 public:
  explicit Record(std::unique_ptr<RdKafka::Message> message) : message_(std::move(message)) {}
  std::string topic() const { return message_->topic_name(); }
  int32_t partition() const { return message_->partition(); }
  int64_t offset() const { return message_->offset(); }
  std::string_view key() const {
    return message_->key_pointer()
               ? std::string_view(static_cast<const char*>(message_->key_pointer()), message_->key_len())
               : std::string_view();
  }
  std::string_view value() const {
    return message_->payload() ? std::string_view(static_cast<const char*>(message_->payload()), message_->len())
                               : std::string_view();
  }
  int64_t timestamp_ms() const { return message_->timestamp().timestamp; }

 private:
  std::unique_ptr<RdKafka::Message> message_;
};

using Batch = std::vector<Record>;

enum class BatchResult { kDone, kRetry };

struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;  // for commits: the next offset to read
  bool operator<(const PartitionOffset& o) const {
    return std::tie(topic, partition, offset) < std::tie(o.topic, o.partition, o.offset);
  }
};

struct RebalanceEvent {
  enum class Kind { kAssigned, kRevoked, kLost };
  Kind kind;
  std::vector<PartitionOffset> partitions;  // offsets unset
  bool cooperative = false;
};

struct ConsumerOptions {
  size_t max_batch = 500;
  std::chrono::milliseconds batch_wait{200};  // the longest a batch waits to fill before it is processed
  std::chrono::milliseconds retry_backoff{1000};
  // Called from the consuming thread: after the partitions changed hands, and after a commit the broker accepted.
  std::function<void(const RebalanceEvent&)> on_rebalance;
  std::function<void(const std::vector<PartitionOffset>&, bool synchronous)> on_committed;
  // A producer with a transactional_id, outliving the consumer: batches become transactions (see above). A
  // refused transaction step aborts the batch, which comes again; a fatal one (a newer instance with the same
  // transactional_id fenced this one) ends run() with the TransactionError.
  Producer* transactional_producer = nullptr;
};

struct ConsumerMetrics {
  uint64_t batches = 0;
  uint64_t records = 0;
  uint64_t retried_batches = 0;
  uint64_t async_commits = 0;
  uint64_t async_commit_failures = 0;
  uint64_t sync_commits = 0;
  uint64_t transactions = 0;            // batches committed in a transaction (exactly-once processing)
  uint64_t aborted_transactions = 0;    // batches whose transaction was aborted (they come again)
  uint64_t rebalances = 0;              // assignment callbacks
  uint64_t poll_interval_warnings = 0;  // batches that ran past 80% of max.poll.interval.ms
};

class Consumer {
 public:
  using BatchHandler = std::function<BatchResult(const Batch&)>;

  Consumer(const ConsumerSettings& settings, ConsumerOptions options = {});
  ~Consumer();  // close()
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Consumes and processes until stop() or a shutdown signal, then closes.
  void run(const BatchHandler& handler);
  void stop() { stop_ = true; }  // from any thread

  // Backpressure: stop fetching (the member stays in the group) until resume().
  void pause();
  void resume();

  // Commits what was processed (synchronously) and leaves the group; a static member keeps its partitions for
  // session.timeout.ms so that a restart within it causes no rebalance.
  void close();

  std::vector<PartitionOffset> assignment();
  ConsumerMetrics metrics() const;
  RdKafka::KafkaConsumer& native() { return *consumer_; }

 private:
  class Callbacks;
  using PartitionKey = std::pair<std::string, int32_t>;

  void on_rebalance(RdKafka::ErrorCode reason, std::vector<RdKafka::TopicPartition*>& partitions);
  void on_commit_result(RdKafka::ErrorCode error, std::vector<RdKafka::TopicPartition*>& offsets);
  BatchResult process(const BatchHandler& handler, const Batch& batch);
  // Ends the batch's transaction: its offsets and a commit when `result` is kDone, else an abort.
  BatchResult end_transaction(const Batch& batch, BatchResult result);
  void commit_async(const Batch& batch);
  bool commit_sync(const std::vector<PartitionOffset>& positions);
  // What was processed, as commit positions: of every partition, or of those `only` names.
  std::vector<PartitionOffset> processed_positions(const std::set<PartitionKey>* only = nullptr) const;
  void rewind(const Batch& batch);
  void watch_poll_interval();

  ConsumerOptions options_;
  bool auto_commit_ = false;
  std::chrono::milliseconds max_poll_interval_{300000};
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  bool closed_ = false;

  Batch pending_;                              // the batch being gathered
  std::map<PartitionKey, int64_t> processed_;  // next offset after the last processed record, per partition
  bool sync_commit_needed_ = false;            // an asynchronous commit failed

  // max.poll.interval.ms watchdog
  std::atomic<int64_t> batch_started_ms_{0};  // 0 while no batch is being processed
  std::atomic<bool> watchdog_stop_{false};
  std::thread watchdog_;

  mutable std::mutex metrics_mutex_;
  ConsumerMetrics metrics_;
};

}  // namespace fjord::client
