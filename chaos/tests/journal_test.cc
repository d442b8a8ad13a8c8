#include "chaos/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace fjord::chaos {
namespace {

TEST(JournalTest, ProcessingWritesTheLedgerOnceAndJournalsEveryDelivery) {
  auto dir = std::filesystem::temp_directory_path() / ("fjord-journal-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "journal.db").string();
  {
    Journal journal(path);
    EXPECT_FALSE(journal.process("member-1#1", 3, 10, 42, "chaos-t-42"));
    journal.committed("member-1#1", 3, 11);
    journal.rebalanced("member-1#1", "assigned", {1, 3});
  }
  Journal reopened(path);  // as a second member process would
  EXPECT_TRUE(reopened.process("member-2#1", 3, 10, 42, "chaos-t-42"));
  auto deliveries = reopened.deliveries();
  ASSERT_EQ(deliveries.size(), 2u);
  EXPECT_FALSE(deliveries[0].absorbed);
  EXPECT_TRUE(deliveries[1].absorbed);
  EXPECT_EQ(deliveries[1].instance, "member-2#1");
  EXPECT_EQ(reopened.ledger_rows(), 1u);
  EXPECT_EQ(reopened.processed_sequences(), (std::set<int64_t>{42}));
  ASSERT_EQ(reopened.commits().size(), 1u);
  EXPECT_EQ(reopened.commits()[0].offset, 11);
  auto rebalances = reopened.rebalances();
  ASSERT_EQ(rebalances.size(), 1u);
  EXPECT_EQ(rebalances[0].partitions, (std::vector<int32_t>{1, 3}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fjord::chaos
