#include "client/producer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fjord::client {
namespace {

constexpr size_t kLatencyWindow = 4096;

void check_transaction_step(RdKafka::Error* error, const char* what) {
  if (!error) return;
  std::unique_ptr<RdKafka::Error> owned(error);
  throw TransactionError(std::string(what) + ": " + error->str(), error->is_retriable(), error->txn_requires_abort(),
                         error->is_fatal());
}

}  // namespace

struct Producer::InFlight {
  std::chrono::steady_clock::time_point sent_at;
  DeliveryCallback on_delivery;
};

class Producer::DeliveryReporter : public RdKafka::DeliveryReportCb {
 public:
  explicit DeliveryReporter(Producer& owner) : owner_(owner) {}
  void dr_cb(RdKafka::Message& message) override { owner_.delivered(message); }

 private:
  Producer& owner_;
};

Producer::Producer(const ProducerSettings& settings) : reporter_(std::make_unique<DeliveryReporter>(*this)) {
  std::vector<std::string> warnings;
  auto conf = make_conf(producer_properties(settings, &warnings));
  for (const auto& w : warnings) spdlog::warn("producer runs with an unsafe setting: {}", w);
  std::string error;
  conf->set("dr_cb", reporter_.get(), error);
  producer_.reset(RdKafka::Producer::create(conf.get(), error));
  if (!producer_) throw ClientError("producer: " + error);
  latencies_ms_.reserve(kLatencyWindow);
  if (!settings.transactional_id.empty()) {
    check_transaction_step(producer_->init_transactions(static_cast<int>(close_timeout.count())), "init_transactions");
  }
  poller_ = std::thread([this] {
    while (!stopping_.load()) producer_->poll(50);
  });
}

Producer::~Producer() {
  if (!flush(close_timeout)) {
    spdlog::error("producer closed with {} records unacknowledged after {} ms", producer_->outq_len(),
                  close_timeout.count());
  }
  stopping_ = true;
  poller_.join();
  // Records still queued are answered (as failed) by librdkafka's destructor through dr_cb.
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer_->poll(0);
}

void Producer::send(const std::string& topic, std::string_view key, std::string_view value,
                    DeliveryCallback on_delivery, int32_t partition) {
  auto* in_flight = new InFlight{std::chrono::steady_clock::now(), std::move(on_delivery)};
  for (;;) {
    RdKafka::ErrorCode err =
        producer_->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                           value.size(), key.data(), key.size(), 0, in_flight);
    if (err == RdKafka::ERR__QUEUE_FULL) {  // backpressure: wait for answers to make room
      producer_->poll(10);
      continue;
    }
    {
      std::lock_guard lock(metrics_mutex_);
      ++counts_.sent;
    }
    if (err != RdKafka::ERR_NO_ERROR) {
      DeliveryReport report{topic, partition, -1, err, RdKafka::err2str(err), {}};
      {
        std::lock_guard lock(metrics_mutex_);
        ++counts_.failed;
      }
      auto callback = std::move(in_flight->on_delivery);
      delete in_flight;
      if (callback) callback(report);
    }
    return;
  }
}

std::future<DeliveryReport> Producer::send(const std::string& topic, std::string_view key, std::string_view value,
                                           int32_t partition) {
  auto promise = std::make_shared<std::promise<DeliveryReport>>();
  auto future = promise->get_future();
  send(
      topic, key, value, [promise](const DeliveryReport& report) { promise->set_value(report); }, partition);
  return future;
}

void Producer::delivered(RdKafka::Message& message) {
  std::unique_ptr<InFlight> in_flight(static_cast<InFlight*>(message.msg_opaque()));
  DeliveryReport report;
  report.topic = message.topic_name();
  report.partition = message.partition();
  report.offset = message.offset();
  report.error = message.err();
  if (!report.ok()) report.error_text = message.errstr();
  if (in_flight) {
    report.latency =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - in_flight->sent_at);
  }
  {
    std::lock_guard lock(metrics_mutex_);
    if (report.ok()) {
      ++counts_.delivered;
      double ms = report.latency.count() / 1000.0;
      if (latencies_ms_.size() < kLatencyWindow) {
        latencies_ms_.push_back(ms);
      } else {
        latencies_ms_[next_latency_] = ms;
      }
      next_latency_ = (next_latency_ + 1) % kLatencyWindow;
    } else {
      ++counts_.failed;
    }
  }
  if (!report.ok()) spdlog::debug("delivery to {} [{}] failed: {}", report.topic, report.partition, report.error_text);
  if (in_flight && in_flight->on_delivery) in_flight->on_delivery(report);
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  return producer_->flush(static_cast<int>(timeout.count())) == RdKafka::ERR_NO_ERROR;
}

void Producer::begin_transaction() { check_transaction_step(producer_->begin_transaction(), "begin_transaction"); }

void Producer::commit_transaction(std::chrono::milliseconds timeout) {
  check_transaction_step(producer_->commit_transaction(static_cast<int>(timeout.count())), "commit_transaction");
}

void Producer::abort_transaction(std::chrono::milliseconds timeout) {
  check_transaction_step(producer_->abort_transaction(static_cast<int>(timeout.count())), "abort_transaction");
}

void Producer::send_offsets_to_transaction(const std::vector<PartitionOffset>& positions,
                                           RdKafka::KafkaConsumer& consumer, std::chrono::milliseconds timeout) {
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& p : positions) {
    offsets.push_back(RdKafka::TopicPartition::create(p.topic, p.partition, p.offset));
  }
  std::unique_ptr<RdKafka::ConsumerGroupMetadata> group(consumer.groupMetadata());
  RdKafka::Error* error =
      producer_->send_offsets_to_transaction(offsets, group.get(), static_cast<int>(timeout.count()));
  RdKafka::TopicPartition::destroy(offsets);
  check_transaction_step(error, "send_offsets_to_transaction");
}

ProducerMetrics Producer::metrics() const {
  std::lock_guard lock(metrics_mutex_);
  ProducerMetrics m = counts_;
  if (!latencies_ms_.empty()) {
    std::vector<double> sorted = latencies_ms_;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](double q) { return sorted[static_cast<size_t>(q * (sorted.size() - 1))]; };
    m.latency_p50_ms = at(0.5);
    m.latency_p99_ms = at(0.99);
    m.latency_max_ms = sorted.back();
  }
  return m;
}

}  // namespace fjord::client
