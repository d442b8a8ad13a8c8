// Test support: an exactly-once consume-transform-produce job, for the kill test.
//
//   exactly_once_transformer BOOTSTRAP GROUP INPUT OUTPUT TRANSACTIONAL_ID BATCH
//
// Reads INPUT (read_committed, no commits of its own) up to BATCH records at a time and, in one transaction per
// batch, writes one record per input record to OUTPUT (key "PARTITION:OFFSET" of the input record, same value)
// and commits the batch's positions through the transaction (the SDK's send_offsets_to_transaction). It runs
// until killed: the test SIGKILLs it at random moments, restarts it with the same transactional id (which fences
// the killed instance and aborts what it left open) and checks that OUTPUT, read committed, holds every input
// record exactly once. Any transaction error ends the process (exit 3): the test restarts it.
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/producer.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: exactly_once_transformer BOOTSTRAP GROUP INPUT OUTPUT TRANSACTIONAL_ID BATCH\n");
    return 2;
  }
  const std::string bootstrap = argv[1], input = argv[3], output = argv[4];
  const size_t batch_size = std::stoul(argv[6]);
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("group.id", argv[2], error);
  conf->set("enable.auto.commit", "false", error);
  conf->set("auto.offset.reset", "earliest", error);
  conf->set("isolation.level", "read_committed", error);
  // A restarted instance takes its partitions back at once instead of waiting for the killed one's session.
  conf->set("group.instance.id", std::string(argv[5]) + "-member", error);
  conf->set("session.timeout.ms", "6000", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  consumer->subscribe({input});
  try {
    fjord::client::ProducerSettings settings{.bootstrap_servers = bootstrap, .transactional_id = argv[5]};
    fjord::client::Producer producer(settings);
    producer.close_timeout = std::chrono::seconds(5);
    while (true) {
      std::map<std::pair<std::string, int32_t>, int64_t> next;  // positions after the batch
      std::vector<std::unique_ptr<RdKafka::Message>> batch;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      while (batch.size() < batch_size && std::chrono::steady_clock::now() < deadline) {
        std::unique_ptr<RdKafka::Message> m(consumer->consume(50));
        if (m->err() == RdKafka::ERR_NO_ERROR) batch.push_back(std::move(m));
      }
      if (batch.empty()) continue;
      producer.begin_transaction();
      for (const auto& m : batch) {
        const std::string key = std::to_string(m->partition()) + ":" + std::to_string(m->offset());
        const std::string value(static_cast<const char*>(m->payload()), m->len());
        producer.send(output, key, value, nullptr);
        next[{m->topic_name(), m->partition()}] = m->offset() + 1;
      }
      std::vector<fjord::client::PartitionOffset> positions;
      for (const auto& [tp, offset] : next) positions.push_back({tp.first, tp.second, offset});
      producer.send_offsets_to_transaction(positions, *consumer);
      producer.commit_transaction();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exactly_once_transformer: %s\n", e.what());
    return 3;
  }
}
