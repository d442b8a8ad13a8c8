#include "observe/cluster_snapshot.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "cluster/local_metadata_store.h"
#include "model/testing/manual_scheduler.h"
#include "storage/testing/manual_io_pool.h"
#include "storage/testing/simulated_file_system.h"

namespace fjord::observe {
namespace {

class ClusterSnapshotTest : public ::testing::Test {
 protected:
  ClusterSnapshotTest() {
    partitions.start();
    partitions.create_topic("orders", 3, 1, {}, false, [](cluster::AdminResult) {});
  }
  storage::testing::SimulatedFileSystem fs;
  bool data_directory_made = [this] {
    fs.create_directories("/data");
    return true;
  }();
  storage::testing::ManualIoPool io;
  storage::InlineExecutor loop;
  storage::SyncScheduler syncs{io, loop, fs, "/data"};
  ManualClock clock;
  testing::ManualScheduler scheduler{clock};
  cluster::BrokerSettings settings;
  cluster::LocalMetadataStore store{fs, "/data"};
  cluster::PartitionManager partitions{storage::LogContext{fs, io, syncs, loop, clock}, "/data", store, settings,
                                       scheduler};
};

// Nobody looking, no snapshot: with thousands of partitions each costs the loop tens of milliseconds a second. A
// request waits for the next tick and gets a fresh one; snapshots go on while requests keep coming and stop a
// minute after the last.
TEST_F(ClusterSnapshotTest, TakenOnlyWhileSomeoneLooks) {
  ClusterSnapshot snapshot(
      partitions, [] { return std::vector<cluster::BrokerEndpoint>{}; }, scheduler, clock, 1000);
  scheduler.advance(30'000);
  EXPECT_EQ(snapshot.snapshots_taken(), 0u);

  auto request = std::async(std::launch::async, [&] { return snapshot.last_json(); });
  // The request marks the snapshot wanted before it waits (and reads the clock no more after); the loop (here the
  // test, which alone moves the clock) then ticks until it is answered.
  while (!snapshot.wanted()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  while (request.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) scheduler.advance(1000);
  EXPECT_NE(request.get().find("\"orders\""), std::string::npos);
  EXPECT_GE(snapshot.snapshots_taken(), 1u);

  scheduler.advance(59'000);
  const uint64_t while_wanted = snapshot.snapshots_taken();
  EXPECT_GE(while_wanted, 55u) << "one a second for the minute after a request";
  scheduler.advance(60'000);
  const uint64_t after = snapshot.snapshots_taken();
  scheduler.advance(60'000);
  EXPECT_EQ(snapshot.snapshots_taken(), after) << "a minute after the last request, none";
}

}  // namespace
}  // namespace fjord::observe
