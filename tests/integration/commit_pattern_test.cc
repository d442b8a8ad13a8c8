// The commit-pattern check against real consumers (librdkafka): runs that auto-commit and runs that commit after
// processing, side by side, each in its own group on its own topic, with processing times and commit periods that
// vary from run to run, fed by a producer whose records arrive at random (Poisson) times as a real topic's do. The
// broker's audit must tell each run's pattern from the timing of its commits alone; "unknown" counts as a miss.
// The table it prints is the one README and the note report.
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/scale.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

struct Run {
  std::string name;  // client.id, group and topic
  bool auto_commit = false;
  int auto_commit_interval_ms = 0;  // for auto-commit runs
  int commit_every = 1;             // for commit-after-processing runs: records per commit
  bool synchronous = true;          // commitSync or commitAsync
  int mean_processing_ms = 0;       // each record takes uniformly 0 to twice this
};

std::vector<Run> runs_of_each_pattern(int count) {
  const int intervals_ms[] = {1000, 1500, 2000, 2500, 3000};
  const int processing_ms[] = {0, 5, 20, 40, 60};
  const int commit_every[] = {1, 1, 3, 5, 10};
  std::vector<Run> runs;
  for (int i = 0; i < count; ++i) {
    runs.push_back({"auto-" + std::to_string(i), true, intervals_ms[i % 5], 1, true, processing_ms[(i / 2) % 5]});
    runs.push_back({"manual-" + std::to_string(i), false, 0, commit_every[i % 5], i % 2 == 0,
                    processing_ms[(i + 3) % 5] * (i >= 5 ? 4 : 1)});
  }
  return runs;
}

// Polls, processes each record (sleeps its processing time) and commits as the run says, until `stop`.
void consume_as(const std::string& bootstrap, const Run& run, const std::atomic<bool>& stop, uint32_t seed) {
  std::map<std::string, std::string> settings = {{"group.id", run.name},
                                                 {"client.id", run.name},
                                                 {"auto.offset.reset", "earliest"},
                                                 {"enable.auto.commit", run.auto_commit ? "true" : "false"}};
  if (run.auto_commit) settings["auto.commit.interval.ms"] = std::to_string(run.auto_commit_interval_ms);
  auto conf = client_conf(bootstrap, settings);
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  ASSERT_EQ(consumer->subscribe({run.name}), RdKafka::ERR_NO_ERROR);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> processing(0, 2 * run.mean_processing_ms);
  int uncommitted = 0;
  while (!stop) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(100));
    if (message->err() != RdKafka::ERR_NO_ERROR) continue;
    std::this_thread::sleep_for(std::chrono::milliseconds(processing(random)));
    if (run.auto_commit || ++uncommitted < run.commit_every) continue;
    uncommitted = 0;
    std::vector<RdKafka::TopicPartition*> processed = {
        RdKafka::TopicPartition::create(message->topic_name(), message->partition(), message->offset() + 1)};
    if (run.synchronous) {
      consumer->commitSync(processed);
    } else {
      consumer->commitAsync(processed);
    }
    RdKafka::TopicPartition::destroy(processed);
  }
  consumer->close();
}

// The pattern the broker's audit gives the run's member ("unknown" when it has none).
std::string pattern_of(const nlohmann::json& audit, const std::string& run) {
  for (const auto& client : audit["clients"]) {
    if (client["client_id"] != run || !client["groups"].contains(run)) continue;
    for (const auto& member : client["groups"][run]["commits"]) return member["pattern"].get<std::string>();
  }
  return "unknown";
}

bool named_for_auto_commit(const nlohmann::json& audit, const std::string& run) {
  for (const auto& f : audit["findings"]) {
    if (f["rule"] == "consumer-commit-after-processing" &&
        f["subject"].get<std::string>().starts_with("client.id=" + run + " ")) {
      return true;
    }
  }
  return false;
}

