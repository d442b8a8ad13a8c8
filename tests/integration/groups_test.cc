// Consumer groups with librdkafka's high-level consumer: partitions covered exactly once, cooperative
// (incremental) rebalances that move only what must move, static members that restart without a rebalance, and
// committed offsets that survive a broker restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"

namespace fjord::testing {
namespace {

using Partitions = std::set<int32_t>;
using Clock = std::chrono::steady_clock;

// One group member polling on its own thread, recording what its rebalance callback was given.
class GroupMember : public RdKafka::RebalanceCb {
 public:
  GroupMember(const std::string& bootstrap, const std::string& group, const std::string& topic,
              std::map<std::string, std::string> settings) {
    settings.emplace("group.id", group);
    settings.emplace("session.timeout.ms", "6000");
    settings.emplace("heartbeat.interval.ms", "300");
    settings.emplace("enable.auto.commit", "false");
    settings.emplace("auto.offset.reset", "earliest");
    auto conf = client_conf(bootstrap, settings);
    std::string error;
    conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), error);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
    if (!consumer_) throw std::runtime_error(error);
    cooperative_ = settings["partition.assignment.strategy"] == "cooperative-sticky";
    consumer_->subscribe({topic});
    thread_ = std::thread([this] {
      while (!stop_) delete consumer_->consume(50);
    });
  }

  ~GroupMember() override { close(); }

  // Leaves the group (a dynamic member sends LeaveGroup; a static one does not) and stops polling.
  void close() {
    if (!consumer_) return;
    stop_ = true;
    thread_.join();
    consumer_->close();
    consumer_.reset();
  }

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    std::lock_guard lock(mutex_);
    Partitions changed;
    for (auto* p : partitions) changed.insert(p->partition());
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      if (cooperative_) {
        delete consumer->incremental_assign(partitions);
      } else {
        consumer->assign(partitions);
      }
      if (!cooperative_) owned_.clear();
      owned_.insert(changed.begin(), changed.end());
      assigned_.insert(changed.begin(), changed.end());
    } else {
      if (cooperative_) {
        delete consumer->incremental_unassign(partitions);
        for (int32_t p : changed) owned_.erase(p);
      } else {
        consumer->unassign();
        owned_.clear();
      }
      revoked_.insert(changed.begin(), changed.end());
    }
    ++rebalances_;
  }

  Partitions owned() {
    std::lock_guard lock(mutex_);
    return owned_;
  }
  Partitions revoked() {
    std::lock_guard lock(mutex_);
    return revoked_;
  }
  int rebalances() {
    std::lock_guard lock(mutex_);
    return rebalances_;
  }
  void forget_history() {
    std::lock_guard lock(mutex_);
    revoked_.clear();
    assigned_.clear();
    rebalances_ = 0;
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool cooperative_ = false;
  std::mutex mutex_;
  Partitions owned_, revoked_, assigned_;
  int rebalances_ = 0;
};

