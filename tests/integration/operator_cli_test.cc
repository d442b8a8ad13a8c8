// The operator CLI's data commands against a real broker, checked with librdkafka on the other side:
// `fjord produce` (lines with keys and headers; JSON with base64 for binary data), `fjord consume` (templates,
// JSON, binary data exactly, a group that commits what it printed) and `fjord topic alter` (settings changed one
// by one, others kept; partitions added). The same cases run against Apache Kafka.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

struct Run {
  int exit_status = 0;
  std::string output;
};

Run fjord(const std::string& arguments, const std::string& stdin_text = "") {
  std::string command;
  if (!stdin_text.empty()) command = "printf '" + stdin_text + "' | ";  // printf turns \\n into line ends
  command += std::string(FJORD_BINARY) + " " + arguments;
  Run run{0, run_command(command)};
  auto status = run.output.rfind("(exit status ");
  if (status != std::string::npos) {
    run.exit_status = std::stoi(run.output.substr(status + 13));
    run.output.resize(status);
  }
  return run;
}

struct Read {
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int32_t partition = -1;
  int64_t offset = -1;
};

// Every record of a topic, read by librdkafka from the beginning, in partition and offset order.
std::vector<Read> read_all(const std::string& bootstrap, const std::string& topic, size_t expected) {
  auto conf = client_conf(
      bootstrap, {{"group.id", "reader-" + topic}, {"auto.offset.reset", "earliest"}, {"enable.auto.commit", "false"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  EXPECT_TRUE(consumer) << error;
  consumer->subscribe({topic});
  std::map<std::pair<int32_t, int64_t>, Read> by_position;
  wait_until(
      [&] {
        std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
        if (m->err() != RdKafka::ERR_NO_ERROR) return by_position.size() >= expected;
        Read r;
        if (m->key_pointer()) r.key = std::string(static_cast<const char*>(m->key_pointer()), m->key_len());
        if (m->payload()) r.value = std::string(static_cast<const char*>(m->payload()), m->len());
        if (m->headers()) {
          for (const auto& h : m->headers()->get_all()) {
            r.headers.emplace_back(h.key(), h.value() ? std::optional<std::string>(std::string(
                                                            static_cast<const char*>(h.value()), h.value_size()))
                                                      : std::nullopt);
          }
        }
        r.partition = m->partition();
        r.offset = m->offset();
        by_position[{r.partition, r.offset}] = r;
        return by_position.size() >= expected;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(1));
  consumer->close();
  std::vector<Read> out;
  for (auto& [position, r] : by_position) out.push_back(std::move(r));
  return out;
}

// Against a Fjord broker started here, or, under tests/with_kafka.sh (ctest operator_cli_kafka), against the
// Apache Kafka it names: the commands are clients of any Kafka-compatible cluster.
class OperatorCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* kafka = std::getenv("FJORD_KAFKA_BOOTSTRAP"); kafka && *kafka) {
      kafka_ = kafka;
    } else {
      broker_.start();
    }
  }
  std::string bootstrap() const { return kafka_.empty() ? broker_.bootstrap() : kafka_; }
  bool against_fjord() const { return kafka_.empty(); }
  BrokerProcess broker_;
  std::string kafka_;
};

TEST_F(OperatorCli, ProduceWritesLinesWithKeysAndHeadersIdempotently) {
  Admin admin(bootstrap());
  ASSERT_EQ(admin.create_topic("lines", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto run = fjord("produce lines --bootstrap-server " + bootstrap() + " --key-separator : --header source=cli",
                   "k1:v1\\nk2:with:colon\\nno key\\n");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  auto records = read_all(bootstrap(), "lines", 3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].key, "k1");
  EXPECT_EQ(records[0].value, "v1");
  EXPECT_EQ(records[1].key, "k2");
  EXPECT_EQ(records[1].value, "with:colon");
  EXPECT_FALSE(records[2].key);
  EXPECT_EQ(records[2].value, "no key");
  for (const auto& r : records) {
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "source");
    EXPECT_EQ(r.headers[0].second, "cli");
  }
  // Idempotent by default: the broker saw a producer id (its idempotent-producer gauge counts it).
  if (against_fjord()) {
    EXPECT_GE(broker_.metric("fjord_idempotent_producers_active"), 1) << broker_.metrics();
  }
  // Delivery reports as JSON, one per record, with the offsets the broker gave.
  run = fjord("produce lines --bootstrap-server " + bootstrap() + " --format json", "a\\nb\\n");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  std::istringstream reports(run.output);
  std::string line;
  std::vector<int64_t> offsets;
  while (std::getline(reports, line)) offsets.push_back(nlohmann::json::parse(line)["offset"].get<int64_t>());
  EXPECT_EQ(offsets, (std::vector<int64_t>{3, 4}));
  // A line that is not JSON under --input json is refused with its line number.
  run = fjord("produce lines --bootstrap-server " + bootstrap() + " --input json 2>&1",
              "{\"value\":\"ok\"}\\nnot json\\n");
  EXPECT_EQ(run.exit_status, 1);
  EXPECT_NE(run.output.find("line 2"), std::string::npos) << run.output;
}

TEST_F(OperatorCli, ConsumeCarriesBinaryDataExactlyAndCopiesATopicThroughProduce) {
  Admin admin(bootstrap());
  ASSERT_EQ(admin.create_topic("binary", 2), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(admin.create_topic("copy", 2), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
  {
    auto conf = client_conf(bootstrap());
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    for (int32_t p = 0; p < 2; ++p) {
      auto* headers = RdKafka::Headers::create();
      headers->add("bin", every_byte.data(), every_byte.size());
      headers->add("null", nullptr, 0);
      ASSERT_EQ(producer->produce("binary", p, RdKafka::Producer::RK_MSG_COPY, every_byte.data(), every_byte.size(),
                                  every_byte.data() + p, 3, 0, headers, nullptr),
                RdKafka::ERR_NO_ERROR);
      // A tombstone: a key and no value.
      ASSERT_EQ(producer->produce("binary", p, RdKafka::Producer::RK_MSG_COPY, nullptr, 0, "gone", 4, 0, nullptr),
                RdKafka::ERR_NO_ERROR);
    }
    ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
  }
  auto run = fjord("consume binary --bootstrap-server " + bootstrap() +
                   " --from-beginning --exit-at-end --format json --base64");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  std::istringstream lines(run.output);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    auto json = nlohmann::json::parse(line);
    ++count;
    EXPECT_EQ(json["topic"], "binary");
    if (json["value"].is_null()) {
      EXPECT_EQ(json["key"], "Z29uZQ==");  // "gone"
    }
  }
  EXPECT_EQ(count, 4) << run.output;

  // Consumed as JSON with base64 and produced back from it: the copy is the original, byte for byte, partition
  // for partition, with its headers and tombstones.
  run = fjord("consume binary --bootstrap-server " + bootstrap() +
              " --from-beginning --exit-at-end --format json --base64 | " + FJORD_BINARY +
              " produce copy --input json --base64 --bootstrap-server " + bootstrap());
  ASSERT_EQ(run.exit_status, 0) << run.output;
  auto original = read_all(bootstrap(), "binary", 4);
  auto copied = read_all(bootstrap(), "copy", 4);
  ASSERT_EQ(copied.size(), original.size());
  for (size_t i = 0; i < original.size(); ++i) {
    EXPECT_EQ(copied[i].partition, original[i].partition);
    EXPECT_EQ(copied[i].key, original[i].key);
    EXPECT_EQ(copied[i].value, original[i].value);
    EXPECT_EQ(copied[i].headers, original[i].headers);
  }
  // A template.
  run = fjord("consume binary --bootstrap-server " + bootstrap() +
              " --partition 1 --from-beginning --exit-at-end --format '{partition}@{offset} key={key}\\n'");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  EXPECT_NE(run.output.find("1@1 key=gone\n"), std::string::npos) << run.output;
}

TEST_F(OperatorCli, ConsumeWithAGroupCommitsWhatItPrinted) {
  Admin admin(bootstrap());
  ASSERT_EQ(admin.create_topic("work", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(fjord("produce work --bootstrap-server " + bootstrap(), "1\\n2\\n3\\n4\\n5\\n").exit_status, 0);
  auto run = fjord("consume work --bootstrap-server " + bootstrap() + " --group workers --from-beginning --count 3");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  EXPECT_EQ(run.output, "1\n2\n3\n");
  // The group resumes after what was printed.
  run = fjord("consume work --bootstrap-server " + bootstrap() + " --group workers --count 2");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  EXPECT_EQ(run.output, "4\n5\n");
  auto described = nlohmann::json::parse(
      fjord("group describe workers --format json --bootstrap-server " + bootstrap()).output, nullptr, false);
  ASSERT_FALSE(described.is_discarded());
  EXPECT_EQ(described["partitions"][0]["current_offset"], 5) << described.dump();
}

TEST_F(OperatorCli, TopicAlterChangesOnlyTheNamedSettingsAndAddsPartitions) {
  Admin admin(bootstrap());
  ASSERT_EQ(admin.create_topic("altered", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto run = fjord("topic alter altered --bootstrap-server " + bootstrap() + " --config retention.ms=123456");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  run =
      fjord("topic alter altered --bootstrap-server " + bootstrap() + " --config segment.bytes=1048576 --partitions 3");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  decltype(admin.describe_topic_configs("")) configs;  // read until the second change shows
  wait_until(
      [&] {
        configs = admin.describe_topic_configs("altered");
        return configs["segment.bytes"].first == "1048576";
      },
      std::chrono::seconds(10));
  EXPECT_EQ(configs["retention.ms"].first, "123456") << "an earlier setting stays";
  EXPECT_EQ(configs["segment.bytes"].first, "1048576");
  auto topics = nlohmann::json::parse(fjord("topic list --format json --bootstrap-server " + bootstrap()).output);
  bool found = false;
  for (const auto& t : topics) {
    if (t["topic"] == "altered") {
      EXPECT_EQ(t["partitions"], 3);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  run = fjord("topic alter altered --bootstrap-server " + bootstrap() + " --delete-config retention.ms");
  ASSERT_EQ(run.exit_status, 0) << run.output;
  // Apache Kafka applies a config change to its brokers' view asynchronously: a read right after may not show it.
  EXPECT_TRUE(wait_until(
      [&] {
        configs = admin.describe_topic_configs("altered");
        return configs["retention.ms"].second != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
      },
      std::chrono::seconds(10)))
      << "retention.ms is still set on the topic";
  EXPECT_EQ(configs["segment.bytes"].first, "1048576");
  // A setting the broker refuses is an error that names it.
  run = fjord("topic alter altered --bootstrap-server " + bootstrap() + " --config no.such.setting=1 2>&1");
  EXPECT_EQ(run.exit_status, 1) << run.output;
  EXPECT_NE(run.output.find("no.such.setting"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace fjord::testing
