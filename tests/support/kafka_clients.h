// Test support: librdkafka (C++ API for producing and consuming, C API for admin operations) used the way an
// application would, plus a deterministic record generator so that what comes back can be checked byte by byte.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fjord::testing {

// Record i of a run: mixed sizes (empty to 16 KiB, a few larger), keys present or null, 0-3 headers.
struct GeneratedRecord {
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};
GeneratedRecord generate_record(uint64_t seed, int64_t index);

std::unique_ptr<RdKafka::Conf> client_conf(const std::string& bootstrap,
                                           const std::map<std::string, std::string>& settings = {});

struct Delivery {
  int32_t partition;
  int64_t offset;
  RdKafka::ErrorCode error;
};

// A producer whose delivery reports are collected (opaque = record index).
class TestProducer : public RdKafka::DeliveryReportCb {
 public:
  TestProducer(const std::string& bootstrap, const std::map<std::string, std::string>& settings);
  ~TestProducer() override;
  // Produces record `index` of `seed` to `partition`; retries while the local queue is full.
  void produce(const std::string& topic, int32_t partition, uint64_t seed, int64_t index);
  bool flush(int timeout_ms);
  void dr_cb(RdKafka::Message& message) override;
  RdKafka::Producer& handle() { return *producer_; }
  // index -> delivery
  std::map<int64_t, Delivery> deliveries;

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

struct ConsumedRecord {
  int32_t partition;
  int64_t offset;
  int64_t timestamp;
  std::optional<std::string> key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  bool null_value = false;  // a tombstone
};

// Reads partitions from `from_offset` until `expected` records arrived or `timeout_ms` passed.
std::vector<ConsumedRecord> consume(const std::string& bootstrap, const std::string& topic,
                                    const std::vector<int32_t>& partitions, int64_t from_offset, size_t expected,
                                    int timeout_ms, const std::map<std::string, std::string>& settings = {});

// Admin operations through librdkafka's C API. Each returns the error code librdkafka reported for the topic.
class Admin {
 public:
  // `settings` are librdkafka's (security.protocol, sasl.*, ...).
  explicit Admin(const std::string& bootstrap, const std::map<std::string, std::string>& settings = {});
  ~Admin();
  rd_kafka_resp_err_t create_topic(const std::string& name, int partitions,
                                   const std::map<std::string, std::string>& configs = {}, int replication = 1);
  rd_kafka_resp_err_t delete_topic(const std::string& name);
  rd_kafka_resp_err_t create_partitions(const std::string& name, int total);
  // name -> (value, source)
  std::map<std::string, std::pair<std::string, rd_kafka_ConfigSource_t>> describe_topic_configs(
      const std::string& name, rd_kafka_resp_err_t* error = nullptr);
  rd_kafka_resp_err_t alter_topic_configs(const std::string& name, const std::map<std::string, std::string>& configs);
  // Returns the new low watermark, or -1 with the error.
  int64_t delete_records(const std::string& topic, int32_t partition, int64_t before, rd_kafka_resp_err_t* error);
  // Topic names the cluster reports.
  std::vector<std::string> list_topics();
  int partition_count(const std::string& topic);

 private:
  rd_kafka_event_t* wait(rd_kafka_queue_t* queue);
  rd_kafka_t* handle_;
};

// Commits `offset` for partition 0 of `topic` as `group`, from a consumer that does not join the group.
void commit(const std::string& bootstrap, const std::string& group, const std::string& topic, int64_t offset);

}  // namespace fjord::testing
