// acks=all means "on disk on every in-sync replica", tested where it is hard: three whole brokers in this process
// (cli/broker.h), replicating through their real replica fetchers over loopback, each on a simulated disk whose
// syncs the test holds and releases, then all three losing power at once. Also: a follower whose position fell
// below its leader's log start (retention or DeleteRecords removed what it needs) starts again from there.
#include <gtest/gtest.h>

#include <array>
#include <deque>
#include <random>
#include <set>

#include "cluster/partition.h"
#include "cluster/partition_manager.h"
#include "tests/support/in_process_broker.h"

namespace fjord::testing {
namespace {

using namespace std::chrono_literals;

const std::map<std::string, std::string> kSettings = {
    {"replica.fetch.wait.max.ms", "50"},
    {"replica.lag.time.max.ms", "10000"},
};

class InProcessCluster : public ::testing::Test {
 protected:
  void start(int32_t id) {
    brokers_[static_cast<size_t>(id - 1)] =
        std::make_unique<InProcessBroker>(id, disks_[static_cast<size_t>(id - 1)], &cluster_, settings_);
    broker(id).start();
  }
  // As in a power loss: the broker stops with nothing synced or closed, and its unsynced bytes are gone.
  void crash(int32_t id) {
    brokers_[static_cast<size_t>(id - 1)].reset();
    disks_[static_cast<size_t>(id - 1)].crash();
  }
  InProcessBroker& broker(int32_t id) { return *brokers_[static_cast<size_t>(id - 1)]; }
  std::vector<InProcessBroker*> running() {
    std::vector<InProcessBroker*> out;
    for (auto& b : brokers_) {
      if (b) out.push_back(b.get());
    }
    return out;
  }
  bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    return fjord::testing::poll_until(running(), done, timeout);
  }
  void poll_for(std::chrono::milliseconds duration) {
    const auto end = std::chrono::steady_clock::now() + duration;
    poll_until([&] { return std::chrono::steady_clock::now() >= end; }, duration + 1s);
  }
  cluster::Partition* partition(int32_t id, const std::string& topic = "ledger") {
    return broker(id).broker().partitions().partition(topic, 0);
  }
  const cluster::PartitionAssignment* assignment(const std::string& topic = "ledger") {
    auto it = cluster_.metadata().topics.find(topic);
    if (it == cluster_.metadata().topics.end() || it->second.assignments.empty()) return nullptr;
    return &it->second.assignments[0];
  }
  // Creates a one-partition topic on three replicas and waits until its leader has every replica in sync.
  int32_t create_topic(const std::string& topic, cluster::ConfigMap configs) {
    bool created = false;
    broker(1).broker().partitions().create_topic(
        topic, 1, 3, configs, false, [&](cluster::AdminResult r) { created = r.error == ErrorCode::kNone; });
    EXPECT_TRUE(poll_until([&] { return created && assignment(topic) && assignment(topic)->leader > 0; }));
    const int32_t leader = assignment(topic)->leader;
    EXPECT_TRUE(poll_until([&] {
      auto* p = partition(leader, topic);
      return p && p->is_leader() && p->isr().size() == 3;
    }));
    return leader;
  }

  std::map<std::string, std::string> settings_ = kSettings;
  cluster::testing::MemoryCluster cluster_;
  std::array<storage::testing::SimulatedFileSystem, 3> disks_;
  std::array<std::unique_ptr<InProcessBroker>, 3> brokers_;
};

// One produce request's records, "r<first>" to "r<first + count - 1>", and what became of it.
struct Sent {
  int first = 0;
  int count = 0;
  std::shared_ptr<std::vector<uint8_t>> bytes;
  bool answered = false;
  bool acknowledged = false;
  int64_t base_offset = -1;
};

std::shared_ptr<Sent> produce(cluster::Partition& leader, int first, int count) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) values.push_back("r" + std::to_string(first + i));
  auto sent = std::make_shared<Sent>();
  sent->first = first;
  sent->count = count;
  sent->bytes = std::make_shared<std::vector<uint8_t>>(batch_of(values));
  leader.append(*sent->bytes, -1).then([sent](cluster::ProduceResult result) {
    sent->answered = true;
    sent->acknowledged = result.error == ErrorCode::kNone;
    sent->base_offset = result.base_offset;
  });
  return sent;
}

