#include "tests/support/kafka_clients.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>

namespace fjord::testing {

GeneratedRecord generate_record(uint64_t seed, int64_t index) {
  std::mt19937_64 rng(seed * 1'000'003 + static_cast<uint64_t>(index));
  GeneratedRecord r;
  if (rng() % 5 != 0) r.key = "key-" + std::to_string(index);
  size_t size = 0;
  switch (rng() % 10) {
    case 0:
      size = 0;
      break;
    case 1:
      size = 16 * 1024 + rng() % 1024;
      break;
    default:
      size = rng() % 1500;
      break;
  }
  r.value.resize(size);
  // Half the records compress well, half do not.
  bool noisy = rng() % 2;
  for (size_t i = 0; i < size; ++i) r.value[i] = static_cast<char>(noisy ? rng() : 'a' + (i + index) % 26);
  int headers = static_cast<int>(rng() % 4);
  for (int h = 0; h < headers; ++h) r.headers.emplace_back("h" + std::to_string(h), std::to_string(index * 31 + h));
  return r;
}

std::unique_ptr<RdKafka::Conf> client_conf(const std::string& bootstrap,
                                           const std::map<std::string, std::string>& settings) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  for (const auto& [key, value] : settings) {
    if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK) throw std::runtime_error(error);
  }
  return conf;
}

TestProducer::TestProducer(const std::string& bootstrap, const std::map<std::string, std::string>& settings) {
  auto conf = client_conf(bootstrap, settings);
  std::string error;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), error);
  producer_.reset(RdKafka::Producer::create(conf.get(), error));
  if (!producer_) throw std::runtime_error(error);
}

TestProducer::~TestProducer() {
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer_->poll(0);
}

void TestProducer::produce(const std::string& topic, int32_t partition, uint64_t seed, int64_t index) {
  auto record = generate_record(seed, index);
  for (;;) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& [k, v] : record.headers) headers->add(k, v);
    auto err =
        producer_->produce(topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(record.value.data()),
                           record.value.size(), record.key ? record.key->data() : nullptr,
                           record.key ? record.key->size() : 0, 0, headers, reinterpret_cast<void*>(index));
    if (err == RdKafka::ERR_NO_ERROR) return;
    delete headers;
    if (err != RdKafka::ERR__QUEUE_FULL) throw std::runtime_error(RdKafka::err2str(err));
    producer_->poll(10);
  }
}

bool TestProducer::flush(int timeout_ms) { return producer_->flush(timeout_ms) == RdKafka::ERR_NO_ERROR; }

void TestProducer::dr_cb(RdKafka::Message& message) {
  auto index = reinterpret_cast<int64_t>(message.msg_opaque());
  deliveries[index] = Delivery{message.partition(), message.offset(), message.err()};
}

std::vector<ConsumedRecord> consume(const std::string& bootstrap, const std::string& topic,
                                    const std::vector<int32_t>& partitions, int64_t from_offset, size_t expected,
                                    int timeout_ms, const std::map<std::string, std::string>& settings) {
  auto conf = client_conf(bootstrap, settings);
  std::string error;
  std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(conf.get(), error));
  if (!consumer) throw std::runtime_error(error);
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer.get(), topic, nullptr, error));
  std::unique_ptr<RdKafka::Queue> queue(RdKafka::Queue::create(consumer.get()));
  for (int32_t p : partitions) consumer->start(handle.get(), p, from_offset, queue.get());
  std::vector<ConsumedRecord> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(queue.get(), 100));
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (m->err()) throw std::runtime_error("consume: " + m->errstr());
    ConsumedRecord r;
    r.partition = m->partition();
    r.offset = m->offset();
    r.timestamp = m->timestamp().timestamp;
    if (m->key()) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    r.null_value = m->payload() == nullptr;
    if (auto* headers = m->headers()) {
      for (const auto& h : headers->get_all()) {
        r.headers.emplace_back(h.key(), std::string(static_cast<const char*>(h.value()), h.value_size()));
      }
    }
    out.push_back(std::move(r));
  }
  for (int32_t p : partitions) consumer->stop(handle.get(), p);
  return out;
}

Admin::Admin(const std::string& bootstrap, const std::map<std::string, std::string>& settings) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error));
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(error);
    }
  }
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (!handle_) throw std::runtime_error(error);
}

Admin::~Admin() { rd_kafka_destroy(handle_); }

rd_kafka_event_t* Admin::wait(rd_kafka_queue_t* queue) {
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 20000);
  if (!event) throw std::runtime_error("admin request timed out");
  return event;
}

namespace {

rd_kafka_resp_err_t first_topic_error(const rd_kafka_topic_result_t** results, size_t count,
                                      rd_kafka_resp_err_t request_error) {
  if (request_error) return request_error;
  return count ? rd_kafka_topic_result_error(results[0]) : RD_KAFKA_RESP_ERR__FAIL;
}

}  // namespace

