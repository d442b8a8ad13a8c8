#include "bench/workloads.h"

#include <arpa/inet.h>
#include <librdkafka/rdkafkacpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench/harness.h"

namespace fjord::bench {
namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct DeliveryLatencies : RdKafka::DeliveryReportCb {
  std::vector<int64_t> sent_ns;
  std::vector<double> latencies_ms;
  size_t failed = 0;
  void dr_cb(RdKafka::Message& m) override {
    if (m.err()) {
      ++failed;
      return;
    }
    if (!m.msg_opaque()) return;  // a warm-up record
    auto index = reinterpret_cast<size_t>(m.msg_opaque()) - 1;
    latencies_ms.push_back(static_cast<double>(now_ns() - sent_ns[index]) / 1e6);
  }
};

// Tails a topic and records, for every record, the time since the send time written into it.
class EndToEndConsumer : public RdKafka::ConsumeCb {
 public:
  EndToEndConsumer(const std::string& bootstrap, const std::string& topic, int partitions) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    conf->set("bootstrap.servers", bootstrap, error);
    conf->set("fetch.wait.max.ms", "100", error);
    consumer_.reset(RdKafka::Consumer::create(conf.get(), error));
    topic_.reset(RdKafka::Topic::create(consumer_.get(), topic, nullptr, error));
    queue_.reset(RdKafka::Queue::create(consumer_.get()));
    for (int p = 0; p < partitions; ++p) {
      consumer_->start(topic_.get(), p, RdKafka::Topic::OFFSET_BEGINNING, queue_.get());
    }
    partitions_ = partitions;
    thread_ = std::thread([this] {
      while (!stop_) consumer_->consume_callback(queue_.get(), 50, this, nullptr);
    });
  }
  // Waits until `expected` records arrived since the last reset (or `timeout` passed).
  void wait_for(size_t expected, double timeout_s) {
    auto started = Clock::now();
    while (received_ < expected && seconds_since(started) < timeout_s) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // Forgets what arrived so far: the warm-up records that prove the consumer is already fetching.
  void reset() {
    std::lock_guard lock(mutex_);
    latencies_ms_.clear();
    received_ = 0;
  }
  // Waits until `expected` records arrived (or `timeout` passed), then stops.
  std::vector<double> finish(size_t expected, double timeout_s) {
    wait_for(expected, timeout_s);
    stop_ = true;
    thread_.join();
    for (int p = 0; p < partitions_; ++p) consumer_->stop(topic_.get(), p);
    std::lock_guard lock(mutex_);
    return latencies_ms_;
  }
  void consume_cb(RdKafka::Message& m, void*) override {
    if (m.err() || m.len() < 8) return;
    int64_t sent = 0;
    std::memcpy(&sent, m.payload(), 8);
    std::lock_guard lock(mutex_);
    latencies_ms_.push_back(static_cast<double>(now_ns() - sent) / 1e6);
    ++received_;
  }

 private:
  std::unique_ptr<RdKafka::Consumer> consumer_;
  std::unique_ptr<RdKafka::Topic> topic_;
  std::unique_ptr<RdKafka::Queue> queue_;
  int partitions_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> received_{0};
  std::mutex mutex_;
  std::vector<double> latencies_ms_;
};

}  // namespace

