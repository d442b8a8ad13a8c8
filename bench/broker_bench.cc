// Side-by-side throughput and latency: a Fjord broker process and librdkafka's in-process mock cluster, driven by
// the same librdkafka client in the same run, next to this machine's loopback and disk limits, plus Fjord's
// startup time and idle memory. Writes OUT/latest.json; bench/render.py turns it into the table README shows.
//
//   broker_bench --fjord PATH [--out DIR] [--repeat N] [--scale F]
#include <arpa/inet.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <librdkafka/rdkafkacpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p * static_cast<double>(sorted.size())));
  return sorted[i];
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// An ApiVersions v0 request answered: the broker is serving.
bool answers_api_versions(int port) {
  int fd = connect_to(port);
  if (fd < 0) return false;
  const uint8_t request[] = {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0, 0};
  bool ok = ::send(fd, request, sizeof(request), MSG_NOSIGNAL) == sizeof(request);
  uint8_t buf[8];
  ok = ok && ::recv(fd, buf, sizeof(buf), MSG_WAITALL) == sizeof(buf);
  ::close(fd);
  return ok;
}

class FjordProcess {
 public:
  FjordProcess(std::string binary, std::string data_dir) : binary_(std::move(binary)), data_dir_(std::move(data_dir)) {}
  ~FjordProcess() { stop(); }
  // Returns milliseconds from fork to the first answered request.
  double start() {
    port_ = free_port();
    int admin = free_port();
    auto started = Clock::now();
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      std::string listen = "127.0.0.1:" + std::to_string(port_);
      std::string admin_listen = "127.0.0.1:" + std::to_string(admin);
      ::execl(binary_.c_str(), binary_.c_str(), "broker", "--data-dir", data_dir_.c_str(), "--listen", listen.c_str(),
              "--admin-listen", admin_listen.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    while (!answers_api_versions(port_)) std::this_thread::sleep_for(std::chrono::microseconds(200));
    return seconds_since(started) * 1000;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  long resident_kb() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
  }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string binary_;
  std::string data_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// librdkafka's mock cluster, serving on loopback from a thread of this process.
class MockCluster {
 public:
  MockCluster() {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
    cluster_ = rd_kafka_mock_cluster_new(handle_, 1);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(handle_);
  }
  std::string bootstrap() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void create_topic(const std::string& name, int partitions) {
    rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  }

 private:
  rd_kafka_t* handle_;
  rd_kafka_mock_cluster_t* cluster_;
};

void create_topic_with_admin(const std::string& bootstrap, const std::string& name, int partitions) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(name.c_str(), partitions, 1, error, sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
  if (auto* event = rd_kafka_queue_poll(queue, 30000)) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  rd_kafka_destroy(rk);
}

struct LatencyRecorder : RdKafka::DeliveryReportCb {
  std::vector<Clock::time_point> sent;
  std::vector<double> latencies_ms;
  size_t failed = 0;
  void dr_cb(RdKafka::Message& m) override {
    if (m.err()) {
      ++failed;
      return;
    }
    auto index = reinterpret_cast<size_t>(m.msg_opaque());
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent[index]).count());
  }
};

struct ProduceResult {
  double records_per_second = 0;
  double megabytes_per_second = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0;
  size_t failed = 0;
};

