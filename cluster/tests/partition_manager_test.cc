#include "cluster/partition_manager.h"

#include <gtest/gtest.h>

#include "cluster/local_metadata_store.h"
#include "model/testing/manual_scheduler.h"
#include "storage/testing/manual_io_pool.h"
#include "storage/testing/simulated_file_system.h"
#include "storage/tests/log_test_support.h"

namespace fjord::cluster {
namespace {

class PartitionManagerTest : public ::testing::Test {
 protected:
  PartitionManagerTest() { fs.create_directories("/data"); }

  std::unique_ptr<PartitionManager> start_broker() {
    store = std::make_unique<LocalMetadataStore>(fs, "/data");
    auto manager = std::make_unique<PartitionManager>(storage::LogContext{fs, io, syncs, loop, clock}, "/data", *store,
                                                      settings, scheduler);
    manager->start();
    return manager;
  }

  AdminResult create(PartitionManager& m, const std::string& name, int32_t partitions, ConfigMap configs = {}) {
    AdminResult result;
    m.create_topic(name, partitions, 1, configs, false, [&](AdminResult r) { result = r; });
    return result;
  }

  storage::testing::SimulatedFileSystem fs;
  storage::testing::ManualIoPool io;
  storage::InlineExecutor loop;
  storage::SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
  testing::ManualScheduler scheduler{clock};
  BrokerSettings settings;
  std::unique_ptr<LocalMetadataStore> store;
};

TEST_F(PartitionManagerTest, SegmentAndCompactionSettingsReachTheLog) {
  auto m = start_broker();
  ASSERT_EQ(create(*m, "tuned", 1,
                   {{"segment.jitter.ms", "1234"}, {"segment.index.bytes", "4096"}, {"file.delete.delay.ms", "5"}})
                .error,
            ErrorCode::kNone);
  const auto& config = m->partition("tuned", 0)->log().config();
  EXPECT_EQ(config.segment_jitter_ms, 1234);
  EXPECT_EQ(config.segment_index_bytes, 4096);
  EXPECT_EQ(config.file_delete_delay_ms, 5);
  EXPECT_FALSE(config.compact);
  EXPECT_GT(config.retention_ms, 0);
  ASSERT_EQ(create(*m, "changelog", 1,
                   {{"cleanup.policy", "compact"},
                    {"delete.retention.ms", "1000"},
                    {"min.cleanable.dirty.ratio", "0.1"},
                    {"min.compaction.lag.ms", "20"},
                    {"max.compaction.lag.ms", "30000"}})
                .error,
            ErrorCode::kNone);
  const auto& compacted = m->partition("changelog", 0)->log().config();
  EXPECT_TRUE(compacted.compact);
  EXPECT_EQ(compacted.retention_ms, -1) << "compact alone: retention removes nothing";
  EXPECT_EQ(compacted.delete_retention_ms, 1000);
  EXPECT_DOUBLE_EQ(compacted.min_cleanable_dirty_ratio, 0.1);
  EXPECT_EQ(compacted.min_compaction_lag_ms, 20);
  EXPECT_EQ(compacted.max_compaction_lag_ms, 30000);
  AdminResult altered;
  m->alter_topic_configs("tuned", {{"cleanup.policy", "compact,delete", ConfigChange::Op::kSet}}, true, false,
                         [&](AdminResult r) { altered = r; });
  EXPECT_EQ(altered.error, ErrorCode::kNone);
  EXPECT_TRUE(m->partition("tuned", 0)->log().config().compact);
  EXPECT_GT(m->partition("tuned", 0)->log().config().retention_ms, 0) << "compact,delete keeps retention";
}

TEST_F(PartitionManagerTest, CreatesTopicsAndRefusesBadOnes) {
  auto m = start_broker();
  EXPECT_EQ(create(*m, "orders", 3).error, ErrorCode::kNone);
  EXPECT_EQ(m->partitions_of("orders").size(), 3u);
  EXPECT_EQ(create(*m, "orders", 3).error, ErrorCode::kTopicAlreadyExists);
  EXPECT_EQ(create(*m, "bad/name", 1).error, ErrorCode::kInvalidTopicException);
  EXPECT_EQ(create(*m, std::string(250, 'a'), 1).error, ErrorCode::kInvalidTopicException);
  EXPECT_EQ(create(*m, "zero", 0).error, ErrorCode::kInvalidPartitions);
  EXPECT_EQ(create(*m, "cfg", 1, {{"retention.ms", "soon"}}).error, ErrorCode::kInvalidConfig);
  EXPECT_EQ(create(*m, "cfg", 1, {{"no.such.key", "1"}}).error, ErrorCode::kInvalidConfig);
  AdminResult rf;
  m->create_topic("replicated", 1, 3, {}, false, [&](AdminResult r) { rf = r; });
  EXPECT_EQ(rf.error, ErrorCode::kInvalidReplicationFactor);
  AdminResult defaults;
  m->create_topic("defaults", -1, -1, {}, false, [&](AdminResult r) { defaults = r; });
  EXPECT_EQ(defaults.error, ErrorCode::kNone);
  EXPECT_EQ(m->topic("defaults")->partitions, 1);
}

TEST_F(PartitionManagerTest, ProduceIsAcknowledgedOnlyAfterFsync) {
  auto m = start_broker();
  ASSERT_EQ(create(*m, "t", 1).error, ErrorCode::kNone);
  Partition* p = m->partition("t", 0);
  auto produced = storage::testing::make_batch(5, clock.now_ms());
  std::optional<ProduceResult> result;
  p->append(produced.bytes).then([&](ProduceResult r) { result = r; });
  EXPECT_FALSE(result) << "acknowledged before the fsync ran";
  EXPECT_EQ(p->high_watermark(), 0) << "consumers must not see unsynced data";
  int64_t syncs_before = fs.sync_count();
  io.run_all();
  ASSERT_TRUE(result);
  EXPECT_GT(fs.sync_count(), syncs_before);
  EXPECT_EQ(result->error, ErrorCode::kNone);
  EXPECT_EQ(result->base_offset, 0);
  EXPECT_EQ(p->high_watermark(), 5);
}

TEST_F(PartitionManagerTest, RelaxedFlushAcknowledgesFromThePageCache) {
  auto m = start_broker();
  ASSERT_EQ(create(*m, "fast", 1, {{"flush.messages", "1000"}}).error, ErrorCode::kNone);
  Partition* p = m->partition("fast", 0);
  auto produced = storage::testing::make_batch(5, clock.now_ms());
  std::optional<ProduceResult> result;
  p->append(produced.bytes).then([&](ProduceResult r) { result = r; });
  ASSERT_TRUE(result);
  EXPECT_EQ(p->high_watermark(), 5);
  EXPECT_EQ(io.pending(), 0u);
}

TEST_F(PartitionManagerTest, CorruptBatchIsRefusedAndNothingIsWritten) {
  auto m = start_broker();
  ASSERT_EQ(create(*m, "t", 1).error, ErrorCode::kNone);
  auto produced = storage::testing::make_batch(2, clock.now_ms());
  produced.bytes[70] ^= 1;
  std::optional<ProduceResult> result;
  m->partition("t", 0)->append(produced.bytes).then([&](ProduceResult r) { result = r; });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->error, ErrorCode::kCorruptMessage);
  EXPECT_EQ(m->partition("t", 0)->log_end_offset(), 0);
}

TEST_F(PartitionManagerTest, TimestampsOutsideTheAllowedRangeAreRefused) {
  auto m = start_broker();
  ASSERT_EQ(create(*m, "t", 1).error, ErrorCode::kNone);
  auto future = storage::testing::make_batch(1, clock.now_ms() + 2 * 3600 * 1000);
  std::optional<ProduceResult> result;
  m->partition("t", 0)->append(future.bytes).then([&](ProduceResult r) { result = r; });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->error, ErrorCode::kInvalidTimestamp);
}

