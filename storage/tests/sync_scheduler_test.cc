#include "storage/sync_scheduler.h"

#include <gtest/gtest.h>

#include "storage/testing/manual_io_pool.h"
#include "storage/testing/simulated_file_system.h"

namespace fjord::storage {
namespace {

class SyncSchedulerTest : public ::testing::Test {
 protected:
  SyncSchedulerTest() { fs.create_directories("/d"); }
  std::shared_ptr<File> dirty_file(int i) {
    auto f = fs.open("/d/f" + std::to_string(i), true);
    f->append(std::vector<uint8_t>{1, 2, 3});
    return f;
  }
  testing::SimulatedFileSystem fs;
  testing::ManualIoPool io;
  InlineExecutor loop;
};

TEST_F(SyncSchedulerTest, FewRequestsAreSyncedFileByFileAtOnce) {
  SyncScheduler syncs(io, loop, fs, "/d", {4, 64});
  int done = 0;
  for (int i = 0; i < 3; ++i) syncs.submit({dirty_file(i)}, [&](std::exception_ptr e) { done += !e; });
  EXPECT_EQ(io.pending(), 3u) << "independent syncs run side by side";
  io.run_all();
  EXPECT_EQ(done, 3);
  EXPECT_EQ(syncs.file_system_syncs(), 0u);
}

TEST_F(SyncSchedulerTest, ManyWaitingRequestsShareOneFileSystemSync) {
  SyncScheduler syncs(io, loop, fs, "/d", {2, 10});
  int done = 0;
  for (int i = 0; i < 100; ++i) syncs.submit({dirty_file(i)}, [&](std::exception_ptr e) { done += !e; });
  // Two run file by file; the 98 that found no free thread go together in one syncfs as soon as one is free.
  EXPECT_EQ(io.pending(), 2u);
  EXPECT_EQ(syncs.waiting(), 98u);
  io.run_one();
  EXPECT_EQ(syncs.waiting(), 0u);
  EXPECT_EQ(syncs.file_system_syncs(), 1u);
  io.run_all();
  EXPECT_EQ(done, 100);
  // And what that syncfs covered survives a power loss.
  fs.crash();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(fs.open("/d/f" + std::to_string(i), false)->size(), 3) << i;
}

}  // namespace
}  // namespace fjord::storage
