// The PostgreSQL idempotent sink against a real PostgreSQL server: the first write of an event id wins, later
// ones are absorbed, across connections writing at once and across reconnects.
#include "client/sinks/postgres_sink.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/support/postgres_process.h"

namespace fjord::testing {
namespace {

class PostgresSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresProcess::available())
      GTEST_SKIP() << "PostgreSQL's server is not installed (scripts/setup installs it)";
    server_.start();
  }
  PostgresProcess server_;
};

TEST_F(PostgresSinkTest, SecondWriteOfAnIdIsAbsorbed) {
  client::PostgresSink sink(server_.connection(), "ledger");
  EXPECT_TRUE(sink.upsert("pay-1", "alice,100"));
  EXPECT_FALSE(sink.upsert("pay-1", "alice,100"));
  EXPECT_EQ(sink.upsert_all({{"pay-1", "alice,100"}, {"pay-2", "bob,5"}, {"pay-3", "carol,7"}, {"pay-2", "bob,5"}}),
            2u);
  EXPECT_EQ(sink.count(), 3u);
  EXPECT_EQ(sink.payload("pay-2"), "bob,5");
  EXPECT_EQ(sink.payload("pay-9"), std::nullopt);
}

TEST_F(PostgresSinkTest, ConcurrentWritersBookEachIdOnceAndReconnectsKeepIt) {
  std::atomic<size_t> written{0};
  auto writer = [&] {
    client::PostgresSink sink(server_.connection(), "ledger");
    for (int i = 0; i < 300; ++i) written += sink.upsert("e" + std::to_string(i), "v") ? 1 : 0;
  };
  std::thread a(writer), b(writer);
  a.join();
  b.join();
  EXPECT_EQ(written.load(), 300u);
  client::PostgresSink again(server_.connection(), "ledger");
  EXPECT_EQ(again.count(), 300u);
  EXPECT_FALSE(again.upsert("e7", "v"));
}

TEST_F(PostgresSinkTest, UnreachableServerIsAClearError) {
  server_.stop();
  try {
    client::PostgresSink sink(server_.connection(), "ledger");
    FAIL() << "connected to a stopped server";
  } catch (const client::SinkError& e) {
    EXPECT_NE(std::string(e.what()).find("postgres sink"), std::string::npos);
  }
}

}  // namespace
}  // namespace fjord::testing
