#include "cluster/etcd/etcd_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cluster/etcd/etcd_cluster.h"
#include "cluster/local_metadata_store.h"
#include "cluster/tests/test_loop.h"
#include "tests/support/broker_process.h"
#include "tests/support/etcd_process.h"

namespace {

using fjord::cluster::etcd::Compare;
using fjord::cluster::etcd::EtcdClient;
using fjord::cluster::etcd::EtcdError;
using fjord::cluster::etcd::Operation;
using fjord::cluster::etcd::parse_endpoint;
using fjord::cluster::etcd::WatchEvent;
using fjord::testing::EtcdProcess;
using namespace std::chrono_literals;

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdProcess::available()) GTEST_SKIP() << "no etcd binary";
    etcd_.emplace();
    etcd_->start();
    client_ = std::make_unique<EtcdClient>(etcd_->endpoint());
  }

  // Waits for a watch running in another thread. When it hangs, etcd is killed so that the test fails instead of
  // blocking forever.
  void await(std::future<void>& watch, std::chrono::milliseconds limit) {
    if (watch.wait_for(limit) == std::future_status::ready) return watch.get();
    ADD_FAILURE() << "the watch did not return within " << limit.count() << " ms";
    etcd_->kill();
    try {
      watch.get();
    } catch (const EtcdError&) {
    }
  }

  std::optional<EtcdProcess> etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, PutGetAndGetPrefix) {
  constexpr char kBinary[] = "quote \" newline \n nul \0 high \xff end";
  const std::string binary(kBinary, sizeof(kBinary) - 1);
  int64_t first = client_->put("a/1", "one");
  int64_t second = client_->put("a/2", binary);
  client_->put("b/1", "outside");
  EXPECT_GT(second, first);

  auto one = client_->get("a/1");
  ASSERT_EQ(one.kvs.size(), 1u);
  EXPECT_EQ(one.kvs[0].key, "a/1");
  EXPECT_EQ(one.kvs[0].value, "one");
  EXPECT_EQ(one.kvs[0].create_revision, first);
  EXPECT_EQ(one.kvs[0].mod_revision, first);
  EXPECT_GT(one.revision, second);

  auto missing = client_->get("a/none");
  EXPECT_TRUE(missing.kvs.empty());
  EXPECT_EQ(missing.revision, one.revision);

  auto prefix = client_->get_prefix("a/");
  ASSERT_EQ(prefix.kvs.size(), 2u);
  EXPECT_EQ(prefix.kvs[0].key, "a/1");
  EXPECT_EQ(prefix.kvs[1].key, "a/2");
  EXPECT_EQ(prefix.kvs[1].value, binary);

  // A prefix ending in 0xff cannot be incremented in place; its range must still stop before "q".
  client_->put(
      "p\xff"
      "1",
      "in");
  client_->put("q", "out");
  auto high = client_->get_prefix("p\xff");
  ASSERT_EQ(high.kvs.size(), 1u);
  EXPECT_EQ(high.kvs[0].value, "in");

  EXPECT_EQ(client_->get_prefix("").kvs.size(), 5u);

  client_->remove("a/1");
  EXPECT_TRUE(client_->get("a/1").kvs.empty());
}

TEST_F(EtcdClientTest, TxnCreatesOnlyIfAbsent) {
  auto create = [&](const std::string& value) {
    return client_->txn({Compare{.key = "owner", .target = Compare::Target::kCreateRevision, .revision = 0}},
                        {Operation{.kind = Operation::Kind::kPut, .key = "owner", .value = value}});
  };
  auto first = create("broker-1");
  EXPECT_TRUE(first.succeeded);
  auto second = create("broker-2");
  EXPECT_FALSE(second.succeeded);
  EXPECT_EQ(second.revision, first.revision);
  EXPECT_EQ(client_->get("owner").kvs.at(0).value, "broker-1");
}