TEST_F(PartitionManagerTest, RestartKeepsTopicsConfigsAndData) {
  protocol::Uuid id;
  {
    auto m = start_broker();
    ASSERT_EQ(create(*m, "kept", 2, {{"retention.ms", "12345"}}).error, ErrorCode::kNone);
    id = m->topic("kept")->id;
    auto produced = storage::testing::make_batch(3, clock.now_ms());
    m->partition("kept", 1)->append(produced.bytes);
    io.run_all();
    m->stop();
  }
  auto m = start_broker();
  ASSERT_NE(m->topic("kept"), nullptr);
  EXPECT_EQ(m->topic("kept")->id, id);
  EXPECT_EQ(m->topic("kept")->configs.at("retention.ms"), "12345");
  EXPECT_EQ(m->partition("kept", 1)->log_end_offset(), 3);
  EXPECT_EQ(m->partition("kept", 1)->high_watermark(), 3);
  EXPECT_EQ(m->partition("kept", 1)->log().config().retention_ms, 12345);
}

TEST_F(PartitionManagerTest, DeleteAndRecreateStartsEmpty) {
  auto m = start_broker();
  ASSERT_EQ(create(*m, "t", 1).error, ErrorCode::kNone);
  auto produced = storage::testing::make_batch(3, clock.now_ms());
  m->partition("t", 0)->append(produced.bytes);
  io.run_all();
  AdminResult deleted;
  m->delete_topic("t", [&](AdminResult r) { deleted = r; });
  EXPECT_EQ(deleted.error, ErrorCode::kNone);
  EXPECT_EQ(m->partition("t", 0), nullptr);
  ASSERT_EQ(create(*m, "t", 1).error, ErrorCode::kNone);
  EXPECT_EQ(m->partition("t", 0)->log_end_offset(), 0);
  io.run_all();
}

