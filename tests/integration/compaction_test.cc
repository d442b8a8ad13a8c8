// Log compaction seen by a real client (librdkafka): a keyed topic with many versions per key and tombstones
// comes back, read from the start, as exactly the latest value of every live key, and tombstones go after
// delete.retention.ms; the bytes on disk shrink; an idempotent producer whose batches were compacted away keeps
// producing; a consumer whose committed offset fell into a compacted gap continues; __consumer_offsets is
// compacted, so a restart reloads a bounded amount whatever the commit history.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"

namespace fjord::testing {
namespace {

using namespace std::chrono_literals;

class KeyedProducer : public RdKafka::DeliveryReportCb {
 public:
  KeyedProducer(const std::string& bootstrap, const std::map<std::string, std::string>& settings = {}) {
    auto conf = client_conf(bootstrap, settings);
    std::string error;
    conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error);
    producer_.reset(RdKafka::Producer::create(conf.get(), error));
    if (!producer_) throw std::runtime_error(error);
  }
  void send(const std::string& topic, const std::string& key, const std::optional<std::string>& value) {
    for (;;) {
      auto err = producer_->produce(topic, 0, RdKafka::Producer::RK_MSG_COPY,
                                    value ? const_cast<char*>(value->data()) : nullptr, value ? value->size() : 0,
                                    key.data(), key.size(), 0, nullptr);
      if (err != RdKafka::ERR__QUEUE_FULL) break;
      producer_->poll(10);
    }
    producer_->poll(0);
  }
  bool flush(int timeout_ms = 30000) { return producer_->flush(timeout_ms) == RdKafka::ERR_NO_ERROR; }
  void dr_cb(RdKafka::Message& message) override {
    if (message.err()) {
      errors.push_back(message.errstr());
    } else {
      ++delivered;
    }
  }
  std::vector<std::string> errors;
  int delivered = 0;

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

int64_t high_watermark(const std::string& bootstrap, const std::string& topic) {
  auto conf = client_conf(bootstrap);
  std::string error;
  std::unique_ptr<RdKafka::Producer> handle(RdKafka::Producer::create(conf.get(), error));
  int64_t low = 0, high = 0;
  if (handle->query_watermark_offsets(topic, 0, &low, &high, 10000) != RdKafka::ERR_NO_ERROR) return -1;
  return high;
}

// Everything partition 0 holds, from the start to its high watermark.
std::vector<ConsumedRecord> read_everything(const std::string& bootstrap, const std::string& topic) {
  const int64_t end = high_watermark(bootstrap, topic);
  std::vector<ConsumedRecord> all;
  int64_t from = RdKafka::Topic::OFFSET_BEGINNING;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline && (all.empty() || all.back().offset + 1 < end)) {
    auto some = consume(bootstrap, topic, {0}, from, 1000000, 1500);
    if (some.empty()) continue;
    for (auto& r : some) {
      if (!all.empty() && r.offset <= all.back().offset) continue;
      all.push_back(std::move(r));
    }
    from = all.back().offset + 1;
  }
  return all;
}

int64_t bytes_of_logs(const std::string& directory) {
  int64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == ".log") total += static_cast<int64_t>(entry.file_size());
  }
  return total;
}

std::string value_for(int key, int version) {
  std::string value = "key-" + std::to_string(key) + "-version-" + std::to_string(version) + "-";
  value.resize(100, '.');
  return value;
}

class CompactionTest : public ::testing::Test {
 protected:
  void SetUp() override { broker.start(); }
  BrokerProcess broker{{"--set", "log.cleaner.backoff.ms=100"}};
};