TEST_F(EtcdClientTest, TxnCompareAndSwapFailsOnAStaleRevision) {
  int64_t stale = client_->put("leader", "epoch-1");
  int64_t current = client_->put("leader", "epoch-2");
  auto swap = [&](int64_t expected, const std::string& value) {
    return client_->txn({Compare{.key = "leader", .target = Compare::Target::kModRevision, .revision = expected}},
                        {Operation{.kind = Operation::Kind::kPut, .key = "leader", .value = value}},
                        {Operation{.kind = Operation::Kind::kPut, .key = "lost", .value = value}});
  };
  EXPECT_FALSE(swap(stale, "epoch-3a").succeeded);
  EXPECT_EQ(client_->get("lost").kvs.at(0).value, "epoch-3a");
  auto won = swap(current, "epoch-3b");
  EXPECT_TRUE(won.succeeded);
  auto leader = client_->get("leader").kvs.at(0);
  EXPECT_EQ(leader.value, "epoch-3b");
  EXPECT_EQ(leader.mod_revision, won.revision);

  auto by_value = [&](const std::string& expected) {
    return client_->txn({Compare{.key = "leader", .target = Compare::Target::kValue, .value = expected}},
                        {Operation{.kind = Operation::Kind::kDelete, .key = "leader"}});
  };
  EXPECT_FALSE(by_value("epoch-2").succeeded);
  EXPECT_TRUE(by_value("epoch-3b").succeeded);
  EXPECT_TRUE(client_->get("leader").kvs.empty());
}

TEST_F(EtcdClientTest, RevokingALeaseRemovesItsKeys) {
  int64_t lease = client_->lease_grant(30);
  EXPECT_GT(lease, 0);
  int64_t ttl = client_->lease_keepalive(lease);
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 30);
  client_->put("alive/broker-1", "here", lease);
  EXPECT_EQ(client_->get("alive/broker-1").kvs.at(0).lease, lease);

  client_->lease_revoke(lease);
  EXPECT_TRUE(client_->get("alive/broker-1").kvs.empty());
  EXPECT_LE(client_->lease_keepalive(lease), 0);
  EXPECT_THROW(client_->lease_revoke(lease), EtcdError);
  EXPECT_THROW(client_->put("alive/broker-1", "again", lease), EtcdError);
}

TEST_F(EtcdClientTest, WatchSeesPutAndDeleteFromAnotherClient) {
  int64_t from = client_->get("w/").revision + 1;
  EtcdClient watcher(etcd_->endpoint());
  std::vector<WatchEvent> events;
  std::vector<int64_t> batch_revisions;
  auto watch = std::async(std::launch::async, [&] {
    watcher.watch_prefix("w/", from, [&](const std::vector<WatchEvent>& batch, int64_t revision) {
      events.insert(events.end(), batch.begin(), batch.end());
      batch_revisions.push_back(revision);
      return events.size() < 2;
    });
  });
  client_->put("other", "not watched");
  int64_t put = client_->put("w/a", "1");
  client_->remove("w/a");
  await(watch, 10s);

  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events[0].kv.key, "w/a");
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_EQ(events[0].kv.mod_revision, put);
  EXPECT_EQ(events[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[1].kv.key, "w/a");
  EXPECT_EQ(events[1].kv.mod_revision, put + 1);
  EXPECT_EQ(batch_revisions.back(), put + 1);
}

// A big message reaches the client in many pieces, its closing newline in an HTTP chunk of its own; one txn's
// changes arrive as one batch.
TEST_F(EtcdClientTest, WatchReassemblesBigMessagesAndKeepsTxnBatchesTogether) {
  int64_t from = client_->get("w/").revision + 1;
  EtcdClient watcher(etcd_->endpoint());
  std::vector<std::vector<WatchEvent>> batches;
  auto watch = std::async(std::launch::async, [&] {
    watcher.watch_prefix("w/", from, [&](const std::vector<WatchEvent>& batch, int64_t) {
      batches.push_back(batch);
      return batches.size() < 2;
    });
  });
  const std::string big(300000, '\n');
  client_->put("w/big", big);
  std::vector<Operation> puts;
  for (const char* key : {"w/t1", "w/t2", "w/t3"}) puts.push_back({.kind = Operation::Kind::kPut, .key = key});
  EXPECT_TRUE(client_->txn({}, puts).succeeded);
  await(watch, 10s);

  ASSERT_EQ(batches.size(), 2u);
  ASSERT_EQ(batches[0].size(), 1u);
  EXPECT_EQ(batches[0][0].kv.value, big);
  ASSERT_EQ(batches[1].size(), 3u);
  EXPECT_EQ(batches[1][2].kv.key, "w/t3");
}

