#include "client/consumer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "client/producer.h"
#include "client/shutdown.h"

namespace fjord::client {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<PartitionOffset> to_offsets(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<PartitionOffset> out;
  out.reserve(partitions.size());
  for (const auto* tp : partitions) out.push_back({tp->topic(), tp->partition(), tp->offset()});
  return out;
}

// librdkafka's commit calls take owned TopicPartition pointers; this frees them however the call ends.
struct OwnedPartitions {
  std::vector<RdKafka::TopicPartition*> list;
  explicit OwnedPartitions(const std::vector<PartitionOffset>& positions) {
    for (const auto& p : positions) list.push_back(RdKafka::TopicPartition::create(p.topic, p.partition, p.offset));
  }
  ~OwnedPartitions() { RdKafka::TopicPartition::destroy(list); }
};

// The commit positions a processed batch leaves: per partition, the offset after its last record.
std::vector<PartitionOffset> positions_after(const Batch& batch) {
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  for (const auto& record : batch) {
    auto& n = next[{record.topic(), record.partition()}];
    n = std::max(n, record.offset() + 1);
  }
  std::vector<PartitionOffset> positions;
  for (const auto& [key, offset] : next) positions.push_back({key.first, key.second, offset});
  return positions;
}

std::string describe(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::string out;
  for (const auto* tp : partitions) {
    if (!out.empty()) out += ",";
    out += tp->topic() + "[" + std::to_string(tp->partition()) + "]";
  }
  return out.empty() ? "none" : out;
}

}  // namespace

class Consumer::Callbacks : public RdKafka::RebalanceCb, public RdKafka::OffsetCommitCb {
 public:
  explicit Callbacks(Consumer& owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer*, RdKafka::ErrorCode reason,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    owner_.on_rebalance(reason, partitions);
  }
  void offset_commit_cb(RdKafka::ErrorCode error, std::vector<RdKafka::TopicPartition*>& offsets) override {
    owner_.on_commit_result(error, offsets);
  }

 private:
  Consumer& owner_;
};

Consumer::Consumer(const ConsumerSettings& settings, ConsumerOptions options)
    : options_(std::move(options)), callbacks_(std::make_unique<Callbacks>(*this)) {
  std::vector<std::string> warnings;
  Properties properties = consumer_properties(settings, &warnings);
  for (const auto& w : warnings) spdlog::warn("consumer runs with an unsafe setting: {}", w);
  auto_commit_ = properties["enable.auto.commit"] == "true" || properties["enable.auto.commit"] == "1";
  if (options_.transactional_producer) {
    if (auto_commit_) throw ClientError("consumer: exactly-once processing commits through transactions, not a timer");
    // Input written by other transactions is read only once they committed, and never when they aborted.
    properties["isolation.level"] = "read_committed";
  }
  if (auto it = properties.find("max.poll.interval.ms"); it != properties.end()) {
    max_poll_interval_ = std::chrono::milliseconds(std::stoll(it->second));
  }
  auto conf = make_conf(properties);
  std::string error;
  conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(callbacks_.get()), error);
  conf->set("offset_commit_cb", static_cast<RdKafka::OffsetCommitCb*>(callbacks_.get()), error);
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer_) throw ClientError("consumer: " + error);
  if (auto err = consumer_->subscribe(settings.topics); err != RdKafka::ERR_NO_ERROR) {
    throw ClientError("subscribe: " + RdKafka::err2str(err));
  }
  watchdog_ = std::thread([this] { watch_poll_interval(); });
}

Consumer::~Consumer() {
  close();
  watchdog_stop_ = true;
  watchdog_.join();
}

void Consumer::run(const BatchHandler& handler) {
  auto stopping = [this] { return stop_.load() || shutdown_requested(); };
  while (!stopping()) {
    if (sync_commit_needed_ && commit_sync(processed_positions())) sync_commit_needed_ = false;
    const auto deadline = std::chrono::steady_clock::now() + options_.batch_wait;
    while (pending_.size() < options_.max_batch && !stopping()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      std::unique_ptr<RdKafka::Message> message(consumer_->consume(static_cast<int>(left.count())));
      switch (message->err()) {
        case RdKafka::ERR_NO_ERROR:
          pending_.emplace_back(std::move(message));
          break;
        case RdKafka::ERR__TIMED_OUT:
        case RdKafka::ERR__PARTITION_EOF:
          break;
        case RdKafka::ERR__FATAL:
        case RdKafka::ERR_FENCED_INSTANCE_ID:
          // Another member took this group.instance.id: two processes share one id (set distinct ids).
          spdlog::error("consumer stops: {}", message->errstr());
          stop_ = true;
          break;
        default:
          spdlog::warn("consumer: {}", message->errstr());
      }
    }
    if (pending_.empty()) continue;
    Batch batch = std::move(pending_);
    pending_.clear();
    if (process(handler, batch) == BatchResult::kDone) {
      commit_async(batch);
    } else {
      rewind(batch);
      std::this_thread::sleep_for(options_.retry_backoff);
    }
  }
  close();
}

