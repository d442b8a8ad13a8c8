// A producer whose acknowledged records survive broker failures by default: acks=all and idempotence.
//
// Delivery results come as futures or callbacks (run on the producer's poll thread, keep them short); the
// destructor flushes what is still in flight. Transactions are optional (ProducerSettings::transactional_id).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/config.h"
#include "client/consumer.h"

namespace fjord::client {

struct DeliveryReport {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;
  std::string error_text;
  std::chrono::microseconds latency{0};  // from send() to the broker's acknowledgement
  bool ok() const { return error == RdKafka::ERR_NO_ERROR; }
};

struct ProducerMetrics {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  // Over the most recent deliveries (a window of a few thousand).
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
};

// A transaction step the broker or librdkafka refused, with what the application should do next (librdkafka's
// classification): retry the same step, abort the transaction and begin again, or — fatal, e.g. fenced by a newer
// producer with the same transactional_id — close this producer.
class TransactionError : public ClientError {
 public:
  TransactionError(const std::string& what, bool retriable, bool requires_abort, bool fatal)
      : ClientError(what), retriable_(retriable), requires_abort_(requires_abort), fatal_(fatal) {}
  bool retriable() const { return retriable_; }
  bool requires_abort() const { return requires_abort_; }
  bool fatal() const { return fatal_; }

 private:
  bool retriable_;
  bool requires_abort_;
  bool fatal_;
};

class Producer {
 public:
  using DeliveryCallback = std::function<void(const DeliveryReport&)>;
  static constexpr int32_t kAnyPartition = -1;  // librdkafka's PARTITION_UA: the partitioner chooses

  explicit Producer(const ProducerSettings& settings);
  ~Producer();  // flushes for up to close_timeout, then stops
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues one record; blocks while librdkafka's queue is full. The callback receives the broker's answer.
  void send(const std::string& topic, std::string_view key, std::string_view value, DeliveryCallback on_delivery,
            int32_t partition = kAnyPartition);
  std::future<DeliveryReport> send(const std::string& topic, std::string_view key, std::string_view value,
                                   int32_t partition = kAnyPartition);

  // Waits until every queued record has its answer; false when the timeout came first.
  bool flush(std::chrono::milliseconds timeout);

  // Transactions (only with a transactional_id; the constructor registers it with the cluster's transaction
  // coordinator, fencing any older producer with the same id). Each throws TransactionError when refused.
  void begin_transaction();
  void commit_transaction(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void abort_transaction(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Exactly-once consume-transform-produce: commits `positions` (for each partition, the next offset to read) for
  // `consumer`'s group inside the current transaction, so they count if and only if it commits. The consumer
  // must not commit on its own (enable.auto.commit=false), and should read with isolation.level=read_committed.
  void send_offsets_to_transaction(const std::vector<PartitionOffset>& positions, RdKafka::KafkaConsumer& consumer,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(30));

  ProducerMetrics metrics() const;
  std::chrono::milliseconds close_timeout{30000};
  RdKafka::Producer& native() { return *producer_; }

 private:
  class DeliveryReporter;
  struct InFlight;
  void delivered(RdKafka::Message& message);

  std::unique_ptr<DeliveryReporter> reporter_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;

  mutable std::mutex metrics_mutex_;
  ProducerMetrics counts_;
  std::vector<double> latencies_ms_;  // ring of recent delivery latencies
  size_t next_latency_ = 0;
};

}  // namespace fjord::client