TEST_F(EtcdClientTest, CancelWatchReturnsPromptlyAndTheClientCanWatchAgain) {
  EtcdClient watcher(etcd_->endpoint());
  auto idle = std::async(std::launch::async, [&] {
    watcher.watch_prefix("c/", 0, [](const std::vector<WatchEvent>&, int64_t) { return true; });
  });
  // Long enough for the watch to be connected and blocked in its read.
  std::this_thread::sleep_for(300ms);
  auto cancelled_at = std::chrono::steady_clock::now();
  watcher.cancel_watch();
  await(idle, 5s);
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 1s);

  int64_t from = client_->get("c/").revision + 1;
  std::string seen;
  auto again = std::async(std::launch::async, [&] {
    watcher.watch_prefix("c/", from, [&](const std::vector<WatchEvent>& batch, int64_t) {
      seen = batch.at(0).kv.key;
      return false;
    });
  });
  client_->put("c/x", "");
  await(again, 10s);
  EXPECT_EQ(seen, "c/x");
}

TEST_F(EtcdClientTest, CancelBeforeTheWatchStartsIsNotLost) {
  EtcdClient watcher(etcd_->endpoint());
  watcher.cancel_watch();
  auto watch = std::async(std::launch::async, [&] {
    watcher.watch_prefix("c/", 0, [](const std::vector<WatchEvent>&, int64_t) { return true; });
  });
  await(watch, 5s);
}

TEST_F(EtcdClientTest, WatchThrowsWhenEtcdGoesAway) {
  EtcdClient watcher(etcd_->endpoint());
  auto watch = std::async(std::launch::async, [&] {
    watcher.watch_prefix("k/", 0, [](const std::vector<WatchEvent>&, int64_t) { return true; });
  });
  std::this_thread::sleep_for(300ms);
  etcd_->kill();
  ASSERT_EQ(watch.wait_for(5s), std::future_status::ready);
  EXPECT_THROW(watch.get(), EtcdError);
}

TEST_F(EtcdClientTest, DataSurvivesRestartsAndKills) {
  int64_t revision = client_->put("durable", "yes");
  etcd_->restart();
  // The same client: its kept-alive connection died with the old process.
  auto after_restart = client_->get("durable");
  ASSERT_EQ(after_restart.kvs.size(), 1u);
  EXPECT_EQ(after_restart.kvs[0].value, "yes");
  EXPECT_EQ(after_restart.kvs[0].mod_revision, revision);

  client_->put("durable", "still");
  etcd_->kill();
  etcd_->start();
  EXPECT_EQ(client_->get("durable").kvs.at(0).value, "still");
}

TEST_F(EtcdClientTest, TransportFailuresAreEtcdErrors) {
  etcd_->stop();
  EXPECT_THROW(client_->get("anything"), EtcdError);
  EtcdClient nowhere("127.0.0.1:" + std::to_string(fjord::testing::free_port()), 500);
  EXPECT_THROW(nowhere.put("k", "v"), EtcdError);
}

using fjord::cluster::testing::TestLoop;

