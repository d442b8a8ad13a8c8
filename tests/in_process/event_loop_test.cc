// Nothing that waits on the disk runs on the event loop: with the broker's I/O pool held, the checkpoints a write
// or a DeleteRecords needs, the files a truncation removes and the read-back of a group partition all wait for it,
// while the loop goes on answering requests (ApiVersions, and COORDINATOR_LOAD_IN_PROGRESS for the groups still
// loading). The loop's own lag is a histogram in /metrics.
#include <gtest/gtest.h>

#include <future>

#include "cluster/partition.h"
#include "cluster/partition_manager.h"
#include "coordinator/group_coordinator.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/offset_fetch.h"
#include "tests/support/in_process_broker.h"
#include "tests/support/raw_client.h"

namespace fjord::testing {
namespace {

using namespace std::chrono_literals;

// Runs `exchange` on another thread (it blocks on its socket) while this thread keeps the broker's loop going.
template <typename Result>
Result while_polling(InProcessBroker& broker, std::function<Result()> exchange) {
  auto result = std::async(std::launch::async, std::move(exchange));
  EXPECT_TRUE(poll_until(
      {&broker}, [&] { return result.wait_for(0s) == std::future_status::ready; }, 10s));
  return result.get();
}

bool answers_api_versions(InProcessBroker& broker) {
  const int port = broker.port();
  return while_polling<bool>(broker, [port] {
    RawClient client(port);
    client.send(protocol::ApiVersionsRequest{}, 2, 1);
    return client.receive(5s).has_value();
  });
}

// OffsetFetch v7 for every partition of `group`: the request-level error and the committed offset of t-0.
std::pair<int16_t, int64_t> fetch_offset(InProcessBroker& broker, const std::string& group) {
  const int port = broker.port();
  return while_polling<std::pair<int16_t, int64_t>>(broker, [port, group] {
    RawClient client(port);
    protocol::OffsetFetchRequest request;
    request.group_id = group;
    request.topics.reset();  // every partition
    client.send(request, 7, 1);
    auto frame = client.receive(5s);
    if (!frame) return std::make_pair<int16_t, int64_t>(-1, -1);
    auto response = RawClient::decode<protocol::OffsetFetchResponse>(*frame, 7, true, nullptr);
    int64_t offset = -1;
    for (const auto& t : response.topics) {
      for (const auto& p : t.partitions) {
        if (t.name == "t" && p.partition_index == 0) offset = p.committed_offset;
      }
    }
    return std::make_pair(response.error_code, offset);
  });
}

size_t files_ending(storage::testing::SimulatedFileSystem& disk, const std::string& directory,
                    const std::string& suffix) {
  size_t n = 0;
  for (const auto& name : disk.list(directory)) n += name.ends_with(suffix);
  return n;
}

TEST(EventLoop, CheckpointsRemovalsAndGroupLoadsWaitForTheIoPoolWhileTheLoopAnswers) {
  storage::testing::SimulatedFileSystem disk;
  const std::map<std::string, std::string> settings = {{"log.segment.bytes", "1024"},
                                                       {"log.segment.delete.delay.ms", "0"}};
  std::vector<std::vector<uint8_t>> buffers;
  {
    // A topic with a few segments, and a group that committed an offset for it.
    InProcessBroker first(1, disk, nullptr, settings);
    first.start();
    bool created = false;
    first.broker().partitions().create_topic("t", 1, 1, {}, false,
                                             [&](cluster::AdminResult r) { created = r.error == ErrorCode::kNone; });
    ASSERT_TRUE(poll_until({&first}, [&] { return created; }));
    auto* partition = first.broker().partitions().partition("t", 0);
    for (int i = 0; i < 30; ++i) {
      buffers.push_back(batch_of(5));
      bool done = false;
      partition->append(buffers.back(), -1).then([&](cluster::ProduceResult) { done = true; });
      ASSERT_TRUE(poll_until({&first}, [&] { return done; }));
    }
    ASSERT_GE(partition->log().segment_count(), 3u);
    coordinator::CommitRequest commit;
    commit.group_id = "payments-ledger";
    commit.offsets.push_back({"t", 0, 42, -1, std::nullopt});
    bool committed = false;
    ASSERT_TRUE(poll_until({&first}, [&] { return first.broker().groups().ensure_partitions(); }));
    first.broker().groups().commit(commit, [&](std::vector<ErrorCode> errors) {
      committed = errors.size() == 1 && errors[0] == ErrorCode::kNone;
    });
    ASSERT_TRUE(poll_until({&first}, [&] { return committed; }));
    first.stop_cleanly();
  }

  // The broker starts again with its I/O held.
  InProcessBroker b(1, disk, nullptr, settings);
  b.hold_io = true;
  b.start();
  EXPECT_GT(b.broker().groups().partitions_loading(), 0u) << "the group partitions were read on the loop";
  EXPECT_TRUE(answers_api_versions(b));
  EXPECT_EQ(fetch_offset(b, "payments-ledger").first, wire(ErrorCode::kCoordinatorLoadInProgress));

  auto* partition = b.broker().partitions().partition("t", 0);
  const std::string directory = "/broker-1/t-0";
  // DeleteRecords: the new log start is persisted by the I/O pool, not on the loop.
  const auto checkpoint_before = disk.read_all(directory + "/log-start-offset");
  partition->log().delete_records_before(60);
  bool persisted = false;
  partition->log().sync([&](bool ok) { persisted = ok; });
  // A truncation: bounded work on the loop, the files it removes go to the I/O pool.
  const auto read_before = disk.bytes_read();
  partition->truncate_to(140);
  EXPECT_LT(disk.bytes_read() - read_before, 2048) << "the truncation scanned on the loop";
  EXPECT_TRUE(answers_api_versions(b));
  EXPECT_FALSE(persisted);
  EXPECT_EQ(disk.read_all(directory + "/log-start-offset"), checkpoint_before) << "checkpoint written on the loop";
  EXPECT_GT(files_ending(disk, directory, ".deleted"), 0u);
  EXPECT_GT(b.io().pending(), 0u);

  // Released, everything that waited completes.
  b.hold_io = false;
  ASSERT_TRUE(poll_until({&b}, [&] { return persisted && b.broker().groups().partitions_loading() == 0; }));
  auto checkpoint = disk.read_all(directory + "/log-start-offset");
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(std::string(checkpoint->begin(), checkpoint->end()), "60");
  EXPECT_EQ(files_ending(disk, directory, ".deleted"), 0u);
  auto [error, offset] = fetch_offset(b, "payments-ledger");
  EXPECT_EQ(error, 0);
  EXPECT_EQ(offset, 42);
  EXPECT_NE(b.metrics_text().find("fjord_event_loop_lag_seconds_bucket"), std::string::npos);
  EXPECT_NE(b.metrics_text().find("fjord_log_fsync_seconds_bucket"), std::string::npos);
}

}  // namespace
}  // namespace fjord::testing
