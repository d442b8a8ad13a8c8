#include "cluster/etcd/metadata_layout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

#include "cluster/local_metadata_store.h"
#include "cluster/metadata_json.h"

namespace fjord::cluster::etcd {
namespace {

PartitionAssignment placed(std::vector<int32_t> replicas) {
  PartitionAssignment a;
  a.replicas = replicas;
  a.leader = replicas.front();
  a.isr = replicas;
  return a;
}

ClusterMetadata sample() {
  ClusterMetadata m;
  m.cluster_id = "c1";
  m.producer_id_block_end = 4000;
  m.broker_dynamic_configs["log.retention.ms"] = "1000";
  m.transactional_producers["payments"] = {17, 3};
  for (const std::string name : {"orders", "orders2", "audit"}) {
    TopicMetadata t;
    t.name = name;
    t.id = random_uuid();
    t.partitions = 3;
    t.replication_factor = 3;
    t.configs["min.insync.replicas"] = "2";
    if (name != "audit") {  // not placed yet
      t.assignments = {placed({1, 2, 3}), placed({2, 3, 1}), placed({3, 1, 2})};
    }
    m.topics[name] = t;
  }
  return m;
}

// What a watcher holds after applying `writes` to `start`, in order.
ClusterMetadata applied(ClusterMetadata start, const std::vector<KeyWrite>& writes) {
  for (const auto& w : writes) apply_metadata_key(start, w.key, w.value);
  return start;
}

// The same document either way, in the single-node file's terms.
void expect_same(const ClusterMetadata& a, const ClusterMetadata& b) {
  EXPECT_EQ(LocalMetadataStore::to_json(a), LocalMetadataStore::to_json(b));
}

TEST(MetadataLayout, AnIsrChangeIsOnePartitionsKey) {
  const auto before = sample();
  auto after = before;
  after.topics["orders"].assignments[1].isr = {2, 3};
  ++after.topics["orders"].assignments[1].partition_epoch;
  const auto writes = changed_keys(before, after);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].key, "/fjord/partitions/orders/1");
  ASSERT_TRUE(writes[0].value.has_value());
  EXPECT_LT(writes[0].value->size(), 120u) << "one partition's key should be small: " << *writes[0].value;
  expect_same(applied(before, writes), after);
  EXPECT_TRUE(changed_keys(after, after).empty());
}

TEST(MetadataLayout, EveryKeyReadInKeyOrderRebuildsTheMetadata) {
  const auto m = sample();
  auto keys = all_keys(m);
  EXPECT_EQ(keys.front().key, kClusterKey);
  EXPECT_EQ(keys.size(), 1u + 3u + 6u);  // the cluster, three topics, six placed partitions
  // etcd returns a prefix read sorted by key: partitions before topics, "orders/10" before "orders/2".
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  expect_same(applied(ClusterMetadata{}, keys), m);
}

TEST(MetadataLayout, PlacementCreationAndDeletionTouchOnlyTheirTopics) {
  const auto before = sample();
  auto after = before;
  after.topics["audit"].assignments = {placed({1, 2, 3}), placed({2, 3, 1}), placed({3, 1, 2})};
  TopicMetadata fresh;
  fresh.name = "fresh";
  fresh.id = random_uuid();
  fresh.partitions = 1;
  after.topics["fresh"] = fresh;
  after.topics.erase("orders2");
  const auto writes = changed_keys(before, after);
  std::vector<std::string> keys;
  for (const auto& w : writes) keys.push_back(w.key + (w.value ? "" : " (deleted)"));
  EXPECT_EQ(keys,
            (std::vector<std::string>{"/fjord/topics/fresh", "/fjord/partitions/audit/0", "/fjord/partitions/audit/1",
                                      "/fjord/partitions/audit/2", "/fjord/partitions/orders2/0 (deleted)",
                                      "/fjord/partitions/orders2/1 (deleted)", "/fjord/partitions/orders2/2 (deleted)",
                                      "/fjord/topics/orders2 (deleted)"}));
  expect_same(applied(before, writes), after);
}

TEST(MetadataLayout, ClusterFieldsAreTheirOwnKey) {
  const auto before = sample();
  auto after = before;
  after.producer_id_block_end += 1000;
  after.transactional_producers["payments"].epoch = 4;
  after.client_quotas[{QuotaEntityPart::named("alice"), QuotaEntityPart::default_one()}]["producer_byte_rate"] = 1024;
  after.client_quotas[{{}, QuotaEntityPart::named("batch")}]["request_percentage"] = 12.5;
  const auto writes = changed_keys(before, after);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].key, kClusterKey);
  expect_same(applied(before, writes), after);
  EXPECT_EQ(applied(before, writes).client_quotas, after.client_quotas) << "defaults and absent types kept apart";
}

// Each of the cluster's own fields, changed alone, is written: none is left out of the comparison.
TEST(MetadataLayout, ACredentialAnAclOrAQuotaAloneIsWritten) {
  const auto before = sample();
  std::vector<std::function<void(ClusterMetadata&)>> changes = {
      [](ClusterMetadata& m) {
        m.scram_credentials["alice"]["SCRAM-SHA-256"] = {"salt", 4096, "stored", "server"};
      },
      [](ClusterMetadata& m) { m.acls.push_back({}); },
      [](ClusterMetadata& m) {
        m.client_quotas[{{}, QuotaEntityPart::named("batch")}]["producer_byte_rate"] = 1;
      },
      [](ClusterMetadata& m) { m.broker_dynamic_configs["log.retention.ms"] = "2000"; },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    auto after = before;
    changes[i](after);
    const auto writes = changed_keys(before, after);
    ASSERT_EQ(writes.size(), 1u) << "change " << i;
    EXPECT_EQ(writes[0].key, kClusterKey);
    expect_same(applied(before, writes), after);
  }
}

TEST(MetadataLayout, ATopicCreatedAgainUnderItsNameStartsUnplaced) {
  auto m = sample();
  TopicMetadata again = m.topics["orders"];
  again.id = random_uuid();
  again.assignments.clear();
  apply_metadata_key(m, "/fjord/topics/orders", topic_to_json(again).dump());
  EXPECT_TRUE(m.topics["orders"].assignments.empty());
}

TEST(MetadataLayout, MalformedKeysAndValuesThrow) {
  ClusterMetadata m;
  EXPECT_THROW(apply_metadata_key(m, "/fjord/partitions/orders", std::string("{}")), std::exception);
  EXPECT_THROW(apply_metadata_key(m, "/fjord/partitions/orders/x", std::string("{}")), std::exception);
  EXPECT_THROW(apply_metadata_key(m, "/fjord/topics/orders", std::string("not json")), std::exception);
  EXPECT_THROW(apply_metadata_key(m, "/fjord/other", std::string("{}")), std::exception);
}

}  // namespace
}  // namespace fjord::cluster::etcd
