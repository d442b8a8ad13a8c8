#include "cli/admin_client.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace fjord::cli {

AdminClient::AdminClient(const std::string& bootstrap) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(error);
  }
  rd_kafka_conf_set(conf, "log_level", "3", nullptr, 0);
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (!handle_) throw std::runtime_error(error);
  queue_ = rd_kafka_queue_new(handle_);
}

AdminClient::~AdminClient() {
  rd_kafka_queue_destroy(queue_);
  rd_kafka_destroy(handle_);
}

AdminEvent AdminClient::wait(const char* what) {
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue_, kAdminTimeoutMs + 5000);
  if (!event) throw std::runtime_error(std::string(what) + ": no answer from the cluster");
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

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 1, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

int failed(const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}

}  // namespace fjord::cli