BatchResult Consumer::process(const BatchHandler& handler, const Batch& batch) {
  batch_started_ms_ = now_ms();
  // However the batch ends (a fatal transaction error leaves by exception), it is no longer being processed.
  struct Finished {
    std::atomic<int64_t>& started;
    ~Finished() { started = 0; }
  } finished{batch_started_ms_};
  BatchResult result = BatchResult::kRetry;
  bool in_transaction = false;
  try {
    if (options_.transactional_producer) {
      options_.transactional_producer->begin_transaction();
      in_transaction = true;
    }
    result = handler(batch);
  } catch (const TransactionError& e) {
    if (e.fatal()) throw;
    spdlog::error("batch of {} records failed: {}; it will be processed again", batch.size(), e.what());
  } catch (const std::exception& e) {
    spdlog::error("batch of {} records failed: {}; it will be processed again", batch.size(), e.what());
  }
  if (in_transaction) result = end_transaction(batch, result);
  std::lock_guard lock(metrics_mutex_);
  ++metrics_.batches;
  if (result == BatchResult::kDone) {
    metrics_.records += batch.size();
  } else {
    ++metrics_.retried_batches;
  }
  return result;
}

BatchResult Consumer::end_transaction(const Batch& batch, BatchResult result) {
  Producer& producer = *options_.transactional_producer;
  const auto positions = positions_after(batch);
  if (result == BatchResult::kDone) {
    try {
      producer.send_offsets_to_transaction(positions, *consumer_);
      // A retriable refusal (a timeout, the coordinator moving) is retried as librdkafka advises.
      for (int attempt = 1;; ++attempt) {
        try {
          producer.commit_transaction();
          break;
        } catch (const TransactionError& e) {
          if (!e.retriable() || attempt == 3) throw;
        }
      }
      std::lock_guard lock(metrics_mutex_);
      ++metrics_.transactions;
    } catch (const TransactionError& e) {
      if (e.fatal()) throw;
      spdlog::error("the transaction of a batch of {} records failed: {}; it is aborted and comes again", batch.size(),
                    e.what());
      result = BatchResult::kRetry;
    }
    if (result == BatchResult::kDone) {
      if (options_.on_committed) options_.on_committed(positions, true);
      return result;
    }
  }
  try {
    producer.abort_transaction();
  } catch (const TransactionError& e) {
    if (e.fatal()) throw;
    spdlog::error("aborting a batch's transaction failed: {}", e.what());
  }
  std::lock_guard lock(metrics_mutex_);
  ++metrics_.aborted_transactions;
  return result;
}

void Consumer::commit_async(const Batch& batch) {
  const auto positions = positions_after(batch);
  for (const auto& p : positions) processed_[{p.topic, p.partition}] = p.offset;
  // The application chose librdkafka's timer over commit-after-process; or the batch's transaction committed it.
  if (auto_commit_ || options_.transactional_producer) return;
  OwnedPartitions owned(positions);
  if (auto err = consumer_->commitAsync(owned.list); err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("asynchronous commit not sent ({}); the next batch commits synchronously", RdKafka::err2str(err));
    sync_commit_needed_ = true;
  }
}

bool Consumer::commit_sync(const std::vector<PartitionOffset>& positions) {
  // Under exactly-once processing every finished batch was committed by its transaction.
  if (auto_commit_ || options_.transactional_producer || positions.empty()) return true;
  OwnedPartitions owned(positions);
  RdKafka::ErrorCode err = consumer_->commitSync(owned.list);
  for (const auto* tp : owned.list) {
    if (err == RdKafka::ERR_NO_ERROR && tp->err() != RdKafka::ERR_NO_ERROR) err = tp->err();
  }
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("synchronous commit of {} failed: {}", describe(owned.list), RdKafka::err2str(err));
    return false;
  }
  {
    std::lock_guard lock(metrics_mutex_);
    ++metrics_.sync_commits;
  }
  if (options_.on_committed) options_.on_committed(positions, true);
  return true;
}

std::vector<PartitionOffset> Consumer::processed_positions(const std::set<PartitionKey>* only) const {
  std::vector<PartitionOffset> positions;
  for (const auto& [key, next] : processed_) {
    if (!only || only->count(key)) positions.push_back({key.first, key.second, next});
  }
  return positions;
}

void Consumer::on_commit_result(RdKafka::ErrorCode error, std::vector<RdKafka::TopicPartition*>& offsets) {
  // Only asynchronous commits arrive here with something to say; ERR__NO_OFFSET means there was nothing to commit.
  if (error == RdKafka::ERR__NO_OFFSET) return;
  for (const auto* tp : offsets) {
    if (error == RdKafka::ERR_NO_ERROR && tp->err() != RdKafka::ERR_NO_ERROR) error = tp->err();
  }
  {
    std::lock_guard lock(metrics_mutex_);
    ++(error == RdKafka::ERR_NO_ERROR ? metrics_.async_commits : metrics_.async_commit_failures);
  }
  if (error != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("asynchronous commit of {} failed ({}); the next batch commits synchronously", describe(offsets),
                 RdKafka::err2str(error));
    sync_commit_needed_ = true;
    return;
  }
  if (options_.on_committed) options_.on_committed(to_offsets(offsets), false);
}