// A broker whose view lags the cluster's: what etcd holds has moved on (another broker created a topic) and this
// broker hears of it only with its own next change, as when an etcd compare-and-swap fails and is retried on the
// newer metadata.
class LaggingMetadataStore final : public MetadataStore {
 public:
  const ClusterMetadata& current() const override { return seen; }
  void update(const std::function<void(ClusterMetadata&)>& change, std::function<void(std::error_code)> done) override {
    change(stored);
    seen = stored;
    done({});
  }
  ClusterMetadata seen;    // this broker's view
  ClusterMetadata stored;  // the cluster's
};

// Two brokers creating one name (auto-creation on a broker that has not yet heard of a topic created elsewhere, or
// two brokers creating __consumer_offsets for their first groups): the topic that was there first stands, with its
// id and placement, and the late request is answered TOPIC_ALREADY_EXISTS rather than replacing it.
TEST_F(PartitionManagerTest, ACreationRacingAnotherBrokersLeavesTheFirstTopicStanding) {
  LaggingMetadataStore lagging;
  PartitionManager m(storage::LogContext{fs, io, syncs, loop, clock}, "/data", lagging, settings, scheduler);
  m.start();
  TopicMetadata elsewhere;
  elsewhere.name = "invoices";
  elsewhere.id.bytes[0] = 7;
  elsewhere.partitions = 2;
  elsewhere.replication_factor = 3;
  lagging.stored.topics["invoices"] = elsewhere;

  AdminResult late;
  m.create_topic("invoices", 1, 1, {}, false, [&](AdminResult r) { late = r; });
  EXPECT_EQ(late.error, ErrorCode::kTopicAlreadyExists);
  ASSERT_TRUE(lagging.stored.topics.count("invoices"));
  EXPECT_EQ(lagging.stored.topics["invoices"].id, elsewhere.id) << "the first topic was replaced";
  EXPECT_EQ(lagging.stored.topics["invoices"].partitions, 2);

  // Growing, reconfiguring or deleting a topic this broker saw applies to that topic only, not to one of the same
  // name created since.
  ASSERT_EQ(create(m, "ledger", 1).error, ErrorCode::kNone);
  TopicMetadata recreated = lagging.stored.topics["ledger"];
  recreated.id.bytes[0] ^= 0xff;
  lagging.stored.topics["ledger"] = recreated;  // deleted and created again elsewhere; this broker has not heard
  AdminResult grown;
  m.create_partitions("ledger", 4, false, [&](AdminResult r) { grown = r; });
  EXPECT_EQ(lagging.stored.topics["ledger"].partitions, 1) << "another topic of the same name was grown";
  AdminResult deleted;
  lagging.seen = lagging.stored;
  lagging.seen.topics["ledger"].id = recreated.id;
  lagging.seen.topics["ledger"].id.bytes[1] ^= 0xff;  // this broker's view names a third id
  m.delete_topic("ledger", [&](AdminResult r) { deleted = r; });
  EXPECT_TRUE(lagging.stored.topics.count("ledger")) << "another topic of the same name was deleted";
  io.run_all();
}

