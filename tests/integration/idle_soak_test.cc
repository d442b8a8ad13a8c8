// What an idle broker costs over time: a 50-partition topic that nobody writes to, consumers polling it every
// few milliseconds, and followers long-polling their leaders. Every poll registers waiters and every one must go
// when the poll ends; resident memory stays flat. CI runs it for 20 s, `--soak` for ten minutes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/scale.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kPartitions = 50;
constexpr int kConsumers = 4;
// Every partition of the cluster has two followers, each with at most one poll waiting on it: the idle topic's
// and __consumer_offsets' (50, created when the pollers look for their group coordinator).
constexpr int kFollowerWaitersAtMost = 2 * (kPartitions + 50);

// Polls every partition of `topic` from the end, with a 5 ms long-poll wait, until stopped.
class IdlePoller {
 public:
  IdlePoller(const std::string& bootstrap, const std::string& topic) {
    auto conf = client_conf(bootstrap, {{"group.id", "idle-pollers"},
                                        {"enable.auto.commit", "false"},
                                        {"fetch.wait.max.ms", "5"},
                                        {"fetch.error.backoff.ms", "5"}});
    std::string error;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> partitions;
    for (int p = 0; p < kPartitions; ++p) {
      partitions.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_END));
    }
    consumer_->assign(partitions);
    RdKafka::TopicPartition::destroy(partitions);
    thread_ = std::thread([this] {
      while (!stop_) delete consumer_->consume(50);
    });
  }
  ~IdlePoller() {
    stop_ = true;
    thread_.join();
    consumer_->close();
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class IdleCluster : public ThreeBrokerCluster {
 protected:
  void SetUp() override {
    // Followers long-poll often too, as a busy cluster's would.
    extra_broker_args_ = {"--set", "replica.fetch.wait.max.ms=50"};
    ThreeBrokerCluster::SetUp();
  }
};

TEST_F(IdleCluster, ResidentMemoryStaysFlatUnderIdleLongPolls) {
  create_replicated_topic("idle", kPartitions);
  std::vector<std::unique_ptr<IdlePoller>> pollers;
  for (int i = 0; i < kConsumers; ++i) pollers.push_back(std::make_unique<IdlePoller>(bootstrap(), "idle"));
  // Connections, buffers and allocator arenas settle first.
  std::this_thread::sleep_for(5s);
  std::vector<long> before;
  for (int id = 1; id <= 3; ++id) before.push_back(broker(id).resident_kb());
  const auto duration = std::chrono::seconds(scaled(20, 600));
  const auto end = std::chrono::steady_clock::now() + duration;
  double most_waiters = 0;
  while (std::chrono::steady_clock::now() < end) {
    double waiters = 0;
    for (int id = 1; id <= 3; ++id) waiters += broker(id).metric("fjord_fetch_waiters");
    most_waiters = std::max(most_waiters, waiters);
    std::this_thread::sleep_for(1s);
  }
  // At most one poll per consumer and per follower session waits at a time, one waiter per partition it asks for.
  EXPECT_LE(most_waiters, kConsumers * kPartitions + kFollowerWaitersAtMost) << "waiters accumulate";
  for (int id = 1; id <= 3; ++id) {
    const long grown_kb = broker(id).resident_kb() - before[static_cast<size_t>(id - 1)];
    std::printf("broker %d: resident %ld kB -> %ld kB over %lld s\n", id, before[static_cast<size_t>(id - 1)],
                broker(id).resident_kb(), static_cast<long long>(duration.count()));
#ifdef FJORD_SANITIZED  // AddressSanitizer keeps freed memory in quarantine: there the waiter counts tell
    (void)grown_kb;
#else
    EXPECT_LT(grown_kb, 4 * 1024) << "broker " << id << " grew by " << grown_kb << " kB while idle";
#endif
  }
  pollers.clear();
  // Only the followers' polls are left, and they come and go.
  ASSERT_TRUE(wait_until(
      [&] {
        double waiters = 0;
        for (int id = 1; id <= 3; ++id) waiters += broker(id).metric("fjord_fetch_waiters");
        return waiters <= kFollowerWaitersAtMost;
      },
      10s));
}

}  // namespace
}  // namespace fjord::testing