TEST(CommitPattern, TheAutoCommitSignatureIsToldApartFromCommitAfterProcessing) {
  BrokerProcess broker({"--set", "group.initial.rebalance.delay.ms=0"});
  broker.start();
  const auto runs = runs_of_each_pattern(10);
  {
    Admin admin(broker.bootstrap());
    for (const auto& run : runs) ASSERT_EQ(admin.create_topic(run.name, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  std::atomic<bool> stop{false};
  // Records for every run's topic, about 10 a second each, at exponentially distributed intervals.
  std::thread feeder([&] {
    TestProducer producer(broker.bootstrap(), {{"linger.ms", "0"}});
    std::mt19937 random(7);
    std::exponential_distribution<double> gap(10.0 * static_cast<double>(runs.size()));
    std::uniform_int_distribution<size_t> which(0, runs.size() - 1);
    for (int64_t i = 0; !stop; ++i) {
      producer.produce(runs[which(random)].name, 0, 1, i);
      producer.handle().poll(0);
      std::this_thread::sleep_for(std::chrono::duration<double>(gap(random)));
    }
    producer.flush(10000);
  });
  std::vector<std::thread> consumers;
  for (size_t i = 0; i < runs.size(); ++i) {
    consumers.emplace_back([&, i] { consume_as(broker.bootstrap(), runs[i], stop, static_cast<uint32_t>(100 + i)); });
  }
  // Long enough for the slowest timer (3 s) to commit kMinCommitIntervals + 1 times with room to spare.
  std::this_thread::sleep_for(std::chrono::seconds(scaled(22, 120)));
  nlohmann::json audit;
  ASSERT_TRUE(wait_until(
      [&] {
        httplib::Client client("127.0.0.1", broker.admin_port());
        auto response = client.Get("/api/audit");
        if (!response || response->status != 200) return false;
        audit = nlohmann::json::parse(response->body);
        return true;
      },
      std::chrono::seconds(10)));
  stop = true;
  for (auto& c : consumers) c.join();
  feeder.join();

  // pattern run -> what the audit said -> runs
  std::map<std::string, std::map<std::string, int>> table;
  int auto_named = 0, auto_runs = 0, manual_named = 0, manual_told = 0, manual_runs = 0;
  for (const auto& run : runs) {
    const std::string said = pattern_of(audit, run.name);
    ++table[run.auto_commit ? "auto-commit" : "commit after processing"][said];
    if (run.auto_commit) {
      ++auto_runs;
      auto_named += named_for_auto_commit(audit, run.name) ? 1 : 0;
    } else {
      ++manual_runs;
      manual_told += said == "after-processing" ? 1 : 0;
      manual_named += named_for_auto_commit(audit, run.name) ? 1 : 0;
    }
    std::printf("%-10s %-11s interval %4d ms, commit every %2d %s, processing 0-%3d ms: %s\n", run.name.c_str(),
                run.auto_commit ? "auto" : "manual", run.auto_commit_interval_ms, run.commit_every,
                run.synchronous ? "sync " : "async", 2 * run.mean_processing_ms, said.c_str());
  }
  std::printf("\n| runs (librdkafka %s) | periodic | after-processing | unknown |\n|---|---|---|---|\n",
              RdKafka::version_str().c_str());
  for (auto& [pattern, said] : table) {
    std::printf("| %s | %d | %d | %d |\n", pattern.c_str(), said["periodic"], said["after-processing"],
                said["unknown"]);
  }
  // Every run is counted; a miss is a run classified wrongly or not at all.
  EXPECT_GE(auto_named * 10, auto_runs * 9)
      << "auto-commit runs named by the rule: " << auto_named << "/" << auto_runs << "\n"
      << audit.dump(2);
  EXPECT_GE(manual_told * 10, manual_runs * 9)
      << "commit-after-processing runs told apart: " << manual_told << "/" << manual_runs;
  // A run whose commits happen to fall on a beat is a miss the rates above count (commits every 10 records of a
  // Poisson feed come about a second apart, give or take a third).
  EXPECT_LE(manual_named * 10, manual_runs) << "commit-after-processing runs named for auto-commit: " << manual_named;
}

}  // namespace
}  // namespace fjord::testing
