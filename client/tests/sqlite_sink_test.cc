#include "client/sinks/sqlite_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

namespace fjord::client {
namespace {

class SqliteSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("fjord-sink-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string db() const { return (dir_ / "ledger.db").string(); }
  std::filesystem::path dir_;
};

TEST_F(SqliteSinkTest, SecondWriteOfAnIdIsAbsorbed) {
  SqliteSink sink(db(), "ledger");
  EXPECT_TRUE(sink.upsert("pay-1", "alice,100"));
  EXPECT_FALSE(sink.upsert("pay-1", "alice,100"));
  EXPECT_TRUE(sink.upsert("pay-2", "bob,5"));
  EXPECT_EQ(sink.count(), 2u);
  EXPECT_EQ(sink.payload("pay-1"), "alice,100");
  EXPECT_EQ(sink.payload("pay-3"), std::nullopt);
}

TEST_F(SqliteSinkTest, BatchCountsOnlyNewEvents) {
  SqliteSink sink(db());
  sink.upsert("a", "1");
  EXPECT_EQ(sink.upsert_all({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"b", "2"}}), 2u);
  EXPECT_EQ(sink.count(), 3u);
}

TEST_F(SqliteSinkTest, SurvivesReopenAndSharesAFileAcrossWriters) {
  {
    SqliteSink sink(db());
    sink.upsert("kept", "x");
  }
  SqliteSink first(db());
  EXPECT_FALSE(first.upsert("kept", "x"));
  // Two connections writing the same ids concurrently (as two consumers after a rebalance): each id once.
  std::atomic<size_t> written{0};
  auto writer = [&] {
    SqliteSink sink(db());
    for (int i = 0; i < 500; ++i) written += sink.upsert("e" + std::to_string(i), "v") ? 1 : 0;
  };
  std::thread a(writer), b(writer);
  a.join();
  b.join();
  EXPECT_EQ(written.load(), 500u);
  EXPECT_EQ(first.count(), 501u);
}

TEST_F(SqliteSinkTest, BadTableNameIsRefused) { EXPECT_THROW(SqliteSink(db(), "x; DROP TABLE y"), SinkError); }

TEST_F(SqliteSinkTest, UnopenablePathIsAnError) {
  EXPECT_THROW(SqliteSink((dir_ / "missing" / "deeper" / "x.db").string()), SinkError);
}

}  // namespace
}  // namespace fjord::client