TEST_F(CompactionTest, AConsumerFromTheStartSeesTheLatestValueOfEveryLiveKeyAndTombstonesGo) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("table", 1,
                               {{"cleanup.policy", "compact"},
                                {"segment.bytes", "65536"},
                                {"segment.ms", "1000"},
                                {"min.cleanable.dirty.ratio", "0.01"},
                                {"delete.retention.ms", "3000"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  constexpr int kKeys = 200, kVersions = 20, kDeleted = 25;
  KeyedProducer producer(broker.bootstrap(), {{"linger.ms", "5"}});
  for (int version = 0; version < kVersions; ++version) {
    for (int key = 0; key < kKeys; ++key) producer.send("table", "key-" + std::to_string(key), value_for(key, version));
  }
  for (int key = 0; key < kDeleted; ++key) producer.send("table", "key-" + std::to_string(key), std::nullopt);
  ASSERT_TRUE(producer.flush());
  ASSERT_TRUE(producer.errors.empty()) << producer.errors.front();
  const std::string directory = broker.data_dir() + "/table-0";
  const int64_t bytes_before = bytes_of_logs(directory);
  // Every record was written (the cleaner may already be at work on the sealed segments).
  ASSERT_EQ(high_watermark(broker.bootstrap(), "table"), int64_t{kKeys * kVersions + kDeleted});

  // The active segment is never cleaned: a record after segment.ms rolls it (as with Kafka). Fresh records keep
  // coming, as on a live topic, so that later passes find dirty segments and tombstones can expire.
  auto started = std::chrono::steady_clock::now();
  auto check = [&](bool tombstones_expected) {
    auto records = read_everything(broker.bootstrap(), "table");
    std::map<std::string, int> seen;
    int64_t previous = -1;
    for (const auto& r : records) {
      EXPECT_GT(r.offset, previous);
      previous = r.offset;
      if (!r.key || r.key->starts_with("filler")) continue;
      ++seen[*r.key];
      const int key = std::stoi(r.key->substr(4));
      if (key < kDeleted) {
        if (!r.null_value) return false;  // an older version of a deleted key: not cleaned yet
      } else if (r.value != value_for(key, kVersions - 1)) {
        return false;
      }
    }
    for (int key = 0; key < kKeys; ++key) {
      const int count = seen.count("key-" + std::to_string(key)) ? seen["key-" + std::to_string(key)] : 0;
      const bool deleted = key < kDeleted;
      if (count > 1) return false;
      if (!deleted && count != 1) {
        ADD_FAILURE() << "live key-" << key << " is missing";
        return true;
      }
      if (deleted && count != (tombstones_expected ? 1 : 0)) return false;
    }
    return true;
  };
  bool compacted = false;
  for (int round = 0; round < 60 && !compacted; ++round) {
    std::this_thread::sleep_for(500ms);
    producer.send("table", "filler-" + std::to_string(round % 2), std::string(100, 'f'));
    producer.flush();
    compacted = check(true);
  }
  const double seconds_to_compact = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(compacted) << "the latest value of every key, and one tombstone per deleted key, never came back alone";
  std::cout << "compacted after " << seconds_to_compact << " s\n";
  const int64_t bytes_after = bytes_of_logs(directory);
  // Measured against what was written, not against the disk before: the cleaner may have been through most of it
  // by the time that was read (under load it had: 58,794 bytes on disk of some 400,000 written).
  constexpr int64_t kValueBytesWritten = int64_t{kKeys} * kVersions * 100;
  EXPECT_LT(bytes_after, kValueBytesWritten / 5)
      << "written " << kValueBytesWritten << " bytes of values; on disk before " << bytes_before << ", after "
      << bytes_after;

  // delete.retention.ms after the pass that first cleaned them, the tombstones go too.
  bool tombstones_gone = false;
  for (int round = 0; round < 60 && !tombstones_gone; ++round) {
    std::this_thread::sleep_for(500ms);
    producer.send("table", "filler-" + std::to_string(round % 2), std::string(100, 'f'));
    producer.flush();
    tombstones_gone = check(false);
  }
  EXPECT_TRUE(tombstones_gone) << "tombstones outlived delete.retention.ms";
  EXPECT_GT(broker.metric("fjord_log_cleaner_passes_total"), 0);
  EXPECT_NE(broker.metrics().find("fjord_log_dirty_ratio{partition=\"0\",topic=\"table\"}"), std::string::npos)
      << "the partition's dirty ratio is in /metrics";
  EXPECT_GT(broker.metric("fjord_log_cleaner_reclaimed_bytes_total"), 0);
}

TEST_F(CompactionTest, ARecordWithoutAKeyIsRefused) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("keyed", 1, {{"cleanup.policy", "compact"}}), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto conf = client_conf(broker.bootstrap(), {{"retries", "0"}});
  std::string error;
  struct Report : RdKafka::DeliveryReportCb {
    RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;
    bool done = false;
    void dr_cb(RdKafka::Message& m) override {
      error = m.err();
      done = true;
    }
  } report;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&report), error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  std::string value = "no key";
  producer->produce("keyed", 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr, 0, 0, nullptr);
  producer->flush(10000);
  ASSERT_TRUE(report.done);
  EXPECT_EQ(report.error, RdKafka::ERR_INVALID_RECORD);
  // An empty key is a key.
  report = Report{};
  std::string empty;
  producer->produce("keyed", 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), empty.data(), 0, 0,
                    nullptr);
  producer->flush(10000);
  ASSERT_TRUE(report.done);
  EXPECT_EQ(report.error, RdKafka::ERR_NO_ERROR);
}