// Fifty metadata changes asked for at once (a burst of ISR changes after a broker returns) reach etcd as two
// writes: the first, and the other forty-nine together once it is done; each change's callback hears success and
// every change is in the stored document. One write each would cost fifty, each conflicting with the rest.
TEST_F(EtcdClientTest, MetadataChangesAskedForWhileAWriteIsInFlightGoTogether) {
  TestLoop loop;
  fjord::cluster::etcd::EtcdCluster cluster({.endpoint = etcd_->endpoint(), .node_id = 1}, loop);
  cluster.load();
  cluster.join({1, "127.0.0.1", 9092, std::nullopt});
  ASSERT_TRUE(loop.run_until([&] { return cluster.controller_id() == 1; }, 10s));
  const int64_t revision_before = client_->get("/fjord/cluster").revision;
  int stored = 0;
  for (int i = 0; i < 50; ++i) {
    cluster.update(
        [i](fjord::cluster::ClusterMetadata& m) { m.broker_dynamic_configs["key." + std::to_string(i)] = "v"; },
        [&](std::error_code error) {
          EXPECT_FALSE(error) << error.message();
          ++stored;
        });
  }
  ASSERT_TRUE(loop.run_until([&] { return stored == 50; }, 20s));
  EXPECT_EQ(client_->get("/fjord/cluster").revision - revision_before, 2);
  EXPECT_EQ(cluster.current().broker_dynamic_configs.size(), 50u);
  cluster.leave();
}

// A cluster written in the single-document layout (one /fjord/metadata value) is moved to one key per piece by
// the first broker that starts: every topic and placed partition gets its key, the document goes, and the metadata
// reads the same as before.
TEST_F(EtcdClientTest, TheSingleDocumentLayoutIsMigratedOnFirstStart) {
  fjord::cluster::ClusterMetadata old;
  old.cluster_id = "migrated-cluster";
  old.producer_id_block_end = 7000;
  fjord::cluster::TopicMetadata topic;
  topic.name = "ledger";
  topic.id = fjord::cluster::random_uuid();
  topic.partitions = 150;  // more keys than one transaction takes
  topic.replication_factor = 3;
  for (int i = 0; i < topic.partitions; ++i) {
    fjord::cluster::PartitionAssignment a;
    a.replicas = {1 + i % 3, 1 + (i + 1) % 3, 1 + (i + 2) % 3};
    a.leader = a.replicas.front();
    a.isr = a.replicas;
    a.leader_epoch = i;
    topic.assignments.push_back(a);
  }
  old.topics["ledger"] = topic;
  client_->put("/fjord/metadata", fjord::cluster::LocalMetadataStore::to_json(old));

  TestLoop loop;
  fjord::cluster::etcd::EtcdCluster cluster({.endpoint = etcd_->endpoint(), .node_id = 1}, loop);
  cluster.load();
  EXPECT_EQ(fjord::cluster::LocalMetadataStore::to_json(cluster.current()),
            fjord::cluster::LocalMetadataStore::to_json(old));
  EXPECT_TRUE(client_->get("/fjord/metadata").kvs.empty()) << "the single document is still there";
  EXPECT_EQ(client_->get_prefix("/fjord/partitions/ledger/").kvs.size(), 150u);
  EXPECT_EQ(client_->get("/fjord/topics/ledger").kvs.size(), 1u);

  // A second broker reads the same from the keys.
  fjord::cluster::etcd::EtcdCluster second({.endpoint = etcd_->endpoint(), .node_id = 2}, loop);
  second.load();
  EXPECT_EQ(fjord::cluster::LocalMetadataStore::to_json(second.current()),
            fjord::cluster::LocalMetadataStore::to_json(old));
}