TEST_F(InProcessCluster, AcknowledgedRecordsSurviveEveryBrokerLosingPowerAtOnce) {
  for (int32_t id = 1; id <= 3; ++id) start(id);
  const int32_t leader_id = create_topic("ledger", {{"min.insync.replicas", "2"}});
  std::vector<int32_t> followers;
  for (int32_t id = 1; id <= 3; ++id) {
    if (id != leader_id) followers.push_back(id);
  }
  auto& leader = *partition(leader_id);

  // What the leader counts as in sync must be on its followers' disks: never a high watermark above the durable
  // end of any in-sync follower.
  int violations = 0;
  auto check_high_watermark = [&] {
    for (int32_t f : followers) {
      if (std::find(leader.isr().begin(), leader.isr().end(), f) == leader.isr().end()) continue;
      if (leader.high_watermark() > partition(f)->log().durable_offset()) ++violations;
    }
  };
  auto poll_checking = [&](std::chrono::milliseconds duration) {
    const auto end = std::chrono::steady_clock::now() + duration;
    poll_until(
        [&] {
          check_high_watermark();
          return std::chrono::steady_clock::now() >= end;
        },
        duration + 1s);
  };

  // With both followers' syncs held, nothing is acknowledged, however long it waits.
  broker(followers[0]).hold_io = broker(followers[1]).hold_io = true;
  std::vector<std::shared_ptr<Sent>> sent;
  sent.push_back(produce(leader, 0, 10));
  poll_checking(500ms);
  EXPECT_FALSE(sent[0]->answered) << "acknowledged while no follower had synced it";
  EXPECT_EQ(leader.high_watermark(), 0) << "the high watermark counted records no follower has on disk";
  EXPECT_EQ(violations, 0);
  // Released, it is acknowledged.
  broker(followers[0]).hold_io = broker(followers[1]).hold_io = false;
  ASSERT_TRUE(poll_until([&] { return sent[0]->answered; }));
  EXPECT_TRUE(sent[0]->acknowledged);

  // Then a stream of writes while each follower's syncs are held and released at random, and a power loss of
  // every broker at once with some of them held.
  std::mt19937 random(20261204);
  int next = 10;
  for (int round = 0; round < 40; ++round) {
    for (int32_t f : followers) broker(f).hold_io = random() % 3 == 0;
    const int count = 1 + static_cast<int>(random() % 20);
    sent.push_back(produce(leader, next, count));
    next += count;
    poll_checking(std::chrono::milliseconds(random() % 40));
  }
  // And the last write is certainly in flight: one follower has not synced it.
  broker(followers[0]).hold_io = true;
  sent.push_back(produce(leader, next, 5));
  next += 5;
  poll_checking(100ms);
  EXPECT_EQ(violations, 0) << "the high watermark passed a follower's durable end";
  std::map<int, int64_t> acknowledged;  // record index -> offset
  for (const auto& s : sent) {
    if (!s->acknowledged) continue;
    for (int i = 0; i < s->count; ++i) acknowledged[s->first + i] = s->base_offset + i;
  }
  ASSERT_GT(acknowledged.size(), 100u) << "too few acknowledgements for the test to mean anything";
  EXPECT_LT(acknowledged.size(), static_cast<size_t>(next)) << "nothing was in flight at the power loss";

  for (int32_t id = 1; id <= 3; ++id) crash(id);
  // The old leader stays down: one of the followers must lead, with everything that was acknowledged.
  for (int32_t f : followers) start(f);
  ASSERT_TRUE(poll_until([&] {
    auto* a = assignment();
    return a && a->leader > 0 && a->leader != leader_id && partition(a->leader)->is_leader();
  }));
  const int32_t new_leader = assignment()->leader;
  auto survived = records_of(partition(new_leader)->log());
  for (const auto& [index, offset] : acknowledged) {
    auto it = survived.find(offset);
    ASSERT_TRUE(it != survived.end()) << "acknowledged record r" << index << " at offset " << offset
                                      << " is not on the new leader " << new_leader;
    ASSERT_EQ(it->second, "r" + std::to_string(index));
  }
}

TEST_F(InProcessCluster, AFollowerBehindItsLeadersLogStartStartsAgainFromIt) {
  settings_["replica.lag.time.max.ms"] = "1000";  // the dead follower leaves the ISR soon
  for (int32_t id = 1; id <= 3; ++id) start(id);
  const int32_t leader_id =
      create_topic("ledger", {{"min.insync.replicas", "1"}, {"segment.bytes", "4096"}, {"file.delete.delay.ms", "0"}});
  int32_t lagging = leader_id == 3 ? 2 : 3;
  auto* leader = partition(leader_id);
  int next = 0;
  auto write = [&](int batches) {
    for (int i = 0; i < batches; ++i) {
      auto sent = produce(*leader, next, 10);
      next += 10;
      ASSERT_TRUE(poll_until([&] { return sent->answered; }));
    }
  };
  write(5);
  ASSERT_TRUE(poll_until([&] { return partition(lagging)->log_end_offset() == leader->log_end_offset(); }));

  // The follower is down while the leader writes on and deletes everything it had.
  brokers_[static_cast<size_t>(lagging - 1)].reset();
  ASSERT_TRUE(poll_until([&] { return leader->isr().size() == 2; }, 20s)) << "the dead follower stayed in sync";
  write(60);
  const int64_t start_offset = leader->high_watermark() - 5;
  leader->log().delete_records_before(start_offset);
  ASSERT_TRUE(poll_until([&] { return leader->log_start_offset() == start_offset; }));

  start(lagging);
  ASSERT_TRUE(poll_until(
      [&] {
        auto* p = partition(lagging);
        return p && p->log_end_offset() == leader->log_end_offset() && leader->isr().size() == 3;
      },
      20s))
      << "the follower did not catch up from the leader's log start (its log ends at "
      << partition(lagging)->log_end_offset() << ", the leader's starts at " << leader->log_start_offset() << ")";
  EXPECT_EQ(partition(lagging)->log_start_offset(), start_offset);
  EXPECT_EQ(records_of(partition(lagging)->log()), records_of(leader->log()));
}

}  // namespace
}  // namespace fjord::testing
