// `fjord lag` as a client of the cluster, Fjord's and Apache Kafka's: lag in records and seconds against records
// librdkafka produced with known timestamps and a committed offset librdkafka set; the status and the exit status (3
// for ERR and STOP, 0 when caught up); STOP seen only by watching for a window; REWIND in the live view (`--watch
// --format json`, one document per refresh) when the group's offset is moved back while it runs.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"

namespace fjord::testing {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct LagRun {
  int exit_status = 0;
  std::string output;
};

LagRun run_lag(const std::string& bootstrap, const std::string& arguments) {
  LagRun run;
  run.output = run_command(std::string(FJORD_BINARY) + " lag --bootstrap-server " + bootstrap + " " + arguments);
  auto status = run.output.rfind("(exit status ");
  if (status != std::string::npos) {
    run.exit_status = std::stoi(run.output.substr(status + 13));
    run.output.resize(status);
  }
  return run;
}

// The one group's one partition in a `fjord lag --format json` document.
nlohmann::json partition_of(const nlohmann::json& document, const std::string& group) {
  for (const auto& g : document["groups"]) {
    if (g["group"] == group && g["partitions"].size() == 1) return g["partitions"][0];
  }
  return nullptr;
}

// The whole scenario against the cluster at `bootstrap` (Fjord, or Apache Kafka: the command is a client of any).
void check_lag_command(const std::string& bootstrap) {
  Admin admin(bootstrap);
  ASSERT_EQ(admin.create_topic("orders", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  // Ten records stamped ten minutes ago, ten seconds apart; the group has consumed four.
  const int64_t base = now_ms() - 600'000;
  {
    auto conf = client_conf(bootstrap);
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    for (int i = 0; i < 10; ++i) {
      std::string value = "order-" + std::to_string(i);
      ASSERT_EQ(producer->produce("orders", 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr, 0,
                                  base + i * 10'000, nullptr),
                RdKafka::ERR_NO_ERROR);
    }
    ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
  }
  commit(bootstrap, "billing", "orders", 4);

  // One sample: 6 records behind, the first one not consumed (offset 4) is base + 40 s old: ERR (over 300 s).
  {
    auto run = run_lag(bootstrap, "billing --format json");
    EXPECT_EQ(run.exit_status, 3) << run.output;
    auto document = nlohmann::json::parse(run.output, nullptr, false);
    auto partition = partition_of(document, "billing");
    ASSERT_FALSE(partition.is_null()) << run.output;
    EXPECT_EQ(partition["committed_offset"], 4);
    EXPECT_EQ(partition["end_offset"], 10);
    EXPECT_EQ(partition["lag"], 6);
    EXPECT_NEAR(partition["lag_seconds"].get<double>(), static_cast<double>(now_ms() - (base + 40'000)) / 1000, 3.0);
    EXPECT_EQ(partition["status"], "ERR");
    EXPECT_EQ(document["groups"][0]["status"], "ERR");
  }
  // Thresholds above the lag: one sample cannot tell a stopped group from a moving one, so it is OK.
  {
    auto run = run_lag(bootstrap, "billing --format json --warning-seconds 100000 --critical-seconds 100000");
    EXPECT_EQ(run.exit_status, 0) << run.output;
    EXPECT_EQ(partition_of(nlohmann::json::parse(run.output, nullptr, false), "billing")["status"], "OK");
  }
  // Watching for a window in which the committed offset does not move while records wait: STOP.
  {
    auto run = run_lag(
        bootstrap, "billing --for 2.5 --window 2 --interval 0.5 --warning-seconds 100000 --critical-seconds 100000");
    EXPECT_EQ(run.exit_status, 3) << run.output;
    EXPECT_NE(run.output.find("STOP"), std::string::npos) << run.output;
  }
  // The live view, while the group is moved back: a refresh shows REWIND (and lag 8).
  {
    auto watch = std::async(std::launch::async, [&] {
      return run_lag(bootstrap, "billing --watch --format json --interval 0.5 --iterations 12");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    commit(bootstrap, "billing", "orders", 2);
    auto run = watch.get();
    std::istringstream lines(run.output);
    std::string line;
    int refreshes = 0;
    bool rewound = false;
    while (std::getline(lines, line)) {
      auto partition = partition_of(nlohmann::json::parse(line, nullptr, false), "billing");
      ASSERT_FALSE(partition.is_null()) << line;
      ++refreshes;
      if (partition["status"] == "REWIND") {
        EXPECT_EQ(partition["lag"], 8) << line;
        rewound = true;
      }
    }
    EXPECT_EQ(refreshes, 12) << run.output;
    EXPECT_TRUE(rewound) << run.output;
  }
  // Caught up: every group (no group named), OK, lag 0 and 0 seconds, exit 0; the text table names them.
  commit(bootstrap, "billing", "orders", 10);
  {
    auto run = run_lag(bootstrap, "--format json");
    EXPECT_EQ(run.exit_status, 0) << run.output;
    auto partition = partition_of(nlohmann::json::parse(run.output, nullptr, false), "billing");
    ASSERT_FALSE(partition.is_null()) << run.output;
    EXPECT_EQ(partition["lag"], 0);
    EXPECT_EQ(partition["lag_seconds"], 0.0);
    EXPECT_EQ(partition["status"], "OK");
    auto text = run_lag(bootstrap, "");
    EXPECT_EQ(text.exit_status, 0) << text.output;
    EXPECT_NE(text.output.find("billing"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("orders"), std::string::npos) << text.output;
  }
}

TEST(LagCommand, ReportsLagSecondsStatusAndExitStatusFromOutsideTheBroker) {
  BrokerProcess broker;
  broker.start();
  check_lag_command(broker.bootstrap());
}

// The same against Apache Kafka: run by the lag_command_kafka test under tests/with_kafka.sh, skipped elsewhere.
TEST(LagCommand, ReportsTheSameAgainstApacheKafka) {
  const char* kafka = std::getenv("FJORD_KAFKA_BOOTSTRAP");
  if (!kafka || !*kafka) GTEST_SKIP() << "FJORD_KAFKA_BOOTSTRAP is not set: run under tests/with_kafka.sh";
  check_lag_command(kafka);
}

}  // namespace
}  // namespace fjord::testing
