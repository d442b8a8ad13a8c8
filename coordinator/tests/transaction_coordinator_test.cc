// The transaction coordinator on a manual clock, with its state in memory and markers recorded by a fake
// writer: fencing, the partitions a transaction adds, ending it (markers, then Complete), retried markers,
// timeouts, expiry, and what a reload resumes.
#include "coordinator/transaction_coordinator.h"

#include <gtest/gtest.h>

#include "coordinator/offsets_records.h"
#include "coordinator/testing/memory_state_log.h"
#include "model/testing/manual_scheduler.h"

namespace fjord::coordinator {
namespace {

using fjord::testing::ManualScheduler;

class RecordingMarkers final : public MarkerWriter {
 public:
  struct Written {
    Marker marker;
    TopicPartition partition;
  };
  void write(const Marker& marker, const std::vector<TopicPartition>& partitions,
             std::function<void(std::map<TopicPartition, ErrorCode>)> done) override {
    std::map<TopicPartition, ErrorCode> results;
    for (const auto& tp : partitions) {
      auto failing = refuse.find(tp);
      if (failing != refuse.end()) {
        results[tp] = failing->second;
        continue;
      }
      written.push_back({marker, tp});
      results[tp] = ErrorCode::kNone;
    }
    if (hold) {
      held.push_back([done, results] { done(results); });
    } else {
      done(results);
    }
  }
  void release() {
    auto pending = std::move(held);
    held.clear();
    for (auto& f : pending) f();
  }
  std::vector<Written> written;
  std::map<TopicPartition, ErrorCode> refuse;
  bool hold = false;
  std::vector<std::function<void()>> held;
};

class TransactionCoordinatorTest : public ::testing::Test {
 protected:
  TransactionCoordinatorTest() { make(); }

  void make() {
    TransactionSettings s;
    s.id_expiration_ms = 60'000;
    s.abort_check_interval_ms = 1000;
    s.expiration_check_interval_ms = 10'000;
    s.transaction_version = transaction_version;
    coordinator = std::make_unique<TransactionCoordinator>(
        log, markers,
        [this](std::function<void(ProducerIdentity)> done) {
          done({ErrorCode::kNone, next_producer_id++, 0});
        },
        clock, scheduler, s);
    coordinator->load();
  }

  ProducerIdentity init(const std::string& id = "tx", std::optional<ProducerIdentity> expected = std::nullopt,
                        int32_t timeout_ms = 5000) {
    ProducerIdentity out{ErrorCode::kUnknownServerError, -1, -1};
    coordinator->init_producer_id(id, timeout_ms, expected, [&](ProducerIdentity r) { out = r; });
    return out;
  }
  std::vector<ErrorCode> add(const ProducerIdentity& p, std::vector<TopicPartition> partitions,
                             const std::string& id = "tx") {
    std::vector<ErrorCode> out;
    coordinator->add_partitions(id, p.producer_id, p.producer_epoch, partitions, [&](auto r) { out = r; });
    return out;
  }
  ErrorCode end(const ProducerIdentity& p, bool commit, const std::string& id = "tx") {
    ErrorCode out = ErrorCode::kUnknownServerError;
    coordinator->end_transaction(id, p.producer_id, p.producer_epoch, commit, false,
                                 [&](ProducerIdentity r) { out = r.error; });
    return out;
  }
  // EndTxn v5 (transactions v2): the answer names the producer id and epoch to use next.
  ProducerIdentity end_v2(const ProducerIdentity& p, bool commit, const std::string& id = "tx") {
    ProducerIdentity out{ErrorCode::kUnknownServerError, -1, -1};
    coordinator->end_transaction(id, p.producer_id, p.producer_epoch, commit, true,
                                 [&](ProducerIdentity r) { out = r; });
    return out;
  }
  // What a partition leader does for a transactions-v2 producer's first batch there.
  std::vector<ErrorCode> add_implicitly(const ProducerIdentity& p, std::vector<TopicPartition> partitions,
                                        const std::string& id = "tx") {
    std::vector<ErrorCode> out;
    coordinator->add_partitions(
        id, p.producer_id, p.producer_epoch, partitions, [&](auto r) { out = r; }, true);
    return out;
  }
  TransactionState state(const std::string& id = "tx") { return coordinator->describe(id).state; }

