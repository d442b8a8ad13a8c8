#include "cluster/producer_ids.h"

#include <gtest/gtest.h>

#include <set>

#include "cluster/local_metadata_store.h"
#include "storage/testing/simulated_file_system.h"

namespace fjord::cluster {
namespace {

TEST(ProducerIds, UniqueAcrossRestarts) {
  storage::testing::SimulatedFileSystem fs;
  fs.create_directories("/d");
  std::set<int64_t> seen;
  for (int restart = 0; restart < 3; ++restart) {
    LocalMetadataStore store(fs, "/d");
    ProducerIds ids(store);
    for (int i = 0; i < 1500; ++i) {
      ids.allocate([&](ProducerIdAndEpoch p) {
        EXPECT_EQ(p.error, ErrorCode::kNone);
        EXPECT_EQ(p.epoch, 0);
        EXPECT_TRUE(seen.insert(p.producer_id).second) << "producer id " << p.producer_id << " handed out twice";
      });
    }
  }
  EXPECT_EQ(seen.size(), 4500u);
}

TEST(ProducerIds, TransactionalIdKeepsItsIdAndBumpsTheEpoch) {
  storage::testing::SimulatedFileSystem fs;
  fs.create_directories("/d");
  LocalMetadataStore store(fs, "/d");
  ProducerIds ids(store);
  ProducerIdAndEpoch first, second, fenced, third;
  ids.for_transactional_id("payments", std::nullopt, [&](ProducerIdAndEpoch p) { first = p; });
  ids.for_transactional_id("payments", std::nullopt, [&](ProducerIdAndEpoch p) { second = p; });
  EXPECT_EQ(first.producer_id, second.producer_id);
  EXPECT_EQ(second.epoch, first.epoch + 1);
  // An instance that still holds the first epoch is fenced.
  ids.for_transactional_id("payments", first, [&](ProducerIdAndEpoch p) { fenced = p; });
  EXPECT_EQ(fenced.error, ErrorCode::kProducerFenced);
  ids.for_transactional_id("payments", second, [&](ProducerIdAndEpoch p) { third = p; });
  EXPECT_EQ(third.error, ErrorCode::kNone);
  EXPECT_EQ(third.epoch, second.epoch + 1);
  LocalMetadataStore reopened(fs, "/d");
  EXPECT_EQ(reopened.current().transactional_producers.at("payments").epoch, third.epoch);
}

}  // namespace
}  // namespace fjord::cluster
