#include "cli/produce_command.h"

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/admin_client.h"
#include "cli/client_security.h"
#include "cli/record_text.h"
#include "client/config.h"

namespace fjord::cli {
namespace {

// Counts deliveries and prints the JSON report of each from librdkafka's poll (this thread: flush/poll call it).
class Reports : public RdKafka::DeliveryReportCb {
 public:
  explicit Reports(bool json) : json_(json) {}
  void dr_cb(RdKafka::Message& message) override {
    if (message.err()) {
      ++failed_;
      std::fprintf(stderr, "error: record %ld: %s\n",
                   static_cast<long>(reinterpret_cast<intptr_t>(message.msg_opaque())), message.errstr().c_str());
    } else {
      ++delivered_;
    }
    if (json_) {
      nlohmann::json report = {{"topic", message.topic_name()},
                               {"partition", message.partition()},
                               {"offset", message.err() ? nlohmann::json(nullptr) : nlohmann::json(message.offset())},
                               {"error", message.err() ? nlohmann::json(message.errstr()) : nlohmann::json(nullptr)}};
      std::printf("%s\n", report.dump().c_str());
    }
  }
  long delivered() const { return delivered_; }
  long failed() const { return failed_; }

 private:
  bool json_;
  long delivered_ = 0;
  long failed_ = 0;
};

std::pair<std::string, std::string> split_setting(const std::string& setting, const char* what) {
  const auto eq = setting.find('=');
  if (eq == std::string::npos || eq == 0)
    throw std::invalid_argument(std::string(what) + " " + setting + ": expected name=value");
  return {setting.substr(0, eq), setting.substr(eq + 1)};
}

}  // namespace

int run_produce(const ProduceOptions& options) try {
  if (options.acks != "all" && options.acks != "-1" && options.acks != "1" && options.acks != "0") {
    std::fprintf(stderr, "error: --acks takes all, 1 or 0\n");
    return 2;
  }
  client::ProducerSettings settings;
  settings.bootstrap_servers = options.bootstrap;
  settings.properties = with_client_security({});
  for (const auto& p : options.properties) {
    auto [name, value] = split_setting(p, "--property");
    settings.properties[name] = value;
  }
  settings.properties["acks"] = options.acks;
  settings.properties.try_emplace("client.id", "fjord-produce");
  settings.allow_unsafe = true;  // what the user asked for, said out loud below
  std::vector<std::string> warnings;
  auto properties = client::producer_properties(settings, &warnings);
  for (const auto& warning : warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  std::vector<std::pair<std::string, std::string>> common_headers;
  for (const auto& h : options.headers) common_headers.push_back(split_setting(h, "--header"));

  Reports reports(options.format == "json");
  auto conf = client::make_conf(properties);
  std::string error;
  if (conf->set("dr_cb", &reports, error) != RdKafka::Conf::CONF_OK) throw std::runtime_error(error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  if (!producer) throw std::runtime_error(error);

  long sent = 0, line_number = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    TextRecord record;
    try {
      record = options.input == "json" ? parse_json(line, options.base64) : parse_line(line, options.key_separator);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "error: line %ld: %s\n", line_number, e.what());
      producer->flush(30000);
      return 1;
    }
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& [name, value] : common_headers) headers->add(name, value);
    for (const auto& [name, value] : record.headers) {
      if (value) {
        headers->add(name, value->data(), value->size());
      } else {
        headers->add(name, nullptr, 0);
      }
    }
    const int32_t partition = record.partition.value_or(options.partition.value_or(RdKafka::Topic::PARTITION_UA));
    for (;;) {
      auto err = producer->produce(options.topic, partition, RdKafka::Producer::RK_MSG_COPY,
                                   record.value ? const_cast<char*>(record.value->data()) : nullptr,
                                   record.value ? record.value->size() : 0, record.key ? record.key->data() : nullptr,
                                   record.key ? record.key->size() : 0, 0, headers,
                                   reinterpret_cast<void*>(static_cast<intptr_t>(line_number)));
      if (err == RdKafka::ERR__QUEUE_FULL) {
        producer->poll(100);
        continue;
      }
      if (err != RdKafka::ERR_NO_ERROR) {
        delete headers;  // librdkafka took them only on success
        std::fprintf(stderr, "error: line %ld: %s\n", line_number, RdKafka::err2str(err).c_str());
        producer->flush(30000);
        return 1;
      }
      break;
    }
    ++sent;
    producer->poll(0);
  }
  if (producer->flush(60000) != RdKafka::ERR_NO_ERROR) {
    std::fprintf(stderr, "error: %ld records were not acknowledged within 60 s\n", sent - reports.delivered());
    return 1;
  }
  if (options.format != "json")
    std::fprintf(stderr, "%ld records produced to %s (%ld failed)\n", reports.delivered(), options.topic.c_str(),
                 reports.failed());
  return reports.failed() == 0 && reports.delivered() == sent ? 0 : 1;
} catch (const std::exception& e) {
  return failed(e);
}

}  // namespace fjord::cli
