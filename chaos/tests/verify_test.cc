#include "chaos/verify.h"

#include <gtest/gtest.h>

#include "chaos/member.h"

namespace fjord::chaos {
namespace {

// A history: records 0..n-1 on partition seq % 2 at offset seq / 2, processed every 10 ms by member-1.
struct History {
  std::vector<Ack> acks;
  std::vector<Delivery> deliveries;
  void produce(int n) {
    for (int s = 0; s < n; ++s) acks.push_back({s, s % 2, s / 2});
  }
  void process(int seq, const std::string& instance, int64_t at, bool absorbed = false) {
    deliveries.push_back({instance, seq % 2, seq / 2, seq, at, absorbed});
  }
};

TEST(VerifyTest, EverythingProcessedOncePasses) {
  History h;
  h.produce(100);
  for (int s = 0; s < 100; ++s) h.process(s, "member-1#1", 1000 + 10 * s);
  Verdict v = verify(100, h.acks, h.deliveries, {}, {}, {});
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(v.processed, 100u);
  EXPECT_EQ(v.lost, 0u);
  EXPECT_EQ(v.duplicated, 0u);
}

TEST(VerifyTest, AGapProcessingWentPastIsLostAndSkipped) {
  History h;
  h.produce(10);
  for (int s = 0; s < 10; ++s) {
    if (s != 4 && s != 9) h.process(s, "member-1#1", 1000 + s);
  }
  Verdict v = verify(10, h.acks, h.deliveries, {}, {}, {});
  EXPECT_FALSE(v.passed());
  EXPECT_EQ(v.lost, 2u);
  // Record 4 (partition 0, offset 2) has later offsets processed; record 9 is the tail of partition 1.
  EXPECT_EQ(v.skipped, 1u);
  ASSERT_EQ(v.lost_examples.size(), 2u);
  EXPECT_EQ(v.lost_examples[0].seq, 4);
}

TEST(VerifyTest, DuplicatesAndWhatTheSinkAbsorbed) {
  History h;
  h.produce(4);
  for (int s = 0; s < 4; ++s) h.process(s, "member-1#1", 1000 + s);
  h.process(2, "member-2#1", 2000, true);
  h.process(3, "member-2#1", 2001, true);
  h.process(7, "member-2#1", 2002);  // never acknowledged (the producer saw an error)
  Verdict v = verify(5, h.acks, h.deliveries, {}, {}, {});
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(v.duplicated, 2u);
  EXPECT_EQ(v.absorbed, 2u);
  EXPECT_EQ(v.processed_unacknowledged, 1u);
}

TEST(VerifyTest, ARecordAtAnotherOffsetThanAcknowledgedFails) {
  History h;
  h.produce(2);
  h.process(0, "member-1#1", 1000);
  h.deliveries.push_back({"member-1#1", 1, 5, 1, 1001, false});
  Verdict v = verify(2, h.acks, h.deliveries, {}, {}, {});
  EXPECT_EQ(v.moved, 1u);
  EXPECT_FALSE(v.passed());
}

TEST(VerifyTest, AnAcknowledgementWithoutAnOffsetNamesNoPlace) {
  // Records 1 and 3 were confirmed by a later batch's success: acknowledged with offset -1001 (unknown).
  History h;
  h.produce(4);
  h.acks[1].offset = -1001;
  h.acks[3].offset = -1001;
  h.process(0, "member-1#1", 1000);
  h.process(1, "member-1#1", 1001);
  h.process(2, "member-1#1", 1002);
  Verdict v = verify(4, h.acks, h.deliveries, {}, {}, {});
  EXPECT_EQ(v.moved, 0u);
  EXPECT_EQ(v.lost, 1u);
  EXPECT_EQ(v.skipped, 0u);  // record 3's place is unknown: whether processing went past it cannot be told
  EXPECT_FALSE(v.passed());
}

TEST(VerifyTest, NothingAcknowledgedIsNotAPass) {
  Verdict v = verify(10, {}, {}, {}, {}, {});
  EXPECT_FALSE(v.passed());
}

TEST(VerifyTest, KillCountsWhatTheInterruptedBatchHadProcessed) {
  History h;
  h.produce(20);
  for (int s = 0; s < 12; ++s) h.process(s, "member-1#1", 1000 + s);
  // The batch began at 1008: records 8..11 were processed in it before the kill at 1020.
  std::vector<Fault> faults = {{"kill", "member-1#1", 1020, 1008}, {"kill", "member-1#2", 1500, 0}};
  Verdict v = verify(20, h.acks, h.deliveries, {}, faults, {.end_ms = 2000});
  EXPECT_EQ(v.faults.at(0).uncommitted_at_kill, 4);
  EXPECT_EQ(v.faults.at(1).uncommitted_at_kill, 0);  // between batches
  EXPECT_EQ(v.kills, 2u);
  EXPECT_EQ(v.kills_mid_batch, 1u);
  EXPECT_EQ(v.uncommitted_at_kills, 4u);
}

TEST(VerifyTest, RebalanceEpisodesCountOnlyRunningMembers) {
  // Group forms at 1000 (first callbacks: not a rebalance); a static member closes (revoking locally) and its
  // successor rejoins alone at 5000 (its first callback: not a rebalance); at 9000 two running members are called
  // back: one rebalance.
  std::vector<RebalanceRecord> r = {{"member-1#1", "assigned", {0}, 1000},    {"member-2#1", "assigned", {1}, 1010},
                                    {"member-1#1", "revoked", {0}, 4900},     {"member-1#2", "assigned", {0}, 5000},
                                    {"member-1#2", "revoked", {0}, 9000},     {"member-2#1", "revoked", {1}, 9005},
                                    {"member-1#2", "assigned", {0, 1}, 9300}, {"member-2#1", "assigned", {}, 9300}};
  r.push_back({"member-1#2", "revoked", {0, 1}, 20000});  // the run stopping its members: not a rebalance
  r.push_back({"member-2#1", "revoked", {}, 20001});
  Verdict v = verify(0, {}, {}, r, {}, {.shutdown_ms = 20000});
  ASSERT_EQ(v.rebalances.size(), 1u);
  EXPECT_EQ(v.rebalances[0].start_ms, 9000);
  EXPECT_EQ(v.rebalances[0].end_ms, 9300);
  EXPECT_EQ(v.rebalances[0].instances, 2);
  EXPECT_EQ(v.rebalances[0].revoked_partitions, 2);
}

TEST(VerifyTest, TheGroupFormingOneJoinAtATimeIsNotARebalance) {
  // member-2 joins late (a slow coordinator): member-1, already running, revokes and is assigned again at 4000.
  // The group settled at 5000; a running member called back at 9000 is a rebalance.
  std::vector<RebalanceRecord> r = {{"member-1#1", "assigned", {0, 1}, 1000}, {"member-1#1", "revoked", {1}, 4000},
                                    {"member-2#1", "assigned", {1}, 4100},    {"member-1#1", "assigned", {}, 4100},
                                    {"member-1#1", "revoked", {0}, 9000},     {"member-2#1", "assigned", {0}, 9100},
                                    {"member-1#1", "assigned", {}, 9100}};
  Verdict formed_unknown = verify(0, {}, {}, r, {}, {});
  EXPECT_EQ(formed_unknown.rebalances.size(), 2u);
  Verdict v = verify(0, {}, {}, r, {}, {.formed_ms = 5000});
  ASSERT_EQ(v.rebalances.size(), 1u);
  EXPECT_EQ(v.rebalances[0].start_ms, 9000);
  EXPECT_EQ(v.rebalances[0].revoked_partitions, 1);
}

TEST(VerifyTest, PausesSeparateTheRestartedMembersPartitionsFromTheOthers) {
  // Partition 0 is member-1's, partition 1 member-2's; both processed every 100 ms. member-1 restarts at 5000 and
  // its partition is idle until 8000; member-2's keeps going.
  std::vector<Delivery> d;
  for (int64_t t = 0; t <= 10000; t += 100) {
    if (t <= 5000 || t >= 8000) d.push_back({t < 5000 ? "member-1#1" : "member-1#2", 0, t, t * 2, t, false});
    d.push_back({"member-2#1", 1, t, t * 2 + 1, t, false});
  }
  std::vector<Fault> faults = {{"restart", "member-1#1", 5050}};
  Verdict v = verify(0, {}, d, {}, faults, {.pause_threshold_ms = 1000, .end_ms = 10000});
  ASSERT_EQ(v.faults.size(), 1u);
  EXPECT_EQ(v.faults[0].max_pause_ms, 3000);
  EXPECT_EQ(v.faults[0].paused_partitions, 1);
  EXPECT_EQ(v.faults[0].others_max_pause_ms, 100);
}

TEST(MemberTest, SequenceFromTheValue) {
  EXPECT_EQ(sequence_of("chaos-chaos-123-42"), 42);
  EXPECT_EQ(sequence_of("chaos-x-0"), 0);
  EXPECT_EQ(sequence_of("no sequence"), -1);
  EXPECT_EQ(sequence_of("chaos-x-12abc"), -1);
}

}  // namespace
}  // namespace fjord::chaos