  ManualClock clock;
  ManualScheduler scheduler{clock};
  testing::MemoryStateLog log{4};
  RecordingMarkers markers;
  int64_t next_producer_id = 1000;
  int16_t transaction_version = 2;
  std::unique_ptr<TransactionCoordinator> coordinator;
};

TEST_F(TransactionCoordinatorTest, EachInitBumpsTheEpochAndFencesThePreviousInstance) {
  auto first = init();
  ASSERT_EQ(first.error, ErrorCode::kNone);
  EXPECT_EQ(first.producer_id, 1000);
  EXPECT_EQ(first.producer_epoch, 0);
  auto second = init();
  EXPECT_EQ(second.producer_id, 1000) << "the same transactional id keeps its producer id";
  EXPECT_EQ(second.producer_epoch, 1);
  EXPECT_EQ(add(first, {{"t", 0}}), std::vector<ErrorCode>{ErrorCode::kProducerFenced});
  EXPECT_EQ(end(first, true), ErrorCode::kProducerFenced);
  // A client-initiated bump (v3+) must name the current id and epoch.
  EXPECT_EQ(init("tx", first).error, ErrorCode::kProducerFenced);
  EXPECT_EQ(init("tx", second).producer_epoch, 2);
  EXPECT_EQ(add({ErrorCode::kNone, 7, 2}, {{"t", 0}}), std::vector<ErrorCode>{ErrorCode::kInvalidProducerIdMapping});
  EXPECT_EQ(init("tx", std::nullopt, 0).error, ErrorCode::kInvalidTransactionTimeout);
}

TEST_F(TransactionCoordinatorTest, CommitWritesAMarkerToEveryPartitionThenCompletes) {
  auto p = init();
  EXPECT_EQ(add(p, {{"a", 0}, {"b", 1}}), (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kNone}));
  EXPECT_EQ(add(p, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kNone}) << "adding again changes nothing";
  EXPECT_EQ(state(), TransactionState::kOngoing);
  EXPECT_EQ(coordinator->describe("tx").partitions, (std::vector<TopicPartition>{{"a", 0}, {"b", 1}}));
  markers.hold = true;
  EXPECT_EQ(end(p, true), ErrorCode::kNone) << "answered once PrepareCommit is durable";
  EXPECT_EQ(state(), TransactionState::kPrepareCommit);
  // Until the markers are written the producer's next transaction waits.
  EXPECT_EQ(add(p, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kConcurrentTransactions});
  EXPECT_EQ(init().error, ErrorCode::kConcurrentTransactions);
  EXPECT_EQ(end(p, true), ErrorCode::kConcurrentTransactions);
  EXPECT_EQ(end(p, false), ErrorCode::kInvalidTxnState);
  markers.hold = false;
  markers.release();
  EXPECT_EQ(state(), TransactionState::kCompleteCommit);
  ASSERT_EQ(markers.written.size(), 2u);
  for (const auto& w : markers.written) {
    EXPECT_TRUE(w.marker.commit);
    EXPECT_EQ(w.marker.producer_id, p.producer_id);
    EXPECT_EQ(w.marker.producer_epoch, p.producer_epoch);
  }
  EXPECT_EQ(end(p, true), ErrorCode::kNone) << "a retried EndTxn of a completed commit";
  EXPECT_EQ(end(p, false), ErrorCode::kInvalidTxnState);
  EXPECT_TRUE(coordinator->describe("tx").partitions.empty());
  // The next transaction of the same producer.
  EXPECT_EQ(add(p, {{"c", 2}}), std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(end(p, false), ErrorCode::kNone);
  EXPECT_EQ(state(), TransactionState::kCompleteAbort);
  EXPECT_FALSE(markers.written.back().marker.commit);
}

TEST_F(TransactionCoordinatorTest, MarkersThatCannotBeWrittenAreRetriedUntilTheyAre) {
  auto p = init();
  add(p, {{"a", 0}, {"b", 0}, {"gone", 0}});
  markers.refuse[{"a", 0}] = ErrorCode::kNotLeaderOrFollower;
  markers.refuse[{"gone", 0}] = ErrorCode::kUnknownTopicOrPartition;  // deleted: needs no marker
  EXPECT_EQ(end(p, true), ErrorCode::kNone);
  EXPECT_EQ(state(), TransactionState::kPrepareCommit);
  scheduler.advance(500);
  EXPECT_EQ(state(), TransactionState::kPrepareCommit);
  markers.refuse.erase({"a", 0});
  scheduler.advance(500);
  EXPECT_EQ(state(), TransactionState::kCompleteCommit);
  ASSERT_EQ(markers.written.size(), 2u) << "b once, a once it could be";
  EXPECT_EQ(markers.written[1].partition, (TopicPartition{"a", 0}));
}

TEST_F(TransactionCoordinatorTest, ANewInstanceAbortsTheTransactionItsPredecessorLeftOpen) {
  auto old = init();
  add(old, {{"a", 0}});
  EXPECT_EQ(init().error, ErrorCode::kConcurrentTransactions) << "retry once the abort completed";
  EXPECT_EQ(state(), TransactionState::kCompleteAbort);
  ASSERT_EQ(markers.written.size(), 1u);
  EXPECT_FALSE(markers.written[0].marker.commit);
  EXPECT_EQ(markers.written[0].marker.producer_epoch, 1) << "the abort fences the old epoch in the partitions";
  auto fresh = init();
  EXPECT_EQ(fresh.error, ErrorCode::kNone);
  EXPECT_EQ(fresh.producer_epoch, 2);
  EXPECT_EQ(end(old, true), ErrorCode::kProducerFenced);
}

TEST_F(TransactionCoordinatorTest, ATransactionPastItsTimeoutIsAbortedAndItsProducerFenced) {
  auto p = init("tx", std::nullopt, 5000);
  add(p, {{"a", 0}});
  scheduler.advance(4000);
  EXPECT_EQ(state(), TransactionState::kOngoing);
  scheduler.advance(2000);
  EXPECT_EQ(state(), TransactionState::kCompleteAbort);
  ASSERT_EQ(markers.written.size(), 1u);
  EXPECT_EQ(markers.written[0].marker.producer_epoch, p.producer_epoch + 1);
  EXPECT_EQ(end(p, true), ErrorCode::kProducerFenced);
  EXPECT_EQ(add(p, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kProducerFenced});
}

TEST_F(TransactionCoordinatorTest, IdleIdsExpireButNotOngoingTransactions) {
  auto idle = init("idle");
  auto busy = init("busy", std::nullopt, 900'000);
  add(busy, {{"a", 0}}, "busy");
  scheduler.advance(70'000);
  EXPECT_EQ(coordinator->describe("idle").error, ErrorCode::kTransactionalIdNotFound);
  EXPECT_EQ(state("busy"), TransactionState::kOngoing);
  auto again = init("idle");
  EXPECT_NE(again.producer_id, idle.producer_id) << "an expired id starts again with a new producer id";
}

TEST_F(TransactionCoordinatorTest, AReloadRestoresStatesAndFinishesDecidedTransactions) {
  auto p = init();
  add(p, {{"a", 0}, {"b", 0}});
  markers.hold = true;
  EXPECT_EQ(end(p, false), ErrorCode::kNone);
  init("other");
  // The coordinator goes away before the markers were written; a new one reads the partitions back.
  coordinator.reset();
  markers.held.clear();
  markers.written.clear();
  markers.hold = false;
  make();
  EXPECT_EQ(state(), TransactionState::kCompleteAbort) << "the reload wrote the abort's markers";
  EXPECT_EQ(markers.written.size(), 2u);
  EXPECT_EQ(state("other"), TransactionState::kEmpty);
  auto next = init();
  EXPECT_EQ(next.producer_id, p.producer_id);
  EXPECT_EQ(next.producer_epoch, p.producer_epoch + 1);
  auto listed = coordinator->list();
  EXPECT_EQ(listed.size(), 2u);
}

TEST_F(TransactionCoordinatorTest, AFailedWriteChangesNothing) {
  auto p = init();
  log.fail_appends = true;
  EXPECT_EQ(add(p, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kKafkaStorageError});
  EXPECT_EQ(state(), TransactionState::kEmpty);
  EXPECT_EQ(init("new").error, ErrorCode::kKafkaStorageError);
  log.fail_appends = false;
  EXPECT_EQ(coordinator->describe("new").error, ErrorCode::kTransactionalIdNotFound);
}

TEST_F(TransactionCoordinatorTest, TransactionsV2BumpTheEpochOnEveryEnd) {
  auto p = init();
  EXPECT_EQ(add_implicitly(p, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kNone});
  markers.hold = true;
  auto next = end_v2(p, true);
  ASSERT_EQ(next.error, ErrorCode::kNone);
  EXPECT_EQ(next.producer_id, p.producer_id);
  EXPECT_EQ(next.producer_epoch, p.producer_epoch + 1) << "the answer carries the bumped epoch";
  // The producer's next transaction starts while the markers are still being written: its leader is told to
  // wait, and a retry of the EndTxn (one epoch behind) is answered as the original was, still in progress.
  EXPECT_EQ(add_implicitly(next, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kConcurrentTransactions});
  EXPECT_EQ(end_v2(p, true).error, ErrorCode::kConcurrentTransactions);
  EXPECT_EQ(end_v2(next, true).error, ErrorCode::kProducerFenced) << "PrepareCommit takes only a retry";
  markers.hold = false;
  markers.release();
  ASSERT_EQ(markers.written.size(), 1u);
  EXPECT_EQ(markers.written[0].marker.producer_epoch, next.producer_epoch) << "the marker carries the bumped epoch";
  EXPECT_EQ(state(), TransactionState::kCompleteCommit);
  auto retried = end_v2(p, true);
  EXPECT_EQ(retried.error, ErrorCode::kNone) << "a retried commit of a completed commit succeeds";
  EXPECT_EQ(retried.producer_epoch, next.producer_epoch);
  EXPECT_EQ(end_v2(p, false).error, ErrorCode::kInvalidTxnState);
  // A delayed EndTxn(commit) of the old epoch cannot end the next transaction: it is refused and changes nothing
  // (under transactions v1 the same epoch would have committed it).
  EXPECT_EQ(add_implicitly(next, {{"b", 0}}), std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(state(), TransactionState::kOngoing);
  EXPECT_EQ(end_v2(p, true).error, ErrorCode::kProducerFenced);
  EXPECT_EQ(state(), TransactionState::kOngoing);
  auto after = end_v2(next, false);
  ASSERT_EQ(after.error, ErrorCode::kNone);
  EXPECT_EQ(after.producer_epoch, next.producer_epoch + 1);
  EXPECT_EQ(state(), TransactionState::kCompleteAbort);
  EXPECT_FALSE(markers.written.back().marker.commit);
  EXPECT_EQ(markers.written.back().partition, (TopicPartition{"b", 0}));
  // The current epoch on a completed transaction starts a new one: an abort with nothing added is allowed (the
  // producer may have written where no partition could be added) and bumps the epoch; a commit is not.
  EXPECT_EQ(end_v2(after, true).error, ErrorCode::kInvalidTxnState);
  const size_t written = markers.written.size();
  auto empty_abort = end_v2(after, false);
  ASSERT_EQ(empty_abort.error, ErrorCode::kNone);
  EXPECT_EQ(empty_abort.producer_epoch, after.producer_epoch + 1);
  EXPECT_EQ(markers.written.size(), written) << "nothing to mark";
  EXPECT_EQ(state(), TransactionState::kCompleteAbort);
  EXPECT_TRUE(coordinator->describe("tx").partitions.empty());
}

TEST_F(TransactionCoordinatorTest, TransactionsV2MoveToANewProducerIdWhenTheEpochsRunOut) {
  auto p = init();
  // Run the epoch up to the last one a producer may use.
  while (p.producer_epoch < 32766) {
    ASSERT_EQ(add_implicitly(p, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kNone});
    p = end_v2(p, true);
    ASSERT_EQ(p.error, ErrorCode::kNone) << p.producer_epoch;
  }
  ASSERT_EQ(add_implicitly(p, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kNone});
  const size_t written = markers.written.size();
  auto next = end_v2(p, true);
  ASSERT_EQ(next.error, ErrorCode::kNone);
  EXPECT_NE(next.producer_id, p.producer_id);
  EXPECT_EQ(next.producer_epoch, 0);
  ASSERT_EQ(markers.written.size(), written + 1);
  EXPECT_EQ(markers.written.back().marker.producer_id, p.producer_id) << "the markers end the old id's transaction";
  EXPECT_EQ(markers.written.back().marker.producer_epoch, 32767);
  auto retried = end_v2(p, true);
  EXPECT_EQ(retried.error, ErrorCode::kNone) << "a retry under the old id is recognised";
  EXPECT_EQ(retried.producer_id, next.producer_id);
  EXPECT_EQ(retried.producer_epoch, 0);
  EXPECT_EQ(add_implicitly(next, {{"a", 0}}), std::vector<ErrorCode>{ErrorCode::kNone});
  // A reload keeps all of it (the state records' tagged fields).
  coordinator.reset();
  make();
  EXPECT_EQ(coordinator->describe("tx").producer_id, next.producer_id);
  EXPECT_EQ(end_v2(next, true).producer_epoch, 1);
}

TEST_F(TransactionCoordinatorTest, FencingATransactionsV2ProducerTakesTwoBumps) {
  auto p = init("tx", std::nullopt, 5000);
  add_implicitly(p, {{"a", 0}});
  scheduler.advance(7000);
  EXPECT_EQ(state(), TransactionState::kCompleteAbort);
  EXPECT_EQ(markers.written.back().marker.producer_epoch, p.producer_epoch + 2);
  EXPECT_EQ(end_v2(p, false).error, ErrorCode::kProducerFenced) << "not taken for a retry of the abort";
}

TEST_F(TransactionCoordinatorTest, StateRecordsTakeTheLayoutOfTheFinalizedTransactionVersion) {
  for (int16_t level : {0, 1, 2}) {
    transaction_version = level;
    coordinator.reset();
    make();
    const std::string id = "tx-" + std::to_string(level);
    ASSERT_EQ(init(id).error, ErrorCode::kNone);
    const auto& written = log.entries(coordinator->partition_for(id));
    ASSERT_FALSE(written.empty());
    ASSERT_TRUE(written.back().value);
    const auto& value = *written.back().value;
    EXPECT_EQ(value[0] * 256 + value[1], level >= 1 ? 1 : 0) << "value version at transaction.version " << level;
  }
}

TEST(TransactionRecords, RoundTripInKafkasLayout) {
  StoredTransaction t;
  t.producer_id = 42;
  t.producer_epoch = 3;
  t.timeout_ms = 60000;
  t.state = TransactionState::kOngoing;
  t.partitions = {{"a", 0}, {"a", 2}, {"b", 1}};
  t.last_update_ms = 1700000000123;
  t.start_ms = 1700000000000;
  auto bytes = encode_transaction(t, 0);
  // version 0: int16 version, int64 id, int16 epoch, int32 timeout, int8 state, then two topics.
  ASSERT_GE(bytes.size(), 17u);
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 0);
  EXPECT_EQ(bytes[16], 1) << "Ongoing is 1";
  EXPECT_EQ(decode_transaction(bytes), t);
  EXPECT_EQ(decode_transaction_key(encode_transaction_key("tx-1")), "tx-1");
  t.state = TransactionState::kEmpty;
  t.partitions.clear();
  EXPECT_EQ(decode_transaction(encode_transaction(t, 0)), t);
  // Version 1: the flexible layout, with transactions v2's fields as tagged fields.
  t.state = TransactionState::kPrepareCommit;
  t.partitions = {{"a", 0}, {"b", 1}};
  t.client_transaction_version = 2;
  t.next_producer_id = 43;
  t.previous_producer_id = 41;
  auto flexible = encode_transaction(t, 1);
  EXPECT_EQ(flexible[1], 1);
  EXPECT_EQ(decode_transaction(flexible), t);
  t.client_transaction_version = 0;
  t.next_producer_id = -1;
  t.previous_producer_id = -1;
  EXPECT_EQ(decode_transaction(encode_transaction(t, 1)), t) << "defaults are left out";
  bytes.resize(bytes.size() - 3);
  EXPECT_FALSE(decode_transaction(bytes)) << "truncated";
  EXPECT_EQ(transaction_partition_for("tx", 50), offsets_partition_for("tx", 50));
}

}  // namespace
}  // namespace fjord::coordinator