TEST_F(CompactionTest, AnIdempotentProducerWhoseBatchesWereCompactedAwayKeepsProducing) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("states", 1,
                               {{"cleanup.policy", "compact"},
                                {"segment.bytes", "16384"},
                                {"segment.ms", "500"},
                                {"min.cleanable.dirty.ratio", "0.01"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  KeyedProducer idempotent(broker.bootstrap(), {{"enable.idempotence", "true"}, {"linger.ms", "5"}});
  for (int i = 0; i < 300; ++i) idempotent.send("states", "key-" + std::to_string(i % 10), value_for(i % 10, i));
  ASSERT_TRUE(idempotent.flush());
  // Another producer overwrites every key, so that all of the idempotent producer's records may go.
  KeyedProducer other(broker.bootstrap(), {{"linger.ms", "5"}});
  for (int round = 0; round < 30; ++round) {
    for (int k = 0; k < 10; ++k) other.send("states", "key-" + std::to_string(k), value_for(k, 1000 + round));
    other.flush();
    if (round % 5 == 4) std::this_thread::sleep_for(600ms);  // segments roll by segment.ms
  }
  bool cleaned = false;
  for (int round = 0; round < 60 && !cleaned; ++round) {
    std::this_thread::sleep_for(500ms);
    other.send("states", "filler", "x");
    other.flush();
    auto records = read_everything(broker.bootstrap(), "states");
    cleaned = std::none_of(records.begin(), records.end(), [](const ConsumedRecord& r) {
      return r.value.find("-version-") != std::string::npos &&
             std::stoi(r.value.substr(r.value.find("-version-") + 9)) < 1000;
    });
  }
  ASSERT_TRUE(cleaned) << "the idempotent producer's records were never compacted away";
  // Its state survives in the broker (its last batch is kept, emptied), across a restart too.
  broker.stop();
  broker.start();
  for (int i = 0; i < 50; ++i) idempotent.send("states", "key-" + std::to_string(i % 10), value_for(i % 10, 5000 + i));
  ASSERT_TRUE(idempotent.flush());
  EXPECT_TRUE(idempotent.errors.empty()) << idempotent.errors.front();
  EXPECT_EQ(idempotent.delivered, 350);
}

TEST_F(CompactionTest, AConsumerWhoseCommittedOffsetFellIntoACompactedGapContinues) {
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("gappy", 1,
                               {{"cleanup.policy", "compact"},
                                {"segment.bytes", "8192"},
                                {"segment.ms", "500"},
                                {"min.cleanable.dirty.ratio", "0.01"}}),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  KeyedProducer producer(broker.bootstrap(), {{"linger.ms", "5"}});
  for (int i = 0; i < 100; ++i) producer.send("gappy", "same-key", value_for(0, i));
  for (int i = 0; i < 100; ++i) producer.send("gappy", "other-" + std::to_string(i % 5), value_for(1, i));
  ASSERT_TRUE(producer.flush());
  // The group has processed up to offset 50: inside the run of same-key versions that compaction removes.
  auto conf = client_conf(broker.bootstrap(),
                          {{"group.id", "reader"}, {"enable.auto.commit", "false"}, {"auto.offset.reset", "error"}});
  std::string error;
  {
    std::unique_ptr<RdKafka::KafkaConsumer> committer(RdKafka::KafkaConsumer::create(conf.get(), error));
    std::vector<RdKafka::TopicPartition*> offsets{RdKafka::TopicPartition::create("gappy", 0, 50)};
    ASSERT_EQ(committer->commitSync(offsets), RdKafka::ERR_NO_ERROR);
    RdKafka::TopicPartition::destroy(offsets);
    committer->close();
  }
  bool gap = false;
  for (int round = 0; round < 60 && !gap; ++round) {
    std::this_thread::sleep_for(500ms);
    producer.send("gappy", "filler", "x");
    producer.flush();
    auto records = read_everything(broker.bootstrap(), "gappy");
    gap =
        !records.empty() && std::none_of(records.begin(), records.end(), [](const auto& r) { return r.offset == 50; });
  }
  ASSERT_TRUE(gap) << "offset 50 was never compacted away";
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  consumer->subscribe({"gappy"});
  std::vector<int64_t> offsets;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (offsets.empty() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      offsets.push_back(m->offset());
    } else if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) {
      FAIL() << "the consumer could not continue from its committed offset: " << m->errstr();
    }
  }
  consumer->close();
  ASSERT_FALSE(offsets.empty());
  EXPECT_GT(offsets.front(), 50) << "it continues at the next surviving record";
  EXPECT_LE(offsets.front(), 100) << "same-key's latest version (offset 99) or the next record";
}

}  // namespace
}  // namespace fjord::testing