ProduceStats produce(const std::string& bootstrap, const ProduceSpec& spec) {
  DeliveryLatencies delivery;
  delivery.sent_ns.resize(spec.records);
  delivery.latencies_ms.reserve(spec.records);
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("acks", spec.acks, error);
  conf->set("linger.ms", "5", error);
  conf->set("enable.idempotence", spec.idempotent ? "true" : "false", error);
  conf->set("queue.buffering.max.kbytes", "1048576", error);
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&delivery), error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) throw std::runtime_error("producer: " + error);
  // Learn the partitions' leaders before the clock starts: a freshly created topic's first metadata answer may
  // still be on its way, and a client that waits for it would charge a second to the first records.
  {
    std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(producer.get(), spec.topic, nullptr, error));
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      RdKafka::Metadata* raw = nullptr;
      bool ready = false;
      if (producer->metadata(false, handle.get(), &raw, 5000) == RdKafka::ERR_NO_ERROR) {
        std::unique_ptr<RdKafka::Metadata> metadata(raw);
        const auto* topics = metadata->topics();
        if (!topics->empty() && topics->front()->err() == RdKafka::ERR_NO_ERROR &&
            static_cast<int>(topics->front()->partitions()->size()) == spec.partitions) {
          ready = std::all_of(topics->front()->partitions()->begin(), topics->front()->partitions()->end(),
                              [](const RdKafka::PartitionMetadata* p) { return p->leader() >= 0; });
        }
      }
      if (ready) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  std::unique_ptr<EndToEndConsumer> tail;
  if (spec.measure_end_to_end) tail = std::make_unique<EndToEndConsumer>(bootstrap, spec.topic, spec.partitions);

  std::string payload(std::max<size_t>(spec.record_bytes, 8), 'x');
  for (size_t i = 8; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + (i * 7) % 26);
  // One acknowledged record per partition before the clock starts: a broker may take a while to be ready to
  // take writes on a freshly created topic, and that is not its throughput. With a tailing consumer, also wait
  // until it has these records: from then on it is fetching every partition.
  for (int p = 0; p < spec.partitions; ++p) {
    while (producer->produce(spec.topic, p, RdKafka::Producer::RK_MSG_COPY, payload.data(), payload.size(), nullptr, 0,
                             0, nullptr, nullptr) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(1);
    }
  }
  producer->flush(120000);
  if (tail) {
    tail->wait_for(static_cast<size_t>(spec.partitions), 60);
    tail->reset();
  }
  // Sends records [first, first + count) at spec.rate (0: as fast as possible); only those with an index get
  // their latency recorded.
  auto send = [&](size_t count, bool measured) {
    auto started = Clock::now();
    for (size_t i = 0; i < count; ++i) {
      if (spec.rate > 0) {
        auto due = started + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i) / spec.rate));
        while (Clock::now() < due) producer->poll(0);
      }
      int64_t sent = now_ns();
      if (measured) delivery.sent_ns[i] = sent;
      std::memcpy(payload.data(), &sent, 8);
      void* opaque = measured ? reinterpret_cast<void*>(i + 1) : nullptr;
      while (producer->produce(spec.topic, static_cast<int32_t>(i % static_cast<size_t>(spec.partitions)),
                               RdKafka::Producer::RK_MSG_COPY, payload.data(), payload.size(), nullptr, 0, 0, nullptr,
                               opaque) == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(1);
      }
      if (i % 1024 == 0) producer->poll(0);
    }
  };
  if (spec.warmup_records > 0) {
    send(spec.warmup_records, false);
    producer->flush(300000);
    if (tail) {
      tail->wait_for(spec.warmup_records, 60);
      tail->reset();
    }
  }
  auto started = Clock::now();
  send(spec.records, true);
  producer->flush(300000);
  double elapsed = seconds_since(started);

  ProduceStats stats;
  stats.records_per_second = static_cast<double>(spec.records) / elapsed;
  stats.megabytes_per_second = static_cast<double>(spec.records * payload.size()) / elapsed / 1e6;
  std::sort(delivery.latencies_ms.begin(), delivery.latencies_ms.end());
  stats.p50_ms = percentile(delivery.latencies_ms, 0.50);
  stats.p99_ms = percentile(delivery.latencies_ms, 0.99);
  stats.p999_ms = percentile(delivery.latencies_ms, 0.999);
  stats.failed = delivery.failed;
  if (tail) {
    auto latencies = tail->finish(spec.records, 30);
    std::sort(latencies.begin(), latencies.end());
    stats.end_to_end_p50_ms = percentile(latencies, 0.50);
    stats.end_to_end_p99_ms = percentile(latencies, 0.99);
  }
  return stats;
}

namespace {

struct CountingConsumer : RdKafka::ConsumeCb {
  size_t got = 0;
  Clock::time_point first;
  void consume_cb(RdKafka::Message& m, void*) override {
    if (m.err()) return;
    if (got++ == 0) first = Clock::now();
  }
};

}  // namespace

double consume(const std::string& bootstrap, const std::string& topic, int partitions, size_t records) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("fetch.wait.max.ms", "100", error);
  std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(conf.get(), error));
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer.get(), topic, nullptr, error));
  std::unique_ptr<RdKafka::Queue> queue(RdKafka::Queue::create(consumer.get()));
  CountingConsumer counter;
  auto started = Clock::now();
  for (int p = 0; p < partitions; ++p) consumer->start(handle.get(), p, RdKafka::Topic::OFFSET_BEGINNING, queue.get());
  while (counter.got < records && seconds_since(started) < 30)
    consumer->consume_callback(queue.get(), 100, &counter, nullptr);
  double elapsed = counter.got > 1 ? seconds_since(counter.first) : seconds_since(started);
  for (int p = 0; p < partitions; ++p) consumer->stop(handle.get(), p);
  return static_cast<double>(counter.got) / elapsed;
}

