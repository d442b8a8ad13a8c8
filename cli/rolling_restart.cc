#include "cli/rolling_restart.h"

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "client/admin.h"

namespace fjord::cli {
namespace {

constexpr const char* kTopic = "fjord-rolling-restart";
constexpr int kPartitions = 6;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::unique_ptr<RdKafka::Conf> conf_for(const std::string& bootstrap,
                                        const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("log_level", "0", error);
  // A restarted broker is back within seconds: reconnect promptly rather than after the default backoff.
  conf->set("reconnect.backoff.max.ms", "1000", error);
  for (const auto& [key, value] : settings) conf->set(key, value, error);
  return conf;
}

// Whether every partition of the topic has all `replicas` in sync and its preferred replica leading, as the
// cluster answers a Metadata request now.
bool settled(RdKafka::Producer& client, size_t replicas) {
  std::string error;
  std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(&client, kTopic, nullptr, error));
  RdKafka::Metadata* raw = nullptr;
  if (client.metadata(false, topic.get(), &raw, 2000) != RdKafka::ERR_NO_ERROR) return false;
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  for (const auto* t : *metadata->topics()) {
    if (t->err() != RdKafka::ERR_NO_ERROR || t->partitions()->size() != kPartitions) return false;
    for (const auto* p : *t->partitions()) {
      if (p->err() != RdKafka::ERR_NO_ERROR || p->replicas()->empty() || p->isrs()->size() != replicas ||
          p->leader() != p->replicas()->front()) {
        return false;
      }
    }
  }
  return true;
}

bool wait_settled(const std::string& bootstrap, size_t replicas, std::chrono::seconds timeout) {
  std::string error;
  auto conf = conf_for(bootstrap, {{"topic.metadata.refresh.interval.ms", "-1"}});
  std::unique_ptr<RdKafka::Producer> client(RdKafka::Producer::create(conf.get(), error));
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (settled(*client, replicas)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

// What the broker's last controlled shutdown reported, from its log.
std::string last_hand_off(const std::string& log_path) {
  std::ifstream in(log_path);
  std::string line;
  std::string last;
  const std::regex report(R"(controlled shutdown: .*)");
  while (std::getline(in, line)) {
    std::smatch match;
    if (std::regex_search(line, match, report)) last = match.str();
  }
  return last.empty() ? "no controlled shutdown reported" : last;
}

// Idempotent acks=all writes of numbered records until stopped, counting acknowledgements and surfaced errors.
class SteadyProducer : public RdKafka::DeliveryReportCb {
 public:
  SteadyProducer(const std::string& bootstrap, std::string run) : run_(std::move(run)) {
    auto conf = conf_for(bootstrap, {{"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "5"}});
    std::string error;
    conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error);
    producer_.reset(RdKafka::Producer::create(conf.get(), error));
    thread_ = std::thread([this] {
      while (!stop_) {
        const std::string value = run_ + ":" + std::to_string(sent_);
        if (producer_->produce(kTopic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                               const_cast<char*>(value.data()), value.size(), nullptr, 0, 0,
                               nullptr) == RdKafka::ERR_NO_ERROR) {
          ++sent_;
        }
        producer_->poll(0);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      producer_->flush(60000);
    });
  }
  ~SteadyProducer() override { finish(); }
  void finish() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      ++acknowledged_;
    } else {
      std::lock_guard lock(mutex_);
      if (errors_.empty()) first_error_ = message.errstr();
      ++errors_[message.err()];
    }
  }
  int64_t sent() const { return sent_; }
  int64_t acknowledged() const { return acknowledged_; }
  int64_t errors() {
    std::lock_guard lock(mutex_);
    int64_t total = 0;
    for (const auto& [code, count] : errors_) total += count;
    return total;
  }
  std::string first_error() {
    std::lock_guard lock(mutex_);
    return first_error_;
  }

 private:
  std::string run_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> acknowledged_{0};
  std::mutex mutex_;
  std::map<RdKafka::ErrorCode, int64_t> errors_;
  std::string first_error_;
};

// A group member that commits what it has processed, counting how often it is given each record of this run
// (records an earlier run left in the topic are read and committed too, but not counted).
class CommittingReader {
 public:
  CommittingReader(const std::string& bootstrap, const std::string& group, std::string run) : prefix_(run + ":") {
    auto conf = conf_for(bootstrap, {{"group.id", group},
                                     {"enable.auto.commit", "false"},
                                     {"auto.offset.reset", "earliest"},
                                     {"partition.assignment.strategy", "cooperative-sticky"}});
    std::string error;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    consumer_->subscribe({kTopic});
    thread_ = std::thread([this] {
      int uncommitted = 0;
      while (!stop_) {
        std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
        if (m->err() == RdKafka::ERR_NO_ERROR) {
          std::string value(static_cast<const char*>(m->payload()), m->len());
          std::lock_guard lock(mutex_);
          if (value.rfind(prefix_, 0) == 0) ++seen_[value];
          ++uncommitted;
        }
        // Processed, then committed; a commit refused while the coordinator moves is made by the next one.
        if ((uncommitted >= 200 || (uncommitted > 0 && m->err() == RdKafka::ERR__TIMED_OUT)) &&
            consumer_->commitSync() == RdKafka::ERR_NO_ERROR) {
          uncommitted = 0;
        }
      }
      consumer_->commitSync();
      consumer_->close();
    });
  }
  ~CommittingReader() { finish(); }
  void finish() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }
  // Distinct records read, and how many were read more than once.
  std::pair<int64_t, int64_t> counts() {
    std::lock_guard lock(mutex_);
    int64_t twice = 0;
    for (const auto& [value, times] : seen_) twice += times > 1 ? 1 : 0;
    return {static_cast<int64_t>(seen_.size()), twice};
  }

 private:
  std::string prefix_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<std::string, int> seen_;
};

}  // namespace

bool run_rolling_restart(const std::string& bootstrap, std::vector<RestartableBroker>& brokers) {
  const size_t replicas = std::min<size_t>(brokers.size(), 3);
  std::printf("rolling restart: %zu brokers, one at a time, under an idempotent acks=all producer and a group\n",
              brokers.size());
  try {
    client::NewTopic topic{kTopic, kPartitions, static_cast<int16_t>(replicas), {{"min.insync.replicas", "2"}}};
    client::AdminClient(bootstrap).create_topics({topic}, /*exist_ok=*/true);
  } catch (const std::exception& e) {
    std::printf("  cannot create %s: %s\n", kTopic, e.what());
    return false;
  }
  if (!wait_settled(bootstrap, replicas, std::chrono::seconds(60))) {
    std::printf("  %s did not settle with every replica in sync\n", kTopic);
    return false;
  }
  const std::string run = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  SteadyProducer producer(bootstrap, run);
  CommittingReader reader(bootstrap, std::string(kTopic) + "-" + run, run);
  std::this_thread::sleep_for(std::chrono::seconds(2));

  bool ok = true;
  for (auto& broker : brokers) {
    const int64_t acknowledged_before = producer.acknowledged();
    const auto stopping = Clock::now();
    broker.stop();
    std::printf("  broker %d stopped in %.1f s (%s)\n", broker.node_id, seconds_since(stopping),
                last_hand_off(broker.log_path).c_str());
    std::fflush(stdout);
    const auto starting = Clock::now();
    if (!broker.start()) {
      std::printf("  broker %d did not start again; see %s\n", broker.node_id, broker.log_path.c_str());
      ok = false;
      break;
    }
    if (!wait_settled(bootstrap, replicas, std::chrono::seconds(90))) {
      std::printf("  broker %d: the partitions did not get back in sync under their preferred leaders\n",
                  broker.node_id);
      ok = false;
      break;
    }
    std::printf(
        "  broker %d back, caught up and leading its preferred partitions again after %.1f s; %lld records "
        "acknowledged meanwhile\n",
        broker.node_id, seconds_since(starting), static_cast<long long>(producer.acknowledged() - acknowledged_before));
    std::fflush(stdout);
  }
  producer.finish();
  const int64_t acknowledged = producer.acknowledged();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (reader.counts().first < producer.sent() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  reader.finish();
  const auto [read, read_twice] = reader.counts();
  const int64_t errors = producer.errors();
  std::printf("  %lld records sent, %lld acknowledged, %lld errors surfaced to the producer%s%s\n",
              static_cast<long long>(producer.sent()), static_cast<long long>(acknowledged),
              static_cast<long long>(errors), errors > 0 ? ", the first: " : "",
              errors > 0 ? producer.first_error().c_str() : "");
  std::printf("  the group read %lld distinct records (%lld missing), %lld more than once\n",
              static_cast<long long>(read), static_cast<long long>(producer.sent() - read),
              static_cast<long long>(read_twice));
  ok = ok && errors == 0 && acknowledged == producer.sent() && read == producer.sent() && read_twice == 0;
  std::printf("  %s\n", ok ? "the rolling restart cost the clients nothing" : "THE ROLLING RESTART WAS NOT CLEAN");
  std::fflush(stdout);
  return ok;
}

}  // namespace fjord::cli
