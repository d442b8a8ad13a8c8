// Test support: a consumer that commits only after processing, for the kill-mid-batch test.
//
//   processing_consumer BOOTSTRAP GROUP TOPIC OUTPUT BATCH
//
// Takes up to BATCH records, "processes" each (one line "partition offset" appended to OUTPUT, a millisecond of
// work), makes OUTPUT durable, and only then commits the batch's offsets synchronously. It runs until killed:
// the test SIGKILLs it at random moments and checks that nothing was lost or skipped and that only what was not
// yet committed came again.
#include <fcntl.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: processing_consumer BOOTSTRAP GROUP TOPIC OUTPUT BATCH\n");
    return 2;
  }
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", argv[1], error);
  conf->set("group.id", argv[2], error);
  conf->set("enable.auto.commit", "false", error);
  conf->set("auto.offset.reset", "earliest", error);
  conf->set("partition.assignment.strategy", "cooperative-sticky", error);
  conf->set("session.timeout.ms", "6000", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  consumer->subscribe({argv[3]});
  int out = ::open(argv[4], O_WRONLY | O_CREAT | O_APPEND, 0644);
  const size_t batch_size = std::stoul(argv[5]);
  for (;;) {
    std::map<int32_t, int64_t> next;  // partition -> offset after the last processed record
    for (size_t taken = 0; taken < batch_size;) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
      if (m->err() == RdKafka::ERR__TIMED_OUT) break;
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      std::string line = std::to_string(m->partition()) + " " + std::to_string(m->offset()) + "\n";
      if (::write(out, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      next[m->partition()] = m->offset() + 1;
      ++taken;
    }
    if (next.empty()) continue;
    ::fdatasync(out);  // processing is done and durable before the commit says so
    std::vector<RdKafka::TopicPartition*> offsets;
    for (const auto& [partition, offset] : next)
      offsets.push_back(RdKafka::TopicPartition::create(argv[3], partition, offset));
    auto result = consumer->commitSync(offsets);
    for (auto* tp : offsets) delete tp;
    if (result != RdKafka::ERR_NO_ERROR) std::fprintf(stderr, "commit failed: %s\n", RdKafka::err2str(result).c_str());
  }
}