namespace {

// A group member that records when its first partitions arrive.
struct JoiningMember : RdKafka::RebalanceCb {
  std::atomic<bool> assigned{false};
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      delete consumer->incremental_assign(partitions);
      if (!partitions.empty()) assigned = true;
    } else {
      delete consumer->incremental_unassign(partitions);
    }
  }
};

}  // namespace

double group_join_ms(const std::string& bootstrap, const std::string& topic, const std::string& group, int members) {
  std::vector<std::unique_ptr<JoiningMember>> callbacks;
  std::vector<std::unique_ptr<RdKafka::KafkaConsumer>> consumers;
  std::atomic<bool> stop{false};
  std::vector<std::thread> pollers;
  auto started = Clock::now();
  for (int i = 0; i < members; ++i) {
    callbacks.push_back(std::make_unique<JoiningMember>());
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string error;
    conf->set("bootstrap.servers", bootstrap, error);
    conf->set("group.id", group, error);
    conf->set("partition.assignment.strategy", "cooperative-sticky", error);
    conf->set("enable.auto.commit", "false", error);
    conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(callbacks.back().get()), error);
    consumers.emplace_back(RdKafka::KafkaConsumer::create(conf.get(), error));
    consumers.back()->subscribe({topic});
  }
  for (auto& c : consumers) {
    pollers.emplace_back([&stop, consumer = c.get()] {
      while (!stop) delete consumer->consume(20);
    });
  }
  double elapsed_ms = -1;
  while (seconds_since(started) < 120) {
    bool all = std::all_of(callbacks.begin(), callbacks.end(), [](const auto& m) { return m->assigned.load(); });
    if (all) {
      elapsed_ms = seconds_since(started) * 1000;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  for (auto& t : pollers) t.join();
  for (auto& c : consumers) c->close();
  return elapsed_ms;
}

double offset_commits_per_second(const std::string& bootstrap, const std::string& topic, int partitions, int committers,
                                 double seconds) {
  std::atomic<size_t> commits{0};
  std::atomic<size_t> failures{0};
  std::vector<std::thread> threads;
  auto started = Clock::now();
  for (int t = 0; t < committers; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
      std::string error;
      conf->set("bootstrap.servers", bootstrap, error);
      conf->set("group.id", "bench-commits-" + std::to_string(t), error);
      conf->set("enable.auto.commit", "false", error);
      std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, t % partitions, 0));
      std::vector<RdKafka::TopicPartition*> offsets = {tp.get()};
      for (int64_t offset = 1; seconds_since(started) < seconds; ++offset) {
        tp->set_offset(offset);
        if (consumer->commitSync(offsets) == RdKafka::ERR_NO_ERROR) {
          ++commits;
        } else {
          ++failures;
        }
      }
      consumer->close();
    });
  }
  for (auto& t : threads) t.join();
  return static_cast<double>(commits) / seconds_since(started);
}

std::vector<int> open_idle_connections(int port, int count) {
  std::vector<int> sockets;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const uint8_t request[] = {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd);
      break;
    }
    uint8_t answer[8];
    if (::send(fd, request, sizeof(request), MSG_NOSIGNAL) != sizeof(request) ||
        ::recv(fd, answer, sizeof(answer), MSG_WAITALL) != sizeof(answer)) {
      ::close(fd);
      break;
    }
    // Drain the rest of the answer so the connection is idle with nothing pending.
    uint32_t size = (uint32_t{answer[0]} << 24) | (uint32_t{answer[1]} << 16) | (uint32_t{answer[2]} << 8) | answer[3];
    std::vector<uint8_t> rest(size - 4);
    ::recv(fd, rest.data(), rest.size(), MSG_WAITALL);
    sockets.push_back(fd);
  }
  return sockets;
}

void close_all(std::vector<int>& sockets) {
  for (int fd : sockets) ::close(fd);
  sockets.clear();
}

}  // namespace fjord::bench
