// The classic group protocol, step by step, on a manual clock: joins, the initial delay, syncs, heartbeats,
// session and rebalance timeouts, static membership, offsets and what survives a reload.
#include "coordinator/group_coordinator.h"

#include <gtest/gtest.h>

#include "coordinator/testing/fake_topic_catalog.h"
#include "coordinator/testing/memory_state_log.h"
#include "model/testing/manual_scheduler.h"

namespace fjord::coordinator {
namespace {

using fjord::testing::ManualScheduler;

protocol::Bytes bytes(const std::string& s) { return protocol::Bytes(s.begin(), s.end()); }

class GroupCoordinatorTest : public ::testing::Test {
 protected:
  GroupCoordinatorTest() { make(); }

  void make() {
    GroupSettings s;
    s.initial_rebalance_delay_ms = 3000;
    s.min_session_timeout_ms = 1000;
    coordinator = std::make_unique<GroupCoordinator>(log, clock, scheduler, s);
    if (catalog) coordinator->set_topic_catalog(catalog);  // before the load, as the broker sets it
    coordinator->load();
  }

  struct PendingJoin {
    std::optional<JoinResult> result;
  };

  std::shared_ptr<PendingJoin> join(const std::string& member_id, std::optional<std::string> instance = std::nullopt,
                                    std::vector<std::pair<std::string, protocol::Bytes>> protocols = {
                                        {"range", bytes("sub")}}) {
    JoinRequest r;
    r.group_id = "g";
    r.member_id = member_id;
    r.group_instance_id = std::move(instance);
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    r.protocols = std::move(protocols);
    r.member_id_required = true;
    auto pending = std::make_shared<PendingJoin>();
    coordinator->join(r, [pending](JoinResult result) { pending->result = std::move(result); });
    return pending;
  }

  // A dynamic member's two joins (KIP-394); returns the second, still pending or answered.
  std::shared_ptr<PendingJoin> join_new(std::string* member_id) {
    auto first = join("");
    EXPECT_TRUE(first->result);
    EXPECT_EQ(first->result->error, ErrorCode::kMemberIdRequired);
    *member_id = first->result->member_id;
    return join(*member_id);
  }

  std::optional<SyncResult> sync(const std::string& member_id, int32_t generation,
                                 std::vector<std::pair<std::string, protocol::Bytes>> assignments = {},
                                 std::optional<std::string> instance = std::nullopt,
                                 std::shared_ptr<std::optional<SyncResult>> out = nullptr) {
    if (!out) out = std::make_shared<std::optional<SyncResult>>();
    SyncRequest r;
    r.group_id = "g";
    r.generation = generation;
    r.member_id = member_id;
    r.group_instance_id = std::move(instance);
    r.assignments = std::move(assignments);
    coordinator->sync(r, [out](SyncResult result) { *out = std::move(result); });
    return *out;
  }