namespace fjord::testing {
namespace {

int64_t directory_bytes(const std::string& directory) {
  int64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    // Replaced segments linger as *.deleted for file.delete.delay.ms: they are no longer part of the log.
    if (entry.is_regular_file() && entry.path().extension() != ".deleted") {
      total += static_cast<int64_t>(entry.file_size());
    }
  }
  return total;
}

// Every commit of a group stays in __consumer_offsets unless it is compacted: with compaction the partition keeps
// about one record per group and partition, and a restart reloads that, not the history.
TEST(OffsetsCompaction, ConsumerOffsetsKeepsTheLatestCommitsAndAReloadReadsOnlyThose) {
  BrokerProcess broker({"--set", "log.cleaner.backoff.ms=100", "--set", "offsets.topic.num.partitions=1", "--set",
                        "offsets.topic.segment.bytes=65536"});
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("work", 10), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto conf = client_conf(broker.bootstrap(), {{"group.id", "committer"}, {"enable.auto.commit", "false"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  constexpr int kCommits = 2000;
  for (int i = 1; i <= kCommits; ++i) {
    std::vector<RdKafka::TopicPartition*> offsets;
    for (int p = 0; p < 10; ++p) offsets.push_back(RdKafka::TopicPartition::create("work", p, i * 10 + p));
    ASSERT_EQ(consumer->commitSync(offsets), RdKafka::ERR_NO_ERROR);
    RdKafka::TopicPartition::destroy(offsets);
  }
  consumer->close();
  consumer.reset();
  const std::string directory = broker.data_dir() + "/__consumer_offsets-0";
  // 20,000 commit records of about 100 bytes: some 2 MB of history, of which ten records are current.
  bool small = false;
  int64_t bytes = 0;
  for (int round = 0; round < 100 && !small; ++round) {
    std::this_thread::sleep_for(200ms);
    bytes = directory_bytes(directory);
    small = bytes < 3 * 65536 + 16384;  // the active segment, a cleaned one and index files
  }
  EXPECT_TRUE(small) << "__consumer_offsets-0 still holds " << bytes << " bytes:\n"
                     << run_command("ls -l " + directory);
  EXPECT_GT(broker.metric("fjord_log_cleaner_removed_records_total"), kCommits * 10 / 2);

  // Restarted, the group's offsets are the last ones committed.
  broker.stop();
  broker.start();
  consumer.reset(RdKafka::KafkaConsumer::create(conf.get(), error));
  std::vector<RdKafka::TopicPartition*> wanted;
  for (int p = 0; p < 10; ++p) wanted.push_back(RdKafka::TopicPartition::create("work", p));
  ASSERT_EQ(consumer->committed(wanted, 20000), RdKafka::ERR_NO_ERROR);
  for (int p = 0; p < 10; ++p) EXPECT_EQ(wanted[p]->offset(), kCommits * 10 + p) << "partition " << p;
  RdKafka::TopicPartition::destroy(wanted);
  consumer->close();
}

}  // namespace
}  // namespace fjord::testing