// What a change costs follows what it touches: placing 1,000 partitions is written in parts (etcd takes at most
// 128 operations in a transaction), and then one partition's ISR change writes that partition's key alone, which
// another broker sees by its watch.
TEST_F(EtcdClientTest, APartitionsChangeWritesOnlyItsKey) {
  TestLoop loop;
  fjord::cluster::etcd::EtcdCluster cluster({.endpoint = etcd_->endpoint(), .node_id = 1}, loop);
  cluster.load();
  cluster.join({1, "127.0.0.1", 9092, std::nullopt});
  fjord::cluster::etcd::EtcdCluster watcher({.endpoint = etcd_->endpoint(), .node_id = 2}, loop);
  watcher.load();
  watcher.join({2, "127.0.0.1", 9093, std::nullopt});
  int stored = 0;
  std::error_code result;
  auto done = [&](std::error_code error) {
    result = error;
    ++stored;
  };
  cluster.update(
      [](fjord::cluster::ClusterMetadata& m) {
        auto& t = m.topics["wide"];
        t.name = "wide";
        t.id = fjord::cluster::random_uuid();
        t.partitions = 1000;
        for (int i = 0; i < t.partitions; ++i) {
          fjord::cluster::PartitionAssignment a;
          a.replicas = {1, 2};
          a.leader = 1;
          a.isr = {1, 2};
          t.assignments.push_back(a);
        }
      },
      done);
  ASSERT_TRUE(loop.run_until([&] { return stored == 1; }, 30s));
  ASSERT_FALSE(result) << result.message();
  ASSERT_EQ(client_->get_prefix("/fjord/partitions/wide/").kvs.size(), 1000u);
  ASSERT_TRUE(loop.run_until(
      [&] {
        auto it = watcher.current().topics.find("wide");
        return it != watcher.current().topics.end() && it->second.assignments.size() == 1000;
      },
      10s));

  const int64_t before = client_->get("/fjord/cluster").revision;
  cluster.update(
      [](fjord::cluster::ClusterMetadata& m) {
        auto& a = m.topics["wide"].assignments[617];
        a.isr = {1};
        ++a.partition_epoch;
      },
      done);
  ASSERT_TRUE(loop.run_until([&] { return stored == 2; }, 10s));
  ASSERT_FALSE(result) << result.message();
  const auto after = client_->get_prefix("/fjord/");
  EXPECT_EQ(after.revision - before, 1) << "one transaction";
  std::vector<std::string> changed;
  for (const auto& kv : after.kvs) {
    if (kv.mod_revision > before) changed.push_back(kv.key);
  }
  EXPECT_EQ(changed, std::vector<std::string>{"/fjord/partitions/wide/617"});
  ASSERT_TRUE(loop.run_until(
      [&] { return watcher.current().topics.at("wide").assignments[617].isr == std::vector<int32_t>{1}; }, 10s));
  EXPECT_EQ(fjord::cluster::LocalMetadataStore::to_json(watcher.current()),
            fjord::cluster::LocalMetadataStore::to_json(cluster.current()));
  watcher.leave();
  cluster.leave();
}

// A burst of single-partition changes (a broker back in a cluster of thousands of partitions rejoins every ISR)
// goes in as few transactions as etcd's limit allows: the first alone, then a hundred at a time — not one
// transaction each, nor the whole burst one after the other behind the first.
TEST_F(EtcdClientTest, ABurstOfPartitionChangesGoesAHundredToATransaction) {
  TestLoop loop;
  fjord::cluster::etcd::EtcdCluster cluster({.endpoint = etcd_->endpoint(), .node_id = 1}, loop);
  cluster.load();
  cluster.join({1, "127.0.0.1", 9092, std::nullopt});
  int stored = 0;
  std::error_code result;
  auto done = [&](std::error_code error) {
    if (error) result = error;
    ++stored;
  };
  cluster.update(
      [](fjord::cluster::ClusterMetadata& m) {
        auto& t = m.topics["burst"];
        t.name = "burst";
        t.id = fjord::cluster::random_uuid();
        t.partitions = 400;
        t.assignments.assign(400, fjord::cluster::PartitionAssignment{});
        for (auto& a : t.assignments) {
          a.replicas = {1, 2};
          a.leader = 1;
          a.isr = {1};
        }
      },
      done);
  ASSERT_TRUE(loop.run_until([&] { return stored == 1; }, 30s));
  ASSERT_FALSE(result) << result.message();

  const int64_t before = client_->get("/fjord/cluster").revision;
  for (int i = 0; i < 301; ++i) {
    cluster.update(
        [i](fjord::cluster::ClusterMetadata& m) {
          auto& a = m.topics["burst"].assignments[static_cast<size_t>(i)];
          a.isr = {1, 2};
          ++a.partition_epoch;
        },
        done);
  }
  ASSERT_TRUE(loop.run_until([&] { return stored == 302; }, 30s));
  ASSERT_FALSE(result) << result.message();
  // The first change alone, then 100, 100 and 100: four transactions, each one revision.
  EXPECT_EQ(client_->get_prefix("/fjord/").revision - before, 4);
  fjord::cluster::etcd::EtcdCluster reader({.endpoint = etcd_->endpoint(), .node_id = 2}, loop);
  reader.load();
  const auto& assignments = reader.current().topics.at("burst").assignments;
  for (size_t i = 0; i < assignments.size(); ++i) {
    EXPECT_EQ(assignments[i].isr, (i < 301 ? std::vector<int32_t>{1, 2} : std::vector<int32_t>{1})) << i;
    EXPECT_EQ(assignments[i].partition_epoch, i < 301 ? 1 : 0) << i;
  }
  cluster.leave();
}

