#include "cli/consume_command.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "cli/admin_client.h"
#include "cli/client_security.h"
#include "cli/record_text.h"
#include "client/config.h"

namespace fjord::cli {
namespace {

std::atomic<bool> interrupted{false};

TextRecord from_message(RdKafka::Message& message) {
  TextRecord record;
  record.topic = message.topic_name();
  record.partition = message.partition();
  record.offset = message.offset();
  record.timestamp = message.timestamp().timestamp;
  if (message.key_pointer())
    record.key = std::string(static_cast<const char*>(message.key_pointer()), message.key_len());
  if (message.payload()) record.value = std::string(static_cast<const char*>(message.payload()), message.len());
  if (const RdKafka::Headers* headers = message.headers()) {
    for (const auto& h : headers->get_all()) {
      if (h.value()) {
        record.headers.emplace_back(h.key(), std::string(static_cast<const char*>(h.value()), h.value_size()));
      } else {
        record.headers.emplace_back(h.key(), std::nullopt);
      }
    }
  }
  return record;
}

std::vector<int32_t> partitions_of_topic(RdKafka::KafkaConsumer& consumer, const std::string& topic) {
  std::string error;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(&consumer, topic, nullptr, error));
  if (!handle) throw std::runtime_error(error);
  RdKafka::Metadata* raw = nullptr;
  auto err = consumer.metadata(false, handle.get(), &raw, kAdminTimeoutMs);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error(topic + ": " + RdKafka::err2str(err));
  std::vector<int32_t> out;
  for (const auto* t : *metadata->topics()) {
    if (t->topic() != topic) continue;
    if (t->err() != RdKafka::ERR_NO_ERROR) throw std::runtime_error(topic + ": " + RdKafka::err2str(t->err()));
    for (const auto* p : *t->partitions()) out.push_back(p->id());
  }
  if (out.empty()) throw std::runtime_error(topic + ": no such topic");
  return out;
}

}  // namespace

int run_consume(const ConsumeOptions& options) try {
  client::Properties properties;
  for (const auto& p : options.properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--property " + p + ": expected name=value");
    properties[p.substr(0, eq)] = p.substr(eq + 1);
  }
  properties["bootstrap.servers"] = options.bootstrap;
  // Without --group the consumer assigns partitions itself; librdkafka still wants a group id, never used then.
  properties["group.id"] = options.group.value_or("fjord-consume");
  properties["enable.auto.commit"] = "false";
  properties["enable.auto.offset.store"] = "false";
  properties["enable.partition.eof"] = options.exit_at_end ? "true" : "false";
  properties["auto.offset.reset"] = options.from_beginning ? "earliest" : "latest";
  properties["isolation.level"] = options.isolation;
  properties.try_emplace("client.id", "fjord-consume");
  auto conf = client::make_conf(with_client_security(std::move(properties)));
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) throw std::runtime_error(error);

  if (options.group) {
    auto err = consumer->subscribe({options.topic});
    if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error("subscribe: " + RdKafka::err2str(err));
  } else {
    std::vector<RdKafka::TopicPartition*> assignment;
    const int64_t start = options.from_beginning ? RdKafka::Topic::OFFSET_BEGINNING : RdKafka::Topic::OFFSET_END;
    for (int32_t p :
         options.partition ? std::vector<int32_t>{*options.partition} : partitions_of_topic(*consumer, options.topic)) {
      assignment.push_back(RdKafka::TopicPartition::create(options.topic, p, start));
    }
    auto err = consumer->assign(assignment);
    RdKafka::TopicPartition::destroy(assignment);
    if (err != RdKafka::ERR_NO_ERROR) throw std::runtime_error("assign: " + RdKafka::err2str(err));
  }
  std::signal(SIGINT, [](int) { interrupted = true; });
  std::signal(SIGTERM, [](int) { interrupted = true; });

  std::map<int32_t, int64_t> to_commit;  // partition -> the next offset, for what has been printed
  auto commit = [&] {
    if (!options.group || to_commit.empty()) return;
    std::fflush(stdout);  // printed means written out: only then is it committed
    std::vector<RdKafka::TopicPartition*> offsets;
    for (const auto& [p, next] : to_commit) offsets.push_back(RdKafka::TopicPartition::create(options.topic, p, next));
    auto err = consumer->commitSync(offsets);
    RdKafka::TopicPartition::destroy(offsets);
    if (err != RdKafka::ERR_NO_ERROR)
      std::fprintf(stderr, "warning: commit failed: %s\n", RdKafka::err2str(err).c_str());
    to_commit.clear();
  };
  const bool json = options.format == "json";
  long printed = 0;
  std::set<int32_t> at_end;
  auto last_commit = std::chrono::steady_clock::now();
  int status = 0;
  while (!interrupted && (options.count == 0 || printed < options.count)) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(200));
    if (message->err() == RdKafka::ERR_NO_ERROR) {
      const auto record = from_message(*message);
      const std::string text = json ? to_json(record, options.base64) + "\n" : render(options.format, record);
      std::fwrite(text.data(), 1, text.size(), stdout);
      to_commit[message->partition()] = message->offset() + 1;
      at_end.erase(message->partition());
      ++printed;
    } else if (message->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end.insert(message->partition());
      std::vector<RdKafka::TopicPartition*> assigned;
      consumer->assignment(assigned);
      const bool all = !assigned.empty() && std::all_of(assigned.begin(), assigned.end(),
                                                        [&](auto* tp) { return at_end.contains(tp->partition()); });
      RdKafka::TopicPartition::destroy(assigned);
      if (all) break;
    } else if (message->err() != RdKafka::ERR__TIMED_OUT) {
      std::fprintf(stderr, "error: %s\n", message->errstr().c_str());
      if (message->err() == RdKafka::ERR__UNKNOWN_TOPIC || message->err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART ||
          message->err() == RdKafka::ERR__UNKNOWN_PARTITION ||
          message->err() == RdKafka::ERR_GROUP_AUTHORIZATION_FAILED || message->err() == RdKafka::ERR__AUTHENTICATION ||
          message->err() == RdKafka::ERR__SSL || message->err() == RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED) {
        status = 1;
        break;
      }
    }
    if (std::chrono::steady_clock::now() - last_commit > std::chrono::seconds(1)) {
      commit();
      last_commit = std::chrono::steady_clock::now();
    }
  }
  commit();
  std::fflush(stdout);
  consumer->close();
  return status;
} catch (const std::exception& e) {
  return failed(e);
}

}  // namespace fjord::cli