rd_kafka_resp_err_t Admin::create_topic(const std::string& name, int partitions,
                                        const std::map<std::string, std::string>& configs, int replication) {
  char error[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(name.c_str(), partitions, replication, error, sizeof(error));
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(topic, k.c_str(), v.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  rd_kafka_CreateTopics(handle_, &topic, 1, nullptr, queue);
  rd_kafka_event_t* event = wait(queue);
  size_t count = 0;
  const auto* result = rd_kafka_event_CreateTopics_result(event);
  auto** topics = result ? rd_kafka_CreateTopics_result_topics(result, &count) : nullptr;
  auto err = first_topic_error(topics, count, rd_kafka_event_error(event));
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  return err;
}

rd_kafka_resp_err_t Admin::delete_topic(const std::string& name) {
  rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(name.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  rd_kafka_DeleteTopics(handle_, &topic, 1, nullptr, queue);
  rd_kafka_event_t* event = wait(queue);
  size_t count = 0;
  const auto* result = rd_kafka_event_DeleteTopics_result(event);
  auto** topics = result ? rd_kafka_DeleteTopics_result_topics(result, &count) : nullptr;
  auto err = first_topic_error(topics, count, rd_kafka_event_error(event));
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_DeleteTopic_destroy(topic);
  return err;
}

rd_kafka_resp_err_t Admin::create_partitions(const std::string& name, int total) {
  char error[512];
  rd_kafka_NewPartitions_t* parts =
      rd_kafka_NewPartitions_new(name.c_str(), static_cast<size_t>(total), error, sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  rd_kafka_CreatePartitions(handle_, &parts, 1, nullptr, queue);
  rd_kafka_event_t* event = wait(queue);
  size_t count = 0;
  const auto* result = rd_kafka_event_CreatePartitions_result(event);
  auto** topics = result ? rd_kafka_CreatePartitions_result_topics(result, &count) : nullptr;
  auto err = first_topic_error(topics, count, rd_kafka_event_error(event));
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewPartitions_destroy(parts);
  return err;
}

std::map<std::string, std::pair<std::string, rd_kafka_ConfigSource_t>> Admin::describe_topic_configs(
    const std::string& name, rd_kafka_resp_err_t* error_out) {
  rd_kafka_ConfigResource_t* resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  rd_kafka_DescribeConfigs(handle_, &resource, 1, nullptr, queue);
  rd_kafka_event_t* event = wait(queue);
  std::map<std::string, std::pair<std::string, rd_kafka_ConfigSource_t>> out;
  rd_kafka_resp_err_t err = rd_kafka_event_error(event);
  if (!err) {
    size_t count = 0;
    const auto** resources =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(event), &count);
    err = count ? rd_kafka_ConfigResource_error(resources[0]) : RD_KAFKA_RESP_ERR__FAIL;
    if (!err) {
      size_t n = 0;
      const auto** entries = rd_kafka_ConfigResource_configs(resources[0], &n);
      for (size_t i = 0; i < n; ++i) {
        const char* value = rd_kafka_ConfigEntry_value(entries[i]);
        out[rd_kafka_ConfigEntry_name(entries[i])] = {value ? value : "", rd_kafka_ConfigEntry_source(entries[i])};
      }
    }
  }
  if (error_out) *error_out = err;
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_ConfigResource_destroy(resource);
  return out;
}

rd_kafka_resp_err_t Admin::alter_topic_configs(const std::string& name,
                                               const std::map<std::string, std::string>& configs) {
  rd_kafka_ConfigResource_t* resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  for (const auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(resource, k.c_str(), v.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  rd_kafka_AlterConfigs(handle_, &resource, 1, nullptr, queue);
  rd_kafka_event_t* event = wait(queue);
  rd_kafka_resp_err_t err = rd_kafka_event_error(event);
  if (!err) {
    size_t count = 0;
    const auto** resources = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event), &count);
    err = count ? rd_kafka_ConfigResource_error(resources[0]) : RD_KAFKA_RESP_ERR__FAIL;
  }
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_ConfigResource_destroy(resource);
  return err;
}

int64_t Admin::delete_records(const std::string& topic, int32_t partition, int64_t before,
                              rd_kafka_resp_err_t* error_out) {
  rd_kafka_topic_partition_list_t* offsets = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(offsets, topic.c_str(), partition)->offset = before;
  rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(offsets);
  rd_kafka_topic_partition_list_destroy(offsets);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(handle_);
  rd_kafka_DeleteRecords(handle_, &request, 1, nullptr, queue);
  rd_kafka_event_t* event = wait(queue);
  int64_t low = -1;
  rd_kafka_resp_err_t err = rd_kafka_event_error(event);
  if (!err) {
    const auto* list = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event));
    err = list->cnt ? list->elems[0].err : RD_KAFKA_RESP_ERR__FAIL;
    if (!err) low = list->elems[0].offset;
  }
  if (error_out) *error_out = err;
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_DeleteRecords_destroy(request);
  return low;
}

std::vector<std::string> Admin::list_topics() {
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(handle_, 1, nullptr, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("metadata request failed");
  }
  std::vector<std::string> names;
  for (int i = 0; i < metadata->topic_cnt; ++i) names.emplace_back(metadata->topics[i].topic);
  rd_kafka_metadata_destroy(metadata);
  return names;
}

int Admin::partition_count(const std::string& topic) {
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(handle_, 1, nullptr, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  int count = -1;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (topic == metadata->topics[i].topic) count = metadata->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  return count;
}

void commit(const std::string& bootstrap, const std::string& group, const std::string& topic, int64_t offset) {
  auto conf = client_conf(bootstrap, {{"group.id", group}, {"enable.auto.commit", "false"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  std::vector<RdKafka::TopicPartition*> offsets{RdKafka::TopicPartition::create(topic, 0, offset)};
  // A cluster just started may still be electing or loading the group's coordinator (Apache Kafka creates its
  // offsets topic on the first FindCoordinator): such a commit is made again, as an application would.
  auto result = consumer->commitSync(offsets);
  for (int attempt = 1;
       attempt < 40 && (result == RdKafka::ERR_NOT_COORDINATOR || result == RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                        result == RdKafka::ERR_COORDINATOR_NOT_AVAILABLE);
       ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    result = consumer->commitSync(offsets);
  }
  ASSERT_EQ(result, RdKafka::ERR_NO_ERROR) << RdKafka::err2str(result);
  RdKafka::TopicPartition::destroy(offsets);
  consumer->close();
}

}  // namespace fjord::testing