TEST(EtcdEndpoint, Parses) {
  EXPECT_EQ(parse_endpoint("etcd://127.0.0.1:2379"), "127.0.0.1:2379");
  EXPECT_EQ(parse_endpoint("etcd-0.etcd.svc:2379"), "etcd-0.etcd.svc:2379");
  EXPECT_EQ(parse_endpoint("etcd://[::1]:2379"), "[::1]:2379");
  for (const char* malformed :
       {"", "etcd://", "localhost", "localhost:", ":2379", "localhost:0", "localhost:65536", "localhost:+1",
        "http://localhost:2379", "etcd://localhost:2379/", "[::1:2379", "::1:2379", "a b:1"}) {
    EXPECT_EQ(parse_endpoint(malformed), std::nullopt) << malformed;
  }
  EXPECT_THROW(EtcdClient("nowhere"), EtcdError);
  // The members of one etcd cluster, each with or without the scheme.
  EXPECT_EQ(parse_endpoint("etcd://10.0.0.1:2379,10.0.0.2:2379,etcd://[::1]:2379"),
            "10.0.0.1:2379,10.0.0.2:2379,[::1]:2379");
  EXPECT_EQ(parse_endpoint("etcd://10.0.0.1:2379,"), std::nullopt);
  EXPECT_EQ(parse_endpoint("etcd://10.0.0.1:2379,,10.0.0.2:2379"), std::nullopt);
}

// A client given every member of a three-member etcd cluster keeps working when the member it talks to dies, and
// when another one does later; a watch moves to a live member too.
TEST(EtcdClusterClient, AMemberKilledLeavesTheOthersToAnswer) {
  if (!EtcdProcess::available()) GTEST_SKIP() << "no etcd binary";
  fjord::testing::ThreeMemberEtcd etcd;
  // The broker's own timeout: when the killed member led, a read blocks at the survivors until they elect a leader,
  // which at etcd's default election timeout (1 s, randomised up to 2 s) can take longer than two seconds.
  EtcdClient client(etcd.endpoints());
  EXPECT_EQ(client.current_member(), etcd.member(0).endpoint());
  client.put("ledger", "one");
  etcd.member(0).kill();
  EXPECT_EQ(client.get("ledger").kvs.at(0).value, "one");
  EXPECT_NE(client.current_member(), etcd.member(0).endpoint());
  client.put("ledger", "two");

  // A watch started on the dead member fails over on its next start, and sees what the live ones write.
  EtcdClient watcher(etcd.endpoints(), 2000);
  EXPECT_THROW(watcher.watch_prefix("ledger", 0, [](const auto&, int64_t) { return false; }), EtcdError);
  std::promise<std::string> first;
  auto seen = first.get_future();
  std::thread watch([&] {
    watcher.watch_prefix("ledger", 0, [&](const std::vector<WatchEvent>& events, int64_t) {
      first.set_value(events.at(0).kv.value);
      return false;
    });
  });
  // The watch may start after a write; a later write is seen either way.
  for (int i = 0; i < 50 && seen.wait_for(100ms) != std::future_status::ready; ++i) client.put("ledger", "three");
  watch.join();
  EXPECT_EQ(seen.get(), "three");

  // With two of three gone there is no quorum: the client says so, within its timeout, rather than hanging.
  const std::string survivor = client.current_member();
  for (size_t i = 1; i < 3; ++i) {
    if (etcd.member(i).endpoint() != survivor) etcd.member(i).kill();
  }
  EtcdClient impatient(etcd.endpoints(), 1000);
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_THROW(impatient.put("ledger", "four"), EtcdError);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 10s);
}

}  // namespace