// Waits until the members own every partition of 0..count-1 exactly once between them.
bool covers_exactly_once(const std::vector<GroupMember*>& members, int count, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    std::map<int32_t, int> owners;
    bool each_has_some = true;
    for (auto* m : members) {
      auto owned = m->owned();
      if (owned.empty()) each_has_some = false;
      for (int32_t p : owned) ++owners[p];
    }
    bool once = static_cast<int>(owners.size()) == count &&
                std::all_of(owners.begin(), owners.end(), [](const auto& e) { return e.second == 1; });
    if (once && each_has_some) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class Groups : public ::testing::Test {
 protected:
  void SetUp() override {
    broker.start();
    Admin(broker.bootstrap()).create_topic("orders", kPartitions);
  }
  static constexpr int kPartitions = 12;
  BrokerProcess broker{{"--set", "group.initial.rebalance.delay.ms=0"}};
};

TEST_F(Groups, CooperativeMembersMoveOnlyWhatTheNewcomerTakes) {
  const std::map<std::string, std::string> cooperative = {{"partition.assignment.strategy", "cooperative-sticky"}};
  GroupMember a(broker.bootstrap(), "coop", "orders", cooperative);
  GroupMember b(broker.bootstrap(), "coop", "orders", cooperative);
  GroupMember c(broker.bootstrap(), "coop", "orders", cooperative);
  ASSERT_TRUE(covers_exactly_once({&a, &b, &c}, kPartitions, 30000)) << "three members never covered the topic";
  // Let the group settle: no further movement once every partition has one owner.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::map<GroupMember*, Partitions> before;
  for (auto* m : {&a, &b, &c}) {
    before[m] = m->owned();
    m->forget_history();
  }

  GroupMember d(broker.bootstrap(), "coop", "orders", cooperative);
  ASSERT_TRUE(covers_exactly_once({&a, &b, &c, &d}, kPartitions, 30000)) << "four members never covered the topic";
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Partitions taken = d.owned();
  EXPECT_EQ(taken.size(), 3u) << "12 partitions over 4 members";
  size_t revoked_total = 0;
  for (auto* m : {&a, &b, &c}) {
    for (int32_t p : m->revoked()) {
      EXPECT_TRUE(taken.count(p)) << "partition " << p << " was revoked but did not move to the newcomer";
      EXPECT_TRUE(before[m].count(p));
    }
    revoked_total += m->revoked().size();
    // What a member kept, it never gave up.
    for (int32_t p : m->owned()) EXPECT_TRUE(before[m].count(p)) << "partition " << p << " moved between old members";
  }
  EXPECT_EQ(revoked_total, taken.size()) << "exactly the newcomer's partitions were revoked";
}

TEST_F(Groups, EagerMembersShareThePartitions) {
  GroupMember a(broker.bootstrap(), "eager", "orders", {{"partition.assignment.strategy", "range"}});
  GroupMember b(broker.bootstrap(), "eager", "orders", {{"partition.assignment.strategy", "range"}});
  ASSERT_TRUE(covers_exactly_once({&a, &b}, kPartitions, 30000));
  b.close();  // a dynamic member leaves at once
  ASSERT_TRUE(covers_exactly_once({&a}, kPartitions, 15000)) << "the remaining member did not take over";
}

TEST_F(Groups, StaticMemberRestartingWithinItsSessionRevokesNothing) {
  auto settings = [](const std::string& instance) {
    return std::map<std::string, std::string>{{"partition.assignment.strategy", "cooperative-sticky"},
                                              {"group.instance.id", instance}};
  };
  GroupMember a(broker.bootstrap(), "static", "orders", settings("pod-a"));
  GroupMember c(broker.bootstrap(), "static", "orders", settings("pod-c"));
  auto b = std::make_unique<GroupMember>(broker.bootstrap(), "static", "orders", settings("pod-b"));
  ASSERT_TRUE(covers_exactly_once({&a, b.get(), &c}, kPartitions, 30000));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Partitions b_had = b->owned();
  a.forget_history();
  c.forget_history();

  b.reset();  // a static member's close does not leave the group
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(a.rebalances() + c.rebalances(), 0) << "closing a static member started a rebalance";
  b = std::make_unique<GroupMember>(broker.bootstrap(), "static", "orders", settings("pod-b"));
  ASSERT_TRUE(covers_exactly_once({&a, b.get(), &c}, kPartitions, 30000));
  EXPECT_EQ(b->owned(), b_had) << "the restarted member did not get its partitions back";
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(a.rebalances() + c.rebalances(), 0) << "the others were disturbed by the restart";
  EXPECT_TRUE(a.revoked().empty());
  EXPECT_TRUE(c.revoked().empty());
}

TEST_F(Groups, StaticMemberThatDoesNotReturnIsReplacedAfterItsSession) {
  auto settings = [](const std::string& instance) {
    return std::map<std::string, std::string>{{"partition.assignment.strategy", "cooperative-sticky"},
                                              {"group.instance.id", instance}};
  };
  GroupMember a(broker.bootstrap(), "static-gone", "orders", settings("pod-a"));
  auto b = std::make_unique<GroupMember>(broker.bootstrap(), "static-gone", "orders", settings("pod-b"));
  ASSERT_TRUE(covers_exactly_once({&a, b.get()}, kPartitions, 30000));
  b.reset();
  // session.timeout.ms is 6 s: after it, the survivor owns everything.
  ASSERT_TRUE(covers_exactly_once({&a}, kPartitions, 20000));
}

// Commits through librdkafka's consumer, then reads them back after a broker restart.
TEST(GroupOffsets, CommittedOffsetsSurviveARestart) {
  BrokerProcess broker({"--set", "group.initial.rebalance.delay.ms=0"});
  broker.start();
  Admin(broker.bootstrap()).create_topic("ledger", 2);
  {
    TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < 100; ++i) producer.produce("ledger", i % 2, 5, i);
    ASSERT_TRUE(producer.flush(10000));
  }
  auto commit = [&](int64_t p0, int64_t p1) {
    auto conf = client_conf(broker.bootstrap(), {{"group.id", "ledger-writers"}, {"enable.auto.commit", "false"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> offsets = {RdKafka::TopicPartition::create("ledger", 0, p0),
                                                     RdKafka::TopicPartition::create("ledger", 1, p1)};
    auto result = consumer->commitSync(offsets);
    for (auto* tp : offsets) {
      EXPECT_EQ(tp->err(), RdKafka::ERR_NO_ERROR);
      delete tp;
    }
    consumer->close();
    return result;
  };
  auto committed = [&] {
    auto conf = client_conf(broker.bootstrap(), {{"group.id", "ledger-writers"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> offsets = {RdKafka::TopicPartition::create("ledger", 0),
                                                     RdKafka::TopicPartition::create("ledger", 1)};
    EXPECT_EQ(consumer->committed(offsets, 10000), RdKafka::ERR_NO_ERROR);
    std::pair<int64_t, int64_t> out{offsets[0]->offset(), offsets[1]->offset()};
    for (auto* tp : offsets) delete tp;
    consumer->close();
    return out;
  };
  ASSERT_EQ(commit(30, 41), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(committed(), std::make_pair(int64_t{30}, int64_t{41}));
  broker.kill();
  broker.start();
  EXPECT_EQ(committed(), std::make_pair(int64_t{30}, int64_t{41})) << "after kill -9";
  ASSERT_EQ(commit(50, 50), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(broker.stop(), 0);
  broker.start();
  EXPECT_EQ(committed(), std::make_pair(int64_t{50}, int64_t{50})) << "after a clean stop";
}

}  // namespace
}  // namespace fjord::testing

namespace fjord::testing {
namespace {

// The seed's staging test: a consumer that commits only after processing is SIGKILLed mid-batch, again and
// again; a new one takes over each time. No record may be lost or skipped, and only what was processed but not
// yet committed may come twice.
TEST(CommitAfterProcess, KillsMidBatchLoseAndSkipNothing) {
  BrokerProcess broker({"--set", "group.initial.rebalance.delay.ms=0"});
  broker.start();
  const std::string topic = "payments";
  const int partitions = 3;
  const int records = 3000;
  const int batch = 50;
  Admin(broker.bootstrap()).create_topic(topic, partitions);
  {
    TestProducer producer(broker.bootstrap(), {{"acks", "all"}, {"enable.idempotence", "true"}});
    for (int i = 0; i < records; ++i) producer.produce(topic, i % partitions, 9, i);
    ASSERT_TRUE(producer.flush(30000));
  }
  const std::string dir = make_temp_directory("fjord-processing");
  const std::string output = dir + "/processed";
  auto spawn = [&] {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::string batch_text = std::to_string(batch);
      ::execl(FJORD_PROCESSING_CONSUMER, FJORD_PROCESSING_CONSUMER, broker.bootstrap().c_str(), "ledger", topic.c_str(),
              output.c_str(), batch_text.c_str(), nullptr);
      ::_exit(127);
    }
    return pid;
  };
  auto processed = [&] {
    std::map<std::pair<int32_t, int64_t>, int> seen;
    std::ifstream in(output);
    int32_t p;
    int64_t o;
    while (in >> p >> o) ++seen[{p, o}];
    return seen;
  };
  std::mt19937 random(7);
  const int kills = 6;
  auto lines = [&] {
    std::ifstream in(output);
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  for (int k = 0; k < kills; ++k) {
    auto before = lines();
    pid_t pid = spawn();
    // Once it is processing (after the killed one's session expired and the group rebalanced), kill it a
    // random moment later: most likely inside a batch.
    auto started = Clock::now() + std::chrono::seconds(60);
    while (lines() == before && Clock::now() < started) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 400));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  pid_t last = spawn();
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (processed().size() < static_cast<size_t>(records) && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // its last commit
  ::kill(last, SIGKILL);
  ::waitpid(last, nullptr, 0);

  auto seen = processed();
  for (int32_t p = 0; p < partitions; ++p) {
    for (int64_t o = 0; o < records / partitions; ++o) {
      ASSERT_TRUE(seen.count({p, o})) << "partition " << p << " offset " << o << " was never processed";
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(records));
  size_t again = 0;
  for (const auto& [key, times] : seen) again += static_cast<size_t>(times - 1);
  // Each kill can cost at most the batch in progress: processed, not yet committed.
  EXPECT_LE(again, static_cast<size_t>(kills * batch)) << "more came again than was ever uncommitted";
  std::printf("%d kills: %zu records processed twice (at most %d allowed)\n", kills, again, kills * batch);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fjord::testing

namespace fjord::testing {
namespace {

// `fjord group`: lag is log end minus committed, per partition; reset-offsets plans, then executes; delete.
TEST(GroupCommand, DescribesLagResetsAndDeletes) {
  BrokerProcess broker({"--set", "group.initial.rebalance.delay.ms=0"});
  broker.start();
  Admin(broker.bootstrap()).create_topic("ledger", 3);
  {
    TestProducer producer(broker.bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < 90; ++i) producer.produce("ledger", i % 3, 5, i);
    ASSERT_TRUE(producer.flush(10000));
  }
  {
    auto conf = client_conf(broker.bootstrap(), {{"group.id", "auditors"}});
    std::string error;
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> offsets = {RdKafka::TopicPartition::create("ledger", 0, 10),
                                                     RdKafka::TopicPartition::create("ledger", 1, 30)};
    ASSERT_EQ(consumer->commitSync(offsets), RdKafka::ERR_NO_ERROR);
    for (auto* tp : offsets) delete tp;
    consumer->close();
  }
  const std::string fjord = std::string(FJORD_BINARY) + " group --bootstrap-server " + broker.bootstrap();
  std::string text = run_command(fjord + " describe auditors");
  EXPECT_NE(text.find("GROUP    TOPIC  PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("auditors ledger 0         10             30             20  -"), std::string::npos) << text;
  EXPECT_NE(text.find("auditors ledger 1         30             30             0   -"), std::string::npos) << text;

  auto described = nlohmann::json::parse(run_command(fjord + " --format json describe auditors"));
  EXPECT_EQ(described["protocol"], "classic");
  EXPECT_TRUE(described["group_epoch"].is_null()) << "epochs are the consumer protocol's";
  ASSERT_EQ(described["partitions"].size(), 2u);
  for (const auto& row : described["partitions"]) {
    EXPECT_EQ(row["lag"].get<int64_t>(), row["log_end_offset"].get<int64_t>() - row["current_offset"].get<int64_t>());
  }

  std::string plan = run_command(fjord + " reset-offsets auditors --topic ledger --to-earliest");
  EXPECT_NE(plan.find("auditors ledger 2         0"), std::string::npos) << plan;
  EXPECT_NE(plan.find("a plan only"), std::string::npos) << plan;
  EXPECT_NE(run_command(fjord + " describe auditors").find("auditors ledger 0         10"), std::string::npos)
      << "a plan changed something";
  run_command(fjord + " reset-offsets auditors --topic ledger:0 --shift-by -4 --execute");
  EXPECT_NE(
      run_command(fjord + " describe auditors").find("auditors ledger 0         6              30             24"),
      std::string::npos);

  EXPECT_NE(run_command(fjord + " list").find("auditors"), std::string::npos);
  const auto listed = nlohmann::json::parse(run_command(fjord + " --format json list"));
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["group"], "auditors");
  EXPECT_EQ(listed[0]["state"], "Empty");
  EXPECT_EQ(listed[0]["protocol"], "classic");
  EXPECT_NE(run_command(fjord + " delete auditors").find("successful"), std::string::npos);
  EXPECT_EQ(run_command(fjord + " list").find("auditors"), std::string::npos);
  EXPECT_NE(run_command(fjord + " delete auditors").find("exit status"), std::string::npos)
      << "deleting twice is an error";
}

}  // namespace
}  // namespace fjord::testing