void Consumer::on_rebalance(RdKafka::ErrorCode reason, std::vector<RdKafka::TopicPartition*>& partitions) {
  const bool cooperative = consumer_->rebalance_protocol() == "COOPERATIVE";
  RebalanceEvent event{RebalanceEvent::Kind::kAssigned, to_offsets(partitions), cooperative};
  if (reason == RdKafka::ERR__ASSIGN_PARTITIONS) {
    RdKafka::Error* error = nullptr;
    if (cooperative) {
      error = consumer_->incremental_assign(partitions);
    } else if (auto err = consumer_->assign(partitions); err != RdKafka::ERR_NO_ERROR) {
      spdlog::error("assign {}: {}", describe(partitions), RdKafka::err2str(err));
    }
    if (error) {
      spdlog::error("incremental_assign {}: {}", describe(partitions), error->str());
      delete error;
    }
    std::lock_guard lock(metrics_mutex_);
    ++metrics_.rebalances;
  } else {
    // Revoked (or lost, when the group moved on without this member): finish with these partitions first.
    std::set<PartitionKey> leaving;
    for (const auto* tp : partitions) leaving.insert({tp->topic(), tp->partition()});
    const bool lost = consumer_->assignment_lost();
    event.kind = lost ? RebalanceEvent::Kind::kLost : RebalanceEvent::Kind::kRevoked;
    if (!lost) {
      // Their next owner starts from what is committed now: commit everything processed, synchronously.
      commit_sync(processed_positions(&leaving));
    }
    for (const auto& key : leaving) processed_.erase(key);
    std::erase_if(pending_, [&](const Record& r) { return leaving.count({r.topic(), r.partition()}) > 0; });
    if (cooperative) {
      if (RdKafka::Error* error = consumer_->incremental_unassign(partitions)) {
        spdlog::error("incremental_unassign {}: {}", describe(partitions), error->str());
        delete error;
      }
    } else {
      consumer_->unassign();
    }
  }
  if (reason != RdKafka::ERR__ASSIGN_PARTITIONS && reason != RdKafka::ERR__REVOKE_PARTITIONS) {
    spdlog::warn("rebalance error: {}", RdKafka::err2str(reason));
  }
  if (options_.on_rebalance) options_.on_rebalance(event);
}

void Consumer::rewind(const Batch& batch) {
  std::map<PartitionKey, int64_t> first;
  for (const auto& record : batch) {
    auto [it, inserted] = first.try_emplace({record.topic(), record.partition()}, record.offset());
    if (!inserted) it->second = std::min(it->second, record.offset());
  }
  for (const auto& [key, offset] : first) {
    std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(key.first, key.second, offset));
    if (auto err = consumer_->seek(*tp, 5000); err != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("rewind {}[{}] to {}: {}", key.first, key.second, offset, RdKafka::err2str(err));
    }
  }
}

void Consumer::pause() {
  std::vector<RdKafka::TopicPartition*> assigned;
  consumer_->assignment(assigned);
  consumer_->pause(assigned);
  RdKafka::TopicPartition::destroy(assigned);
}

void Consumer::resume() {
  std::vector<RdKafka::TopicPartition*> assigned;
  consumer_->assignment(assigned);
  consumer_->resume(assigned);
  RdKafka::TopicPartition::destroy(assigned);
}

void Consumer::close() {
  if (closed_) return;
  closed_ = true;
  if (commit_sync(processed_positions())) processed_.clear();
  consumer_->close();  // revokes what is left through the rebalance callback, leaves the group if dynamic
}

std::vector<PartitionOffset> Consumer::assignment() {
  std::vector<RdKafka::TopicPartition*> assigned;
  consumer_->assignment(assigned);
  auto out = to_offsets(assigned);
  RdKafka::TopicPartition::destroy(assigned);
  return out;
}

ConsumerMetrics Consumer::metrics() const {
  std::lock_guard lock(metrics_mutex_);
  return metrics_;
}

void Consumer::watch_poll_interval() {
  // Warn at 80% of max.poll.interval.ms: past it, librdkafka leaves the group and the batch's partitions move.
  const int64_t warn_after = max_poll_interval_.count() * 8 / 10;
  int64_t warned_for = 0;
  while (!watchdog_stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int64_t started = batch_started_ms_.load();
    if (started == 0 || started == warned_for || now_ms() - started < warn_after) continue;
    warned_for = started;
    {
      std::lock_guard lock(metrics_mutex_);
      ++metrics_.poll_interval_warnings;
    }
    spdlog::warn(
        "a batch has been processing for {} ms; at max.poll.interval.ms ({} ms) this member leaves the group and its "
        "partitions go to another member: process smaller batches or raise max.poll.interval.ms",
        now_ms() - started, max_poll_interval_.count());
  }
}

}  // namespace fjord::client