// Produces `count` records of `size` bytes round-robin over `partitions`; with `rate` > 0, paced at that many
// records per second (latency at a given load), else as fast as the client can.
ProduceResult produce(const std::string& bootstrap, const std::string& topic, int partitions, size_t count, size_t size,
                      const std::string& acks, double rate) {
  LatencyRecorder recorder;
  recorder.sent.resize(count);
  recorder.latencies_ms.reserve(count);
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("acks", acks, error);
  conf->set("linger.ms", "5", error);
  conf->set("enable.idempotence", "false", error);
  conf->set("queue.buffering.max.kbytes", "1048576", error);
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&recorder), error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  std::string payload(size, 'x');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>('a' + (i * 7) % 26);
  auto started = Clock::now();
  for (size_t i = 0; i < count; ++i) {
    if (rate > 0) {
      auto due = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i / rate));
      while (Clock::now() < due) producer->poll(0);
    }
    recorder.sent[i] = Clock::now();
    while (producer->produce(topic, static_cast<int32_t>(i % static_cast<size_t>(partitions)),
                             RdKafka::Producer::RK_MSG_COPY, payload.data(), payload.size(), nullptr, 0, 0, nullptr,
                             reinterpret_cast<void*>(i)) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(1);
    }
    if (i % 1024 == 0) producer->poll(0);
  }
  producer->flush(120000);
  double elapsed = seconds_since(started);
  ProduceResult r;
  r.records_per_second = static_cast<double>(count) / elapsed;
  r.megabytes_per_second = static_cast<double>(count * size) / elapsed / 1e6;
  std::sort(recorder.latencies_ms.begin(), recorder.latencies_ms.end());
  r.p50_ms = percentile(recorder.latencies_ms, 0.50);
  r.p99_ms = percentile(recorder.latencies_ms, 0.99);
  r.p999_ms = percentile(recorder.latencies_ms, 0.999);
  r.failed = recorder.failed;
  return r;
}

// Reads every partition from the beginning until `count` records arrived (or 20 s passed); returns records per
// second from the first record on. Messages are taken through consume_callback, many per call, so the client's
// per-message cost stays low.
struct CountingConsumeCb : RdKafka::ConsumeCb {
  size_t got = 0;
  Clock::time_point first;
  void consume_cb(RdKafka::Message& m, void*) override {
    if (m.err()) return;
    if (got++ == 0) first = Clock::now();
  }
};

double consume(const std::string& bootstrap, const std::string& topic, int partitions, size_t count) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("fetch.wait.max.ms", "100", error);
  std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(conf.get(), error));
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer.get(), topic, nullptr, error));
  std::unique_ptr<RdKafka::Queue> queue(RdKafka::Queue::create(consumer.get()));
  CountingConsumeCb counter;
  auto started = Clock::now();
  for (int p = 0; p < partitions; ++p) consumer->start(handle.get(), p, RdKafka::Topic::OFFSET_BEGINNING, queue.get());
  while (counter.got < count && seconds_since(started) < 20)
    consumer->consume_callback(queue.get(), 100, &counter, nullptr);
  // From the first record on: connecting and looking up offsets is not throughput.
  double elapsed = counter.got > 1 ? seconds_since(counter.first) : seconds_since(started);
  for (int p = 0; p < partitions; ++p) consumer->stop(handle.get(), p);
  return static_cast<double>(counter.got) / elapsed;
}

// Loopback bandwidth: one thread writes 64 KiB chunks, another reads them, for about a second.
double loopback_megabytes_per_second() {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t n = sizeof(a);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &n);
  ::listen(listener, 1);
  std::atomic<size_t> received{0};
  std::thread reader([&] {
    int fd = ::accept(listener, nullptr, nullptr);
    std::vector<char> buf(1 << 20);
    ssize_t r;
    while ((r = ::recv(fd, buf.data(), buf.size(), 0)) > 0) received += static_cast<size_t>(r);
    ::close(fd);
  });
  int fd = connect_to(ntohs(a.sin_port));
  std::vector<char> chunk(64 * 1024, 'x');
  auto started = Clock::now();
  while (seconds_since(started) < 1.0) ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
  ::close(fd);
  reader.join();
  ::close(listener);
  return static_cast<double>(received) / seconds_since(started) / 1e6;
}

struct DiskLimits {
  double sequential_fsync_megabytes_per_second;  // 1 MiB writes, each followed by fdatasync
  double small_fsync_p50_ms;                     // 4 KiB write + fdatasync
};

