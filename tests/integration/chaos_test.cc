// `fjord chaos` against a real broker: the SDK's commit-after-process consumer survives repeated mid-batch
// SIGKILLs, restarts, a rolling restart and scaling without losing or skipping a record; and the tool catches the
// unsafe configuration (auto-commit) losing records, with a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/broker_process.h"

namespace fjord::testing {
namespace {

struct ChaosRun {
  int exit_status = -1;
  nlohmann::json report;
};

ChaosRun run_chaos(const std::string& bootstrap, const std::string& arguments) {
  std::string output =
      run_command(std::string(FJORD_BINARY) + " chaos --bootstrap-server " + bootstrap + " --format json " + arguments);
  ChaosRun run{0, {}};
  auto status = output.rfind("(exit status ");
  if (status != std::string::npos) {
    run.exit_status = std::stoi(output.substr(status + 13));
    output.resize(status);
  }
  run.report = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  return run;
}

class Chaos : public ::testing::Test {
 protected:
  void SetUp() override { broker_.start(); }
  void TearDown() override { std::filesystem::remove_all(work_dir_); }
  BrokerProcess broker_;
  // A failing run keeps its journal for inspection; the one expected to fail keeps it here.
  std::string work_dir_ = make_temp_directory("fjord-chaos-test");
};

TEST_F(Chaos, MidBatchKillsLoseAndSkipNothing) {
  auto run = run_chaos(broker_.bootstrap(), "--duration 25 --fault-interval 4 --faults kill --rate 300");
  ASSERT_FALSE(run.report.is_discarded()) << "no JSON report";
  const auto& r = run.report["records"];
  EXPECT_EQ(run.exit_status, 0) << run.report.dump(2);
  EXPECT_GT(r["acknowledged"].get<int>(), 5000);
  EXPECT_EQ(r["processed"], r["acknowledged"]);
  EXPECT_EQ(r["lost"], 0);
  EXPECT_EQ(r["skipped"], 0);
  EXPECT_EQ(r["moved"], 0);
  // The kills landed mid-batch (records processed and not yet committed), and what they interrupted was processed
  // again and absorbed by the idempotent sink rather than written twice.
  const auto& kills = run.report["kills"];
  EXPECT_GE(kills["total"].get<int>(), 4);
  EXPECT_GE(kills["mid_batch"].get<int>(), 3);
  // A kill can land while its batch's commit is on the wire: the broker has it, the journal does not know, and
  // those records are not delivered again. One such kill in a run is allowed for, no more.
  int largest_kill = 0;
  for (const auto& f : run.report["faults"]) largest_kill = std::max(largest_kill, f["uncommitted_at_kill"].get<int>());
  EXPECT_GT(r["duplicated"].get<int>(), 0) << "nothing interrupted was processed again";
  EXPECT_GE(r["duplicated"].get<int>(), kills["uncommitted_at_kills"].get<int>() - largest_kill);
  EXPECT_EQ(r["absorbed_by_sink"], r["duplicated"]);
  EXPECT_EQ(run.report["ledger_rows"], r["processed"]);
  // Static members (the SDK's default) back within the session: no member that stayed was called back.
  EXPECT_EQ(run.report["rebalances"].size(), 0u) << run.report["rebalances"].dump();
}

TEST_F(Chaos, RestartsRollingAndScalingLoseNothing) {
  // Every kind of fault must fit in the run: under the sanitizers members start, and groups form, slower.
#ifdef FJORD_SANITIZED
  const std::string duration = "55";
#else
  const std::string duration = "40";
#endif
  auto run = run_chaos(broker_.bootstrap(), "--duration " + duration +
                                                " --fault-interval 5 --faults restart,rolling,scale,kill --rate 300 "
                                                "--dynamic");
  ASSERT_FALSE(run.report.is_discarded()) << "no JSON report";
  EXPECT_EQ(run.exit_status, 0) << run.report.dump(2);
  EXPECT_EQ(run.report["records"]["lost"], 0);
  // Dynamic members: every restart and the scaling change the group.
  EXPECT_GE(run.report["rebalances"].size(), 4u);
  std::set<std::string> kinds;
  for (const auto& f : run.report["faults"]) kinds.insert(f["kind"].get<std::string>());
  EXPECT_EQ(kinds, (std::set<std::string>{"restart", "rolling", "scale-up", "scale-down", "kill"}));
}

TEST_F(Chaos, AutoCommitIsCaughtLosingRecords) {
  // Commit on a 100 ms timer while a batch takes 500 ms to process: a kill mid-batch loses what was committed and
  // not yet processed.
  auto run = run_chaos(broker_.bootstrap(),
                       "--duration 20 --fault-interval 4 --faults kill --rate 200 --process-ms 5 --auto-commit "
                       "--consumer-property auto.commit.interval.ms=100 --drain-timeout 10 --work-dir " +
                           work_dir_);
  ASSERT_FALSE(run.report.is_discarded()) << "no JSON report";
  EXPECT_EQ(run.exit_status, 1);
  EXPECT_GT(run.report["records"]["lost"].get<int>(), 0) << run.report.dump(2);
  EXPECT_FALSE(run.report["passed"].get<bool>());
}

TEST_F(Chaos, BadArgumentsAreRefused) {
  EXPECT_NE(run_command(std::string(FJORD_BINARY) + " chaos --bootstrap-server " + broker_.bootstrap() +
                        " --faults explode 2>&1")
                .find("unknown fault explode"),
            std::string::npos);
  EXPECT_NE(run_command(std::string(FJORD_BINARY) + " chaos --bootstrap-server " + broker_.bootstrap() +
                        " --faults broker 2>&1")
                .find("needs --broker-command"),
            std::string::npos);
  EXPECT_NE(run_command(std::string(FJORD_BINARY) + " chaos --bootstrap-server " + broker_.bootstrap() +
                        " --consumer-property fetch.min.bytes 2>&1")
                .find("expected key=value"),
            std::string::npos);
  EXPECT_NE(run_command(std::string(FJORD_BINARY) + " chaos --bootstrap-server " + broker_.bootstrap() +
                        " --group-protocol consumer --strategy range 2>&1")
                .find("are the broker's with --group-protocol consumer"),
            std::string::npos);
}

}  // namespace
}  // namespace fjord::testing
