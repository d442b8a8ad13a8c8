// The simulated disk is what makes the durability tests mean something: check that it forgets what it should.
#include "storage/testing/simulated_file_system.h"

#include <gtest/gtest.h>

namespace fjord::storage::testing {
namespace {

TEST(SimulatedFileSystem, CrashKeepsOnlySyncedBytesOfDurableEntries) {
  SimulatedFileSystem fs;
  fs.create_directories("/d");
  auto a = fs.open("/d/a", true);
  a->append(std::vector<uint8_t>{1, 2, 3});
  fs.sync_directory("/d");
  a->sync();
  a->append(std::vector<uint8_t>{4, 5});
  auto b = fs.open("/d/b", true);  // never made durable in its directory
  b->append(std::vector<uint8_t>{9});
  b->sync();
  fs.crash();
  EXPECT_FALSE(fs.exists("/d/b"));
  auto a2 = fs.open("/d/a", false);
  EXPECT_EQ(a2->size(), 3);
}

TEST(SimulatedFileSystem, AtomicWriteLeavesOldOrNewContents) {
  SimulatedFileSystem fs;
  fs.create_directories("/d");
  std::vector<uint8_t> v1{1}, v2{2, 2};
  fs.write_atomically("/d/x", v1);
  fs.write_atomically("/d/x", v2);
  fs.crash();
  EXPECT_EQ(*fs.read_all("/d/x"), v2);
}

}  // namespace
}  // namespace fjord::storage::testing
