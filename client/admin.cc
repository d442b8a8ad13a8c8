#include "client/admin.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace fjord::client {

AdminClient::AdminClient(const std::string& bootstrap, const std::map<std::string, std::string>& settings)
    : bootstrap_(bootstrap) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(error);
  }
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(error);
    }
  }
  rd_kafka_conf_set(conf, "log_level", "3", nullptr, 0);
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<AdminClient*>(opaque);
    if ((err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL) && self->refused_.empty()) {
      self->refused_ = reason;
    }
  });
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (!handle_) throw std::runtime_error(error);
  queue_ = rd_kafka_queue_new(handle_);
}

AdminClient::~AdminClient() {
  rd_kafka_queue_destroy(queue_);
  rd_kafka_destroy(handle_);
}

AdminEvent AdminClient::wait(const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAdminTimeoutMs + 5000);
  rd_kafka_event_t* event = nullptr;
  while (!event) {
    event = rd_kafka_queue_poll(queue_, 100);
    if (event) break;
    rd_kafka_poll(handle_, 0);  // serves the error callback, on this thread
    if (!refused_.empty()) throw std::runtime_error(std::string(what) + ": " + refused_);
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error(std::string(what) + ": no answer from the cluster");
    }
  }
  AdminEvent owned(event, rd_kafka_event_destroy);
  if (rd_kafka_event_error(event)) {
    throw std::runtime_error(std::string(what) + ": " + rd_kafka_event_error_string(event));
  }
  return owned;
}

rd_kafka_AdminOptions_t* AdminClient::options(rd_kafka_admin_op_t op) {
  auto* o = rd_kafka_AdminOptions_new(handle_, op);
  char error[256];
  rd_kafka_AdminOptions_set_request_timeout(o, kAdminTimeoutMs, error, sizeof(error));
  return o;
}

std::pair<int64_t, int64_t> AdminClient::watermarks(const std::string& topic, int32_t partition) {
  int64_t low = -1, high = -1;
  auto err = rd_kafka_query_watermark_offsets(handle_, topic.c_str(), partition, &low, &high, kAdminTimeoutMs);
  if (err) throw std::runtime_error(topic + "-" + std::to_string(partition) + ": " + rd_kafka_err2str(err));
  return {low, high};
}

std::vector<bool> AdminClient::create_topics(const std::vector<NewTopic>& topics, bool exist_ok) {
  char error[512];
  std::vector<rd_kafka_NewTopic_t*> requests;
  auto release = [&] { rd_kafka_NewTopic_destroy_array(requests.data(), requests.size()); };
  for (const auto& topic : topics) {
    auto* t =
        rd_kafka_NewTopic_new(topic.name.c_str(), topic.partitions, topic.replication_factor, error, sizeof(error));
    if (!t) {
      release();
      throw std::runtime_error(topic.name + ": " + error);
    }
    for (const auto& [key, value] : topic.configs) rd_kafka_NewTopic_set_config(t, key.c_str(), value.c_str());
    requests.push_back(t);
  }
  auto* o = options(RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_CreateTopics(handle_, requests.data(), requests.size(), o, queue_);
  rd_kafka_AdminOptions_destroy(o);
  release();
  auto event = wait("CreateTopics");
  size_t count = 0;
  auto** results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  std::vector<bool> created;
  for (size_t i = 0; i < count; ++i) {
    auto err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && exist_ok) {
      created.push_back(false);
    } else if (err) {
      throw std::runtime_error(std::string("creating ") + rd_kafka_topic_result_name(results[i]) + ": " +
                               rd_kafka_topic_result_error_string(results[i]));
    } else {
      created.push_back(true);
    }
  }
  return created;
}

}  // namespace fjord::client