DiskLimits disk_limits(const std::string& directory) {
  std::string path = directory + "/disk-probe";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char> mib(1 << 20, 'x');
  auto started = Clock::now();
  size_t written = 0;
  while (seconds_since(started) < 1.5) {
    written += static_cast<size_t>(::write(fd, mib.data(), mib.size()));
    ::fdatasync(fd);
  }
  DiskLimits d{};
  d.sequential_fsync_megabytes_per_second = static_cast<double>(written) / seconds_since(started) / 1e6;
  std::vector<double> latencies;
  for (int i = 0; i < 200; ++i) {
    auto t = Clock::now();
    ::write(fd, mib.data(), 4096);
    ::fdatasync(fd);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  std::sort(latencies.begin(), latencies.end());
  d.small_fsync_p50_ms = percentile(latencies, 0.5);
  ::close(fd);
  ::unlink(path.c_str());
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  std::string fjord_binary;
  std::string out_dir = "bench/results";
  int repeat = 3;
  double scale = 1.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--fjord") fjord_binary = argv[i + 1];
    if (flag == "--out") out_dir = argv[i + 1];
    if (flag == "--repeat") repeat = std::stoi(argv[i + 1]);
    if (flag == "--scale") scale = std::stod(argv[i + 1]);
  }
  if (fjord_binary.empty()) {
    std::fprintf(stderr, "usage: broker_bench --fjord PATH [--out DIR] [--repeat N] [--scale F]\n");
    return 2;
  }
  std::filesystem::create_directories(out_dir);
  std::string data_root = std::filesystem::temp_directory_path() / ("fjord-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(data_root);

  json report;
  report["librdkafka"] = RdKafka::version_str();
  report["cores"] = std::thread::hardware_concurrency();
  report["repeat"] = repeat;
  std::fprintf(stderr, "machine limits...\n");
  report["loopback_MBps"] = loopback_megabytes_per_second();
  auto disk = disk_limits(data_root);
  report["disk_fsync_1MiB_MBps"] = disk.sequential_fsync_megabytes_per_second;
  report["disk_fsync_4KiB_p50_ms"] = disk.small_fsync_p50_ms;

  // Startup and idle memory.
  std::vector<double> startups;
  long idle_rss = 0;
  for (int i = 0; i < 5; ++i) {
    std::filesystem::remove_all(data_root + "/startup");
    FjordProcess broker(fjord_binary, data_root + "/startup");
    startups.push_back(broker.start());
    if (i == 0) {
      create_topic_with_admin(broker.bootstrap(), "idle", 8);
      std::this_thread::sleep_for(std::chrono::seconds(1));
      idle_rss = broker.resident_kb();
    }
  }
  report["startup_ms_median"] = median(startups);
  report["idle_rss_MB"] = static_cast<double>(idle_rss) / 1024.0;

  struct Workload {
    size_t size;
    std::string acks;
    int partitions;
  };
  std::vector<Workload> workloads;
  for (size_t size : {size_t{100}, size_t{1024}}) {
    for (const char* acks : {"1", "all"}) {
      for (int partitions : {1, 8}) workloads.push_back({size, acks, partitions});
    }
  }

  json rows = json::array();
  int topic_counter = 0;
  for (const auto& w : workloads) {
    size_t count = static_cast<size_t>((w.size == 100 ? 1'000'000 : 300'000) * scale);
    std::map<std::string, std::vector<ProduceResult>> produced;
    std::map<std::string, std::vector<double>> consumed;
    for (int r = 0; r < repeat; ++r) {
      for (const std::string target : {"fjord", "mock"}) {
        std::string topic = "bench-" + std::to_string(topic_counter++);
        std::fprintf(stderr, "%s: %zu x %zu B, acks=%s, %d partitions (run %d)\n", target.c_str(), count, w.size,
                     w.acks.c_str(), w.partitions, r + 1);
        if (target == "fjord") {
          std::filesystem::remove_all(data_root + "/run");
          FjordProcess broker(fjord_binary, data_root + "/run");
          broker.start();
          create_topic_with_admin(broker.bootstrap(), topic, w.partitions);
          produced[target].push_back(produce(broker.bootstrap(), topic, w.partitions, count, w.size, w.acks, 0));
          consumed[target].push_back(consume(broker.bootstrap(), topic, w.partitions, count));
        } else {
          MockCluster mock;
          mock.create_topic(topic, w.partitions);
          produced[target].push_back(produce(mock.bootstrap(), topic, w.partitions, count, w.size, w.acks, 0));
          consumed[target].push_back(consume(mock.bootstrap(), topic, w.partitions, count));
        }
        std::fprintf(stderr, "  produce %.0f records/s (p99 %.1f ms, %zu failed), consume %.0f records/s\n",
                     produced[target].back().records_per_second, produced[target].back().p99_ms,
                     produced[target].back().failed, consumed[target].back());
      }
    }
    json row;
    row["record_bytes"] = w.size;
    row["acks"] = w.acks;
    row["partitions"] = w.partitions;
    row["records"] = count;
    for (const std::string target : {"fjord", "mock"}) {
      std::vector<double> rps, mbps, p50, p99, p999;
      size_t failed = 0;
      for (const auto& p : produced[target]) {
        rps.push_back(p.records_per_second);
        mbps.push_back(p.megabytes_per_second);
        p50.push_back(p.p50_ms);
        p99.push_back(p.p99_ms);
        p999.push_back(p.p999_ms);
        failed += p.failed;
      }
      row[target] = {{"produce_records_per_s", median(rps)},
                     {"produce_MBps", median(mbps)},
                     {"produce_p50_ms", median(p50)},
                     {"produce_p99_ms", median(p99)},
                     {"produce_p999_ms", median(p999)},
                     {"consume_records_per_s", median(consumed[target])},
                     {"consume_MBps", median(consumed[target]) * static_cast<double>(w.size) / 1e6},
                     {"failed", failed}};
    }
    row["produce_ratio"] =
        row["fjord"]["produce_records_per_s"].get<double>() / row["mock"]["produce_records_per_s"].get<double>();
    row["consume_ratio"] =
        row["fjord"]["consume_records_per_s"].get<double>() / row["mock"]["consume_records_per_s"].get<double>();
    rows.push_back(row);
  }
  report["workloads"] = rows;

  // Latency at a fixed, moderate load: 1 KiB acks=all, 1 partition, 5,000 records/s for 4 s.
  std::map<std::string, std::vector<ProduceResult>> paced;
  for (int r = 0; r < repeat; ++r) {
    std::string topic = "paced-" + std::to_string(r);
    {
      std::filesystem::remove_all(data_root + "/run");
      FjordProcess broker(fjord_binary, data_root + "/run");
      broker.start();
      create_topic_with_admin(broker.bootstrap(), topic, 1);
      paced["fjord"].push_back(produce(broker.bootstrap(), topic, 1, 20'000, 1024, "all", 5000));
    }
    MockCluster mock;
    mock.create_topic(topic, 1);
    paced["mock"].push_back(produce(mock.bootstrap(), topic, 1, 20'000, 1024, "all", 5000));
  }
  for (const std::string target : {"fjord", "mock"}) {
    std::vector<double> p50, p99, p999;
    for (const auto& p : paced[target]) {
      p50.push_back(p.p50_ms);
      p99.push_back(p.p99_ms);
      p999.push_back(p.p999_ms);
    }
    report["paced_latency"][target] = {{"p50_ms", median(p50)}, {"p99_ms", median(p99)}, {"p999_ms", median(p999)}};
  }
  std::filesystem::remove_all(data_root);

  std::ofstream(out_dir + "/latest.json") << report.dump(2) << "\n";

  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}