  std::vector<ErrorCode> commit(const std::string& member_id, int32_t generation, int64_t offset,
                                std::optional<std::string> metadata = std::nullopt) {
    CommitRequest r;
    r.group_id = "g";
    r.generation = generation;
    r.member_id = member_id;
    r.offsets.push_back({"topic", 0, offset, -1, std::move(metadata)});
    std::vector<ErrorCode> errors;
    coordinator->commit(r, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
    return errors;
  }

  GroupState state() { return coordinator->describe("g").state; }

  // Past the first rebalance's initial delay, which every join during it extends by one more delay.
  void settle() { scheduler.advance(6000); }

  ManualClock clock;
  ManualScheduler scheduler{clock};
  testing::MemoryStateLog log;
  const consumer::TopicCatalog* catalog = nullptr;
  std::unique_ptr<GroupCoordinator> coordinator;
};

TEST_F(GroupCoordinatorTest, NewMemberLearnsItsIdFirstThenJoinsAfterTheInitialDelay) {
  std::string id;
  auto joined = join_new(&id);
  EXPECT_FALSE(id.empty());
  EXPECT_EQ(state(), GroupState::kPreparingRebalance);
  EXPECT_FALSE(joined->result) << "the first rebalance waits group.initial.rebalance.delay.ms";
  scheduler.advance(2999);
  EXPECT_FALSE(joined->result);
  scheduler.advance(1);
  ASSERT_TRUE(joined->result);
  EXPECT_EQ(joined->result->error, ErrorCode::kNone);
  EXPECT_EQ(joined->result->generation, 1);
  EXPECT_EQ(joined->result->leader, id);
  EXPECT_EQ(joined->result->protocol_name, "range");
  ASSERT_EQ(joined->result->members.size(), 1u);
  EXPECT_EQ(joined->result->members[0].metadata, bytes("sub"));
  EXPECT_EQ(state(), GroupState::kCompletingRebalance);
}

TEST_F(GroupCoordinatorTest, AnUnknownMemberIdIsRefused) {
  auto j = join("nobody");
  ASSERT_TRUE(j->result);
  EXPECT_EQ(j->result->error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, MembersStartingTogetherShareOneRebalance) {
  std::string a, b, c;
  auto ja = join_new(&a);
  scheduler.advance(1000);
  auto jb = join_new(&b);
  scheduler.advance(1000);
  auto jc = join_new(&c);
  scheduler.advance(10000);
  for (auto* j : {&ja, &jb, &jc}) {
    ASSERT_TRUE((*j)->result);
    EXPECT_EQ((*j)->result->generation, 1);
  }
  EXPECT_EQ(ja->result->leader, a);
  EXPECT_EQ(ja->result->members.size(), 3u);
  EXPECT_TRUE(jb->result->members.empty()) << "only the leader gets the members";
}

TEST_F(GroupCoordinatorTest, EachMemberGetsItsPartOfTheLeadersAssignment) {
  std::string a, b;
  auto ja = join_new(&a);
  auto jb = join_new(&b);
  settle();
  auto follower = std::make_shared<std::optional<SyncResult>>();
  sync(b, 1, {}, std::nullopt, follower);
  EXPECT_FALSE(*follower) << "a follower waits for the leader's assignment";
  auto leader = sync(a, 1, {{a, bytes("A")}, {b, bytes("B")}});
  ASSERT_TRUE(leader);
  EXPECT_EQ(leader->assignment, bytes("A"));
  ASSERT_TRUE(*follower);
  EXPECT_EQ((*follower)->assignment, bytes("B"));
  EXPECT_EQ(state(), GroupState::kStable);
  EXPECT_EQ(coordinator->heartbeat("g", 1, b, std::nullopt), ErrorCode::kNone);
  EXPECT_EQ(coordinator->heartbeat("g", 0, b, std::nullopt), ErrorCode::kIllegalGeneration);
}

TEST_F(GroupCoordinatorTest, AssignmentIsDurableBeforeAnyoneReceivesIt) {
  std::string a;
  join_new(&a);
  settle();
  log.hold_appends = true;
  auto leader = std::make_shared<std::optional<SyncResult>>();
  sync(a, 1, {{a, bytes("A")}}, std::nullopt, leader);
  EXPECT_FALSE(*leader);
  log.release_appends();
  ASSERT_TRUE(*leader);
  EXPECT_EQ((*leader)->assignment, bytes("A"));
}

TEST_F(GroupCoordinatorTest, ANewMemberMakesEveryoneRejoin) {
  std::string a, b;
  join_new(&a);
  settle();
  sync(a, 1, {{a, bytes("A")}});
  ASSERT_EQ(state(), GroupState::kStable);
  auto jb = join_new(&b);
  EXPECT_EQ(state(), GroupState::kPreparingRebalance);
  EXPECT_EQ(coordinator->heartbeat("g", 1, a, std::nullopt), ErrorCode::kRebalanceInProgress);
  EXPECT_FALSE(jb->result) << "the rebalance waits for the existing member";
  auto ja = join(a);
  ASSERT_TRUE(ja->result);
  ASSERT_TRUE(jb->result);
  EXPECT_EQ(ja->result->generation, 2);
  EXPECT_EQ(ja->result->leader, a) << "the leader stays";
}

TEST_F(GroupCoordinatorTest, AMemberThatDoesNotRejoinIsDroppedAfterTheRebalanceTimeout) {
  std::string a, b, c;
  join_new(&a);
  join_new(&b);
  settle();
  sync(a, 1, {});
  sync(b, 1, {});
  auto jc = join_new(&c);
  // a rejoins; b keeps heartbeating but never rejoins (a consumer stuck in processing).
  join(a);
  for (int i = 0; i < 29; ++i) {
    scheduler.advance(1000);
    coordinator->heartbeat("g", 1, b, std::nullopt);
  }
  EXPECT_FALSE(jc->result);
  scheduler.advance(1000);
  ASSERT_TRUE(jc->result);
  EXPECT_EQ(jc->result->generation, 2);
  auto d = coordinator->describe("g");
  EXPECT_EQ(d.members.size(), 2u);
  EXPECT_EQ(coordinator->heartbeat("g", 2, b, std::nullopt), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, SilentMembersExpireAfterTheirSessionTimeout) {
  std::string a, b;
  join_new(&a);
  join_new(&b);
  settle();
  sync(a, 1, {});
  sync(b, 1, {});
  for (int i = 0; i < 12; ++i) {
    scheduler.advance(1000);
    EXPECT_EQ(coordinator->heartbeat("g", 1, a, std::nullopt),
              i < 9 ? ErrorCode::kNone : ErrorCode::kRebalanceInProgress);
  }
  EXPECT_EQ(state(), GroupState::kPreparingRebalance) << "b expired, a must rejoin";
  auto ja = join(a);
  ASSERT_TRUE(ja->result);
  EXPECT_EQ(ja->result->generation, 2);
  EXPECT_EQ(coordinator->describe("g").members.size(), 1u);
}

TEST_F(GroupCoordinatorTest, LeavingTriggersARebalanceAndTheLastLeavingEmptiesTheGroup) {
  std::string a, b;
  join_new(&a);
  join_new(&b);
  settle();
  sync(a, 1, {});
  sync(b, 1, {});
  auto [error, members] = coordinator->leave("g", {{b, std::nullopt}});
  EXPECT_EQ(error, ErrorCode::kNone);
  EXPECT_EQ(members, std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(state(), GroupState::kPreparingRebalance);
  join(a);
  EXPECT_EQ(state(), GroupState::kCompletingRebalance);
  coordinator->leave("g", {{a, std::nullopt}});
  EXPECT_EQ(state(), GroupState::kEmpty);
  EXPECT_EQ(coordinator->leave("g", {{"ghost", std::nullopt}}).second[0], ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, StaticMemberRestartingGetsItsAssignmentBackWithoutARebalance) {
  auto ja = join("", "pod-a");
  auto jb = join("", "pod-b");
  settle();
  ASSERT_TRUE(ja->result && jb->result);
  std::string a = ja->result->member_id, b = jb->result->member_id;
  sync(a, 1, {{a, bytes("A")}, {b, bytes("B")}}, "pod-a");
  sync(b, 1, {}, "pod-b");
  ASSERT_EQ(state(), GroupState::kStable);

  // pod-b restarts: a new process, no member id, same instance id.
  auto again = join("", "pod-b");
  ASSERT_TRUE(again->result);
  EXPECT_EQ(again->result->error, ErrorCode::kNone);
  EXPECT_EQ(again->result->generation, 1) << "no new generation";
  EXPECT_NE(again->result->member_id, b);
  EXPECT_EQ(state(), GroupState::kStable);
  auto assignment = sync(again->result->member_id, 1, {}, "pod-b");
  ASSERT_TRUE(assignment);
  EXPECT_EQ(assignment->assignment, bytes("B"));
  EXPECT_EQ(coordinator->heartbeat("g", 1, a, "pod-a"), ErrorCode::kNone) << "the others saw nothing";
  EXPECT_EQ(coordinator->heartbeat("g", 1, b, "pod-b"), ErrorCode::kFencedInstanceId) << "the old id is fenced";
  EXPECT_EQ(commit(b, 1, 5)[0], ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, StaticMemberRestartingWithNewMetadataForTheSameProtocolCausesNoRebalance) {
  // A cooperative client's subscription lists the partitions it owns; a restarted process owns none yet.
  auto ja = join("", "pod-a", {{"cooperative-sticky", bytes("owns 0,1")}});
  settle();
  std::string a = ja->result->member_id;
  sync(a, 1, {{a, bytes("A")}}, "pod-a");
  auto again = join("", "pod-a", {{"cooperative-sticky", bytes("owns nothing")}});
  ASSERT_TRUE(again->result);
  EXPECT_EQ(again->result->generation, 1);
  EXPECT_EQ(state(), GroupState::kStable);
  auto other = join("", "pod-a", {{"range", bytes("x")}});
  ASSERT_TRUE(other->result);
  EXPECT_EQ(other->result->error, ErrorCode::kInconsistentGroupProtocol)
      << "as in Kafka, a protocol no current member supports is refused";
}

TEST_F(GroupCoordinatorTest, StaticMemberThatStaysAwayIsRemovedWhenItsSessionExpires) {
  auto ja = join("", "pod-a");
  auto jb = join("", "pod-b");
  settle();
  std::string a = ja->result->member_id, b = jb->result->member_id;
  sync(a, 1, {}, "pod-a");
  sync(b, 1, {}, "pod-b");
  for (int i = 0; i < 9; ++i) {
    scheduler.advance(1000);
    EXPECT_EQ(coordinator->heartbeat("g", 1, a, "pod-a"), ErrorCode::kNone) << "pod-b is gone but within its session";
  }
  scheduler.advance(2000);
  EXPECT_EQ(coordinator->heartbeat("g", 1, a, "pod-a"), ErrorCode::kRebalanceInProgress);
}

TEST_F(GroupCoordinatorTest, ProtocolsMustBeShared) {
  std::string a;
  join_new(&a);
  auto other = join("", std::nullopt, {{"cooperative-sticky", bytes("x")}});
  ASSERT_TRUE(other->result);
  EXPECT_EQ(other->result->error, ErrorCode::kInconsistentGroupProtocol);
}

TEST_F(GroupCoordinatorTest, TheProtocolEveryoneSupportsWinsByVotes) {
  std::string a;
  auto first = join("", std::nullopt, {{"range", bytes("1")}, {"roundrobin", bytes("2")}});
  a = first->result->member_id;
  auto ja = join(a, std::nullopt, {{"range", bytes("1")}, {"roundrobin", bytes("2")}});
  auto second = join("", std::nullopt, {{"roundrobin", bytes("3")}});
  auto jb = join(second->result->member_id, std::nullopt, {{"roundrobin", bytes("3")}});
  settle();
  ASSERT_TRUE(ja->result);
  EXPECT_EQ(ja->result->protocol_name, "roundrobin");
  EXPECT_EQ(ja->result->members[0].metadata, bytes("2"));
}

TEST_F(GroupCoordinatorTest, SessionTimeoutsOutsideTheBrokersRangeAreRefused) {
  JoinRequest r;
  r.group_id = "g";
  r.session_timeout_ms = 10;
  r.protocol_type = "consumer";
  r.protocols = {{"range", {}}};
  ErrorCode error = ErrorCode::kNone;
  coordinator->join(r, [&](JoinResult result) { error = result.error; });
  EXPECT_EQ(error, ErrorCode::kInvalidSessionTimeout);
}

TEST_F(GroupCoordinatorTest, CommitsFollowKafkasMembershipRules) {
  EXPECT_EQ(commit("", -1, 10)[0], ErrorCode::kNone) << "a consumer without membership";
  std::string a;
  join_new(&a);
  settle();
  EXPECT_EQ(commit(a, 1, 11)[0], ErrorCode::kRebalanceInProgress) << "the generation has no assignment yet";
  sync(a, 1, {});
  EXPECT_EQ(commit(a, 1, 12)[0], ErrorCode::kNone);
  EXPECT_EQ(commit(a, 0, 13)[0], ErrorCode::kIllegalGeneration);
  EXPECT_EQ(commit("stranger", 1, 14)[0], ErrorCode::kUnknownMemberId);
  EXPECT_EQ(commit(a, 1, 15, std::string(5000, 'x'))[0], ErrorCode::kOffsetMetadataTooLarge);
  auto fetched = coordinator->fetch("g", std::vector<std::pair<std::string, int32_t>>{{"topic", 0}, {"topic", 1}});
  ASSERT_EQ(fetched.size(), 2u);
  EXPECT_EQ(fetched[0].offset, 12);
  EXPECT_EQ(fetched[1].offset, -1) << "never committed";
}

TEST_F(GroupCoordinatorTest, MembersCommitWhileARebalanceIsBeingPrepared) {
  // Cooperative consumers commit what they processed of revoked partitions before they rejoin.
  std::string a, b;
  join_new(&a);
  settle();
  sync(a, 1, {});
  join_new(&b);
  ASSERT_EQ(state(), GroupState::kPreparingRebalance);
  EXPECT_EQ(commit(a, 1, 20)[0], ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, OffsetsAreAnsweredOnlyOnceDurable) {
  log.hold_appends = true;
  CommitRequest r;
  r.group_id = "g";
  r.offsets.push_back({"topic", 0, 7, -1, std::nullopt});
  bool answered = false;
  coordinator->commit(r, [&](std::vector<ErrorCode>) { answered = true; });
  EXPECT_FALSE(answered);
  EXPECT_EQ(coordinator->fetch("g", std::nullopt).size(), 0u);
  log.release_appends();
  EXPECT_TRUE(answered);
  EXPECT_EQ(coordinator->fetch("g", std::nullopt).size(), 1u);
}

TEST_F(GroupCoordinatorTest, AFailedWriteIsReportedAndNothingChanges) {
  log.fail_appends = true;
  EXPECT_EQ(commit("", -1, 10)[0], ErrorCode::kCoordinatorNotAvailable);
  EXPECT_EQ(coordinator->fetch("g", std::nullopt).size(), 0u);
}

TEST_F(GroupCoordinatorTest, GroupsAndOffsetsSurviveAReload) {
  auto ja = join("", "pod-a");
  settle();
  std::string a = ja->result->member_id;
  sync(a, 1, {{a, bytes("A")}}, "pod-a");
  EXPECT_EQ(commit(a, 1, 42, std::string("meta"))[0], ErrorCode::kNone);
  CommitRequest other;
  other.group_id = "standalone";
  other.offsets.push_back({"topic", 3, 9, 2, std::nullopt});
  coordinator->commit(other, [](std::vector<ErrorCode>) {});

  make();  // a new coordinator over the same log: a broker restart
  auto fetched = coordinator->fetch("g", std::nullopt);
  ASSERT_EQ(fetched.size(), 1u);
  EXPECT_EQ(fetched[0].offset, 42);
  EXPECT_EQ(fetched[0].metadata, "meta");
  EXPECT_EQ(coordinator->fetch("standalone", std::nullopt).at(0).leader_epoch, 2);
  auto d = coordinator->describe("g");
  EXPECT_EQ(d.state, GroupState::kStable);
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].assignment, bytes("A"));
  EXPECT_EQ(coordinator->heartbeat("g", 1, a, "pod-a"), ErrorCode::kNone) << "the member carries on";
  auto again = join("", "pod-a");
  ASSERT_TRUE(again->result);
  EXPECT_EQ(again->result->generation, 1) << "a static member restarting with the broker still needs no rebalance";
}

TEST_F(GroupCoordinatorTest, DeletingAGroupRemovesItForGood) {
  EXPECT_EQ(commit("", -1, 10)[0], ErrorCode::kNone);
  std::vector<ErrorCode> errors;
  coordinator->delete_groups({"g", "missing"}, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
  EXPECT_EQ(errors, (std::vector<ErrorCode>{ErrorCode::kNone, ErrorCode::kGroupIdNotFound}));
  EXPECT_EQ(coordinator->describe("g").error, ErrorCode::kGroupIdNotFound);
  make();
  EXPECT_EQ(coordinator->describe("g").error, ErrorCode::kGroupIdNotFound);
  EXPECT_TRUE(coordinator->fetch("g", std::nullopt).empty());
}

TEST_F(GroupCoordinatorTest, AGroupWithMembersCannotBeDeleted) {
  std::string a;
  join_new(&a);
  settle();
  std::vector<ErrorCode> errors;
  coordinator->delete_groups({"g"}, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
  EXPECT_EQ(errors, std::vector<ErrorCode>{ErrorCode::kNonEmptyGroup});
}

TEST_F(GroupCoordinatorTest, OffsetsOfAnEmptyGroupExpireAfterTheRetention) {
  GroupSettings s = coordinator->settings();
  s.offsets_retention_ms = 3600000;
  s.retention_check_interval_ms = 60000;
  coordinator = std::make_unique<GroupCoordinator>(log, clock, scheduler, s);
  coordinator->load();
  EXPECT_EQ(commit("", -1, 10)[0], ErrorCode::kNone);
  scheduler.advance(3600000 - 60000);
  EXPECT_EQ(coordinator->fetch("g", std::nullopt).size(), 1u);
  scheduler.advance(60000);
  EXPECT_EQ(coordinator->fetch("g", std::nullopt).size(), 0u);
  EXPECT_EQ(coordinator->list().size(), 0u);
  make();
  EXPECT_EQ(coordinator->fetch("g", std::nullopt).size(), 0u) << "the expiry was written";
}

TEST_F(GroupCoordinatorTest, OffsetsOfSubscribedTopicsCannotBeDeletedUnderAnActiveGroup) {
  // A consumer subscription v0 to "topic".
  protocol::Bytes subscription = {0, 0, 0, 0, 0, 1, 0, 5, 't', 'o', 'p', 'i', 'c', 0xFF, 0xFF, 0xFF, 0xFF};
  auto first = join("", std::nullopt, {{"range", subscription}});
  std::string a = first->result->member_id;
  join(a, std::nullopt, {{"range", subscription}});
  settle();
  sync(a, 1, {});
  commit(a, 1, 5);
  ErrorCode group_error = ErrorCode::kUnknownServerError;
  std::vector<ErrorCode> errors;
  coordinator->delete_offsets("g", {{"topic", 0}, {"other", 0}}, [&](ErrorCode e, std::vector<ErrorCode> p) {
    group_error = e;
    errors = std::move(p);
  });
  EXPECT_EQ(group_error, ErrorCode::kNone);
  EXPECT_EQ(errors, (std::vector<ErrorCode>{ErrorCode::kGroupSubscribedToTopic, ErrorCode::kNone}));
}

}  // namespace
}  // namespace fjord::coordinator

namespace fjord::coordinator {
namespace {

// TxnOffsetCommit: offsets written in a producer's transaction count only once its marker commits them.
class TransactionalOffsetsTest : public GroupCoordinatorTest {
 protected:
  std::vector<ErrorCode> commit_in_transaction(int64_t producer_id, int64_t offset, int32_t generation = -1,
                                               const std::string& member_id = "") {
    CommitRequest r;
    r.group_id = "g";
    r.generation = generation;
    r.member_id = member_id;
    r.offsets.push_back({"topic", 0, offset, -1, std::nullopt});
    std::vector<ErrorCode> errors;
    coordinator->commit_transactional(r, producer_id, 0, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
    return errors;
  }
  std::pair<int64_t, ErrorCode> fetched(bool require_stable = false) {
    auto f = coordinator->fetch("g", std::vector<std::pair<std::string, int32_t>>{{"topic", 0}}, require_stable);
    return {f[0].offset, f[0].error};
  }
};

TEST_F(TransactionalOffsetsTest, VisibleOnlyOnceTheTransactionCommits) {
  EXPECT_EQ(commit("", -1, 10)[0], ErrorCode::kNone);
  EXPECT_EQ(commit_in_transaction(7, 20)[0], ErrorCode::kNone);
  EXPECT_EQ(fetched(), std::make_pair(int64_t{10}, ErrorCode::kNone)) << "the transaction has not committed";
  EXPECT_EQ(fetched(true).second, ErrorCode::kUnstableOffsetCommit) << "a read_committed consumer waits";
  const int32_t partition = coordinator->partition_for("g");
  coordinator->complete_transaction(partition + 1, 7, true);
  EXPECT_EQ(fetched().first, 10) << "a marker in another partition is not this group's";
  coordinator->complete_transaction(partition, 7, true);
  EXPECT_EQ(fetched(true), std::make_pair(int64_t{20}, ErrorCode::kNone));
  EXPECT_EQ(commit_in_transaction(7, 30)[0], ErrorCode::kNone);
  coordinator->complete_transaction(partition, 7, false);
  EXPECT_EQ(fetched(true), std::make_pair(int64_t{20}, ErrorCode::kNone)) << "an aborted commit is dropped";
  EXPECT_EQ(commit_in_transaction(7, 40, 3, "stranger")[0], ErrorCode::kUnknownMemberId);
}

TEST_F(TransactionalOffsetsTest, AReloadEndsEachTransactionOfAProducerAtItsOwnMarker) {
  // One producer's transactions, one after the other: committed, aborted, still open. Its markers must end what
  // came before them in the log, not what the load read after them (the second and third transactions' offsets).
  const int32_t partition = coordinator->partition_for("g");
  commit_in_transaction(7, 20);
  log.write_marker(partition, 7, true);
  commit_in_transaction(7, 30);
  log.write_marker(partition, 7, false);
  commit_in_transaction(7, 40);
  coordinator.reset();
  make();
  EXPECT_EQ(fetched().first, 20);
  EXPECT_EQ(fetched(true).second, ErrorCode::kUnstableOffsetCommit) << "the third transaction is still open";
  coordinator->complete_transaction(partition, 7, false);
  EXPECT_EQ(fetched(true), std::make_pair(int64_t{20}, ErrorCode::kNone));
}

TEST_F(TransactionalOffsetsTest, AReloadReplaysTransactionalOffsetsAndTheirMarkers) {
  const int32_t partition = coordinator->partition_for("g");
  commit_in_transaction(7, 20);
  commit_in_transaction(8, 25);
  log.write_marker(partition, 7, true);
  commit_in_transaction(9, 99);
  log.write_marker(partition, 9, false);
  coordinator.reset();
  make();
  EXPECT_EQ(fetched().first, 20);
  EXPECT_EQ(fetched(true).second, ErrorCode::kUnstableOffsetCommit) << "producer 8's transaction is still open";
  coordinator->complete_transaction(partition, 8, true);
  EXPECT_EQ(fetched(true), std::make_pair(int64_t{25}, ErrorCode::kNone));
}

}  // namespace
}  // namespace fjord::coordinator

namespace fjord::coordinator {
namespace {

TEST_F(TransactionalOffsetsTest, AnAbortThatOvertakesTheCommitsAcknowledgementLeavesNothingPending) {
  EXPECT_EQ(commit("", -1, 10)[0], ErrorCode::kNone);
  log.hold_appends = true;
  std::vector<ErrorCode> errors;
  CommitRequest r;
  r.group_id = "g";
  r.offsets.push_back({"topic", 0, 20, -1, std::nullopt});
  coordinator->commit_transactional(r, 7, 0, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
  // The producer was fenced meanwhile: the abort marker follows the records in the log before they are durable.
  coordinator->complete_transaction(coordinator->partition_for("g"), 7, false);
  log.hold_appends = false;
  log.release_appends();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(fetched(true), std::make_pair(int64_t{10}, ErrorCode::kNone))
      << "the aborted commit stayed pending, for the producer's next transaction to commit";
  coordinator->complete_transaction(coordinator->partition_for("g"), 7, true);
  EXPECT_EQ(fetched().first, 10);
}

}  // namespace
}  // namespace fjord::coordinator

namespace fjord::coordinator {
namespace {

// A consumer-protocol group (KIP-848) in __consumer_offsets: heartbeats are answered once what they changed is
// durable, and a coordinator restarted over the same log carries the group on.
class ConsumerProtocolPersistenceTest : public GroupCoordinatorTest {
 protected:
  ConsumerProtocolPersistenceTest() {
    topics.add("t", 1, 4);
    catalog = &topics;
    coordinator->set_topic_catalog(&topics);
  }
  void restart() { make(); }
  // The heartbeat's answer, once it comes.
  std::shared_ptr<std::optional<consumer::HeartbeatResult>> beat_async(const std::string& member, int32_t epoch,
                                                                       std::optional<consumer::Assignment> owned) {
    consumer::HeartbeatRequest r;
    r.member_id = member;
    r.member_epoch = epoch;
    if (epoch == 0) {
      r.rebalance_timeout_ms = 30000;
      r.subscribed_topic_names = std::vector<std::string>{"t"};
    }
    r.owned = std::move(owned);
    r.client_id = "client";
    auto out = std::make_shared<std::optional<consumer::HeartbeatResult>>();
    coordinator->consumer_heartbeat("g", r, [out](consumer::HeartbeatResult result) { *out = std::move(result); });
    return out;
  }
  std::optional<consumer::HeartbeatResult> beat(const std::string& member, int32_t epoch,
                                                std::optional<consumer::Assignment> owned) {
    return *beat_async(member, epoch, std::move(owned));
  }
  testing::FakeTopicCatalog topics;
};

TEST_F(ConsumerProtocolPersistenceTest, AHeartbeatIsAnsweredOnlyOnceWhatItChangedIsDurable) {
  log.hold_appends = true;
  auto joining = beat_async("m1", 0, consumer::Assignment{});
  EXPECT_FALSE(*joining) << "the join is not answered before its records are written";
  log.release_appends();
  ASSERT_TRUE(*joining);
  EXPECT_EQ((*joining)->error, ErrorCode::kNone);
  EXPECT_EQ((*joining)->member_epoch, 1);
  log.hold_appends = false;
  // A heartbeat that changes nothing the records hold writes nothing, and is answered at once.
  log.hold_appends = true;
  auto polled = beat("m1", 1, (*joining)->assignment);
  log.hold_appends = false;
  ASSERT_TRUE(polled);
  EXPECT_EQ(polled->error, ErrorCode::kNone);
  log.fail_appends = true;
  auto failed = beat("m2", 0, consumer::Assignment{});
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error, ErrorCode::kCoordinatorNotAvailable);
}

TEST_F(ConsumerProtocolPersistenceTest, ARestartedCoordinatorCarriesTheGroupOnWithItsEpochsAndAssignments) {
  auto a = beat("a", 0, consumer::Assignment{});
  ASSERT_TRUE(a && a->error == ErrorCode::kNone);
  auto b = beat("b", 0, consumer::Assignment{});
  ASSERT_TRUE(b && b->error == ErrorCode::kNone);
  // Both settle: a gives up what b is to have, then each owns its half.
  std::map<std::string, std::pair<int32_t, consumer::Assignment>> clients = {
      {"a", {a->member_epoch, a->assignment.value_or(consumer::Assignment{})}},
      {"b", {b->member_epoch, b->assignment.value_or(consumer::Assignment{})}}};
  for (int round = 0; round < 3; ++round) {
    for (auto& [id, c] : clients) {
      auto r = beat(id, c.first, c.second);
      ASSERT_TRUE(r && r->error == ErrorCode::kNone);
      c.first = r->member_epoch;
      if (r->assignment) c.second = *r->assignment;
    }
  }
  const consumer::ConsumerGroup* before = coordinator->consumer_group("g");
  ASSERT_NE(before, nullptr);
  ASSERT_EQ(before->state(), consumer::ConsumerGroupState::kStable);
  const int32_t group_epoch = before->group_epoch();
  EXPECT_EQ(consumer::partition_count(clients["a"].second), 2u);
  EXPECT_EQ(consumer::partition_count(clients["b"].second), 2u);

  restart();
  const consumer::ConsumerGroup* after = coordinator->consumer_group("g");
  ASSERT_NE(after, nullptr) << "the group is back";
  EXPECT_EQ(after->group_epoch(), group_epoch);
  ASSERT_EQ(after->members().size(), 2u);
  for (auto& [id, c] : clients) {
    EXPECT_EQ(after->members().at(id).assignment.epoch, c.first) << id;
    EXPECT_EQ(after->members().at(id).assignment.assigned, c.second) << id;
    // Each member carries on with the epoch it has: not fenced, and it keeps what it owns.
    auto r = beat(id, c.first, c.second);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, ErrorCode::kNone) << id;
    if (r->assignment) {
      EXPECT_EQ(*r->assignment, c.second) << id;
    }
    EXPECT_EQ(r->member_epoch, c.first) << id << ": nothing changed, so no new epoch";
  }
  EXPECT_EQ(coordinator->consumer_group("g")->group_epoch(), group_epoch);
  // Its members commit at their epochs as before.
  CommitRequest commit;
  commit.group_id = "g";
  commit.member_id = "a";
  commit.generation = clients["a"].first;
  commit.offsets.push_back({"t", 0, 5, -1, std::nullopt});
  std::vector<ErrorCode> errors;
  coordinator->commit(commit, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
  EXPECT_EQ(errors, std::vector<ErrorCode>{ErrorCode::kNone});

  // Partitions added while the group was not coordinated are assigned after the next restart.
  topics.add("t", 1, 6);
  restart();
  for (int round = 0; round < 3; ++round) {
    for (auto& [id, c] : clients) {
      auto r = beat(id, c.first, c.second);
      ASSERT_TRUE(r && r->error == ErrorCode::kNone);
      c.first = r->member_epoch;
      if (r->assignment) c.second = *r->assignment;
    }
  }
  EXPECT_GT(coordinator->consumer_group("g")->group_epoch(), group_epoch);
  EXPECT_EQ(consumer::partition_count(clients["a"].second) + consumer::partition_count(clients["b"].second), 6u);

  // A restarted coordinator still expires a member that does not come back.
  scheduler.advance(46000);
  for (auto& [id, c] : clients) {
    if (id == "a") continue;
    EXPECT_EQ(beat(id, c.first, c.second)->error, ErrorCode::kUnknownMemberId);
  }
}

TEST_F(ConsumerProtocolPersistenceTest, ADeletedGroupStaysDeletedAfterARestart) {
  auto a = beat("a", 0, consumer::Assignment{});
  ASSERT_TRUE(a && a->error == ErrorCode::kNone);
  ASSERT_EQ(beat("a", -1, std::nullopt)->error, ErrorCode::kNone);
  restart();
  ASSERT_NE(coordinator->consumer_group("g"), nullptr) << "an empty group is kept, with its epoch";
  EXPECT_TRUE(coordinator->consumer_group("g")->members().empty());
  std::vector<ErrorCode> errors;
  coordinator->delete_groups({"g"}, [&](std::vector<ErrorCode> e) { errors = std::move(e); });
  EXPECT_EQ(errors, std::vector<ErrorCode>{ErrorCode::kNone});
  restart();
  ErrorCode error = ErrorCode::kNone;
  EXPECT_EQ(coordinator->consumer_group("g", &error), nullptr);
  EXPECT_EQ(error, ErrorCode::kGroupIdNotFound);
}

}  // namespace
}  // namespace fjord::coordinator