TEST_F(PartitionManagerTest, AltersConfigsIncrementallyAndWhole) {
  auto m = start_broker();
  ASSERT_EQ(create(*m, "t", 1, {{"retention.ms", "1000"}}).error, ErrorCode::kNone);
  AdminResult r;
  m->alter_topic_configs("t", {{"segment.bytes", "2048", ConfigChange::Op::kSet}}, true, false,
                         [&](AdminResult x) { r = x; });
  EXPECT_EQ(r.error, ErrorCode::kNone);
  EXPECT_EQ(m->topic("t")->configs.size(), 2u);
  EXPECT_EQ(m->partition("t", 0)->log().config().segment_bytes, 2048);
  m->alter_topic_configs("t", {{"retention.ms", std::nullopt, ConfigChange::Op::kDelete}}, true, false,
                         [&](AdminResult x) { r = x; });
  EXPECT_EQ(m->topic("t")->configs.count("retention.ms"), 0u);
  m->alter_topic_configs("t", {{"flush.messages", "10", ConfigChange::Op::kSet}}, false, false,
                         [&](AdminResult x) { r = x; });
  EXPECT_EQ(m->topic("t")->configs, (ConfigMap{{"flush.messages", "10"}}));
  // The one list setting: appending what is there changes nothing; appending compact gives compact,delete.
  m->alter_topic_configs("t", {{"cleanup.policy", "delete", ConfigChange::Op::kAppend}}, true, false,
                         [&](AdminResult x) { r = x; });
  EXPECT_EQ(m->topic("t")->configs.at("cleanup.policy"), "delete");
  m->alter_topic_configs("t", {{"cleanup.policy", "compact", ConfigChange::Op::kAppend}}, true, false,
                         [&](AdminResult x) { r = x; });
  EXPECT_EQ(r.error, ErrorCode::kNone);
  EXPECT_EQ(m->topic("t")->configs.at("cleanup.policy"), "delete,compact");
  m->alter_topic_configs("t", {{"retention.ms", "x", ConfigChange::Op::kSet}}, true, false,
                         [&](AdminResult x) { r = x; });
  EXPECT_EQ(r.error, ErrorCode::kInvalidConfig);
}

TEST_F(PartitionManagerTest, RetentionRunsOnItsTimer) {
  settings.static_configs["log.retention.check.interval.ms"] = "1000";
  auto m = start_broker();
  ASSERT_EQ(create(*m, "t", 1, {{"segment.bytes", "1000"}, {"retention.bytes", "1500"}}).error, ErrorCode::kNone);
  for (int i = 0; i < 50; ++i) {
    auto produced = storage::testing::make_batch(3, clock.now_ms());
    m->partition("t", 0)->append(produced.bytes);
    io.run_all();
  }
  EXPECT_EQ(m->partition("t", 0)->log_start_offset(), 0);
  scheduler.advance(1000);
  io.run_all();
  EXPECT_GT(m->partition("t", 0)->log_start_offset(), 0);
}

}  // namespace
}  // namespace fjord::cluster
