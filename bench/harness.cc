#include "bench/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fjord::bench {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double percentile(const std::vector<double>& sorted, double p) {
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

bool answers_api_versions(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  // size 10: ApiVersions (18) v0, correlation id 0, client id ""
  const uint8_t request[] = {0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 0, 0, 0};
  ok = ok && ::send(fd, request, sizeof(request), MSG_NOSIGNAL) == sizeof(request);
  uint8_t answer[8];
  ok = ok && ::recv(fd, answer, sizeof(answer), MSG_WAITALL) == sizeof(answer);
  ::close(fd);
  return ok;
}

namespace {

std::string fetch_metrics(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buffer[65536];
    ssize_t n = 0;
    while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) answer.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

}  // namespace

double scrape_histogram_quantile(int port, const std::string& name, double q) {
  // Buckets are cumulative: name_bucket{le="0.001"} 12
  std::vector<std::pair<double, double>> buckets;
  std::istringstream lines(fetch_metrics(port));
  const std::string prefix = name + "_bucket{le=\"";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string bound = line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size());
    const double upper = bound == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(bound);
    buckets.emplace_back(upper, std::stod(line.substr(line.find_last_of(' ') + 1)));
  }
  if (buckets.empty() || buckets.back().second <= 0) return -1;
  const double wanted = q * buckets.back().second;
  for (const auto& [upper, count] : buckets) {
    if (count >= wanted) return upper;
  }
  return buckets.back().first;
}

double scrape_metric(int port, const std::string& name) {
  const std::string answer = fetch_metrics(port);
  if (answer.empty()) return -1;
  double total = 0;
  std::istringstream lines(answer);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    total += std::stod(line.substr(line.find_last_of(' ') + 1));
  }
  return total;
}

ProcessStats process_stats(pid_t pid) {
  ProcessStats s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = content.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields(content.substr(close_paren + 2));
    std::string field;
    std::vector<std::string> values;
    while (fields >> field) values.push_back(field);
    // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    if (values.size() > 13) {
      s.cpu_seconds = (std::stod(values[11]) + std::stod(values[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.resident_mb = std::stod(line.substr(6)) / 1024.0;
    if (line.rfind("VmHWM:", 0) == 0) s.peak_resident_mb = std::stod(line.substr(6)) / 1024.0;
  }
  return s;
}

BrokerProcess::BrokerProcess(std::string name, std::string description, std::vector<std::string> command,
                             std::string data_dir, std::string log_path)
    : name_(std::move(name)),
      description_(std::move(description)),
      command_(std::move(command)),
      data_dir_(std::move(data_dir)),
      log_path_(std::move(log_path)),
      port_(free_port()),
      port2_(free_port()),
      port3_(free_port()) {}

BrokerProcess::~BrokerProcess() { stop(); }

double BrokerProcess::start() {
  std::vector<std::string> args;
  for (auto arg : command_) {
    auto replace = [&](const std::string& key, const std::string& value) {
      for (size_t at; (at = arg.find(key)) != std::string::npos;) arg.replace(at, key.size(), value);
    };
    replace("{DATA}", data_dir_);
    replace("{PORT}", std::to_string(port_));
    replace("{PORT2}", std::to_string(port2_));
    replace("{PORT3}", std::to_string(port3_));
    args.push_back(arg);
  }
  auto started = Clock::now();
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  while (!answers_api_versions(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(name_ + " exited at start; see " + log_path_);
    }
    if (seconds_since(started) > 120) throw std::runtime_error(name_ + " did not start; see " + log_path_);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return seconds_since(started) * 1000;
}

void BrokerProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void BrokerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void BrokerProcess::create_topic(const std::string& topic, int partitions) {
  admin_create_topic(bootstrap(), topic, partitions);
}

void BrokerProcess::delete_topic(const std::string& topic) { admin_delete_topic(bootstrap(), topic); }

struct MockBroker::Impl {
  rd_kafka_t* handle = nullptr;
  rd_kafka_mock_cluster_t* cluster = nullptr;
};

MockBroker::MockBroker() : impl_(std::make_unique<Impl>()) {}
MockBroker::~MockBroker() { stop(); }

std::string MockBroker::description() const {
  return std::string("librdkafka ") + rd_kafka_version_str() + " mock cluster, in memory, in the benchmark process";
}

double MockBroker::start() {
  auto started = Clock::now();
  char error[256];
  impl_->handle = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof(error));
  impl_->cluster = rd_kafka_mock_cluster_new(impl_->handle, 1);
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
  return seconds_since(started) * 1000;
}

void MockBroker::stop() {
  if (impl_->cluster) rd_kafka_mock_cluster_destroy(impl_->cluster);
  if (impl_->handle) rd_kafka_destroy(impl_->handle);
  impl_->cluster = nullptr;
  impl_->handle = nullptr;
}

void MockBroker::create_topic(const std::string& topic, int partitions) {
  rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, 1);
}

namespace {

// Runs one admin request and returns the error of its first topic result ("" when it succeeded).
template <typename Call, typename Result>
std::string admin(const std::string& bootstrap, Call call, Result topic_results) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
  rd_kafka_AdminOptions_set_operation_timeout(options, 120000, error, sizeof(error));
  rd_kafka_AdminOptions_set_request_timeout(options, 120000, error, sizeof(error));
  call(rk, options, queue);
  std::string outcome = "no answer";
  if (auto* event = rd_kafka_queue_poll(queue, 180000)) {
    if (rd_kafka_event_error(event)) {
      outcome = rd_kafka_event_error_string(event);
    } else {
      size_t count = 0;
      const rd_kafka_topic_result_t** results = topic_results(event, &count);
      outcome = count == 0 ? "no result" : "";
      if (count > 0 && rd_kafka_topic_result_error(results[0])) {
        outcome = rd_kafka_err2str(rd_kafka_topic_result_error(results[0]));
        if (const char* message = rd_kafka_topic_result_error_string(results[0]))
          outcome += std::string(": ") + message;
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  return outcome;
}

// Kafka's controller refuses to create more than about 10,000 records in one operation, so very large topics
// are created in steps, as an operator would.
constexpr int kPartitionsPerStep = 5000;

}  // namespace

void admin_create_topic(const std::string& bootstrap, const std::string& topic, int partitions, int replication,
                        const std::vector<std::pair<std::string, std::string>>& configs) {
  int first = std::min(partitions, kPartitionsPerStep);
  std::string outcome = admin(
      bootstrap,
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        char error[256];
        rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(topic.c_str(), first, replication, error, sizeof(error));
        for (const auto& [key, value] : configs) rd_kafka_NewTopic_set_config(t, key.c_str(), value.c_str());
        rd_kafka_CreateTopics(rk, &t, 1, options, queue);
        rd_kafka_NewTopic_destroy(t);
      },
      [](rd_kafka_event_t* e, size_t* n) {
        return rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(e), n);
      });
  if (!outcome.empty()) throw std::runtime_error("creating " + topic + ": " + outcome);
  for (int total = first + kPartitionsPerStep; first < partitions; total += kPartitionsPerStep) {
    first = std::min(total, partitions);
    outcome = admin(
        bootstrap,
        [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
          char error[256];
          auto* p = rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(first), error, sizeof(error));
          rd_kafka_CreatePartitions(rk, &p, 1, options, queue);
          rd_kafka_NewPartitions_destroy(p);
        },
        [](rd_kafka_event_t* e, size_t* n) {
          return rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(e), n);
        });
    if (!outcome.empty()) throw std::runtime_error("growing " + topic + ": " + outcome);
  }
}

void wait_for_leaders(const std::string& bootstrap, const std::string& topic, int partitions, int isr) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof(error));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const auto started = Clock::now();
  bool ready = false;
  while (!ready && seconds_since(started) < 60) {
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(rk, 0, handle, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const auto& t = metadata->topics[0];
      int good = 0;
      for (int p = 0; t.err == RD_KAFKA_RESP_ERR_NO_ERROR && p < t.partition_cnt; ++p) {
        good += t.partitions[p].err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partitions[p].leader >= 0 &&
                t.partitions[p].isr_cnt >= isr;
      }
      ready = good == partitions;
      rd_kafka_metadata_destroy(metadata);
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_destroy(handle);
  rd_kafka_destroy(rk);
  if (!ready) throw std::runtime_error(topic + ": partitions without leaders after 60 s");
}

FjordCluster::FjordCluster(std::string fjord, std::string work_dir, int brokers)
    : fjord_(std::move(fjord)), work_dir_(std::move(work_dir)), broker_count_(brokers) {}

FjordCluster::~FjordCluster() { stop(); }

std::string FjordCluster::description() const {
  return "Fjord, " + std::to_string(broker_count_) +
         " brokers on this machine with their metadata in a local etcd; topics with replication factor 3 and "
         "min.insync.replicas=2; every broker fsyncs before it acknowledges (leader) or reports (follower)";
}

double FjordCluster::start() {
  const auto started = Clock::now();
  etcd_port_ = free_port();
  const int peer = free_port();
  const std::string client_url = "http://127.0.0.1:" + std::to_string(etcd_port_);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
  std::vector<std::string> args = {"etcd",
                                   "--name",
                                   "bench",
                                   "--data-dir",
                                   work_dir_ + "/etcd",
                                   "--listen-client-urls",
                                   client_url,
                                   "--advertise-client-urls",
                                   client_url,
                                   "--listen-peer-urls",
                                   peer_url,
                                   "--initial-advertise-peer-urls",
                                   peer_url,
                                   "--initial-cluster",
                                   "bench=" + peer_url,
                                   "--logger=zap",
                                   "--log-level=error"};
  etcd_pid_ = ::fork();
  if (etcd_pid_ == 0) {
    int log = ::open((work_dir_ + "/etcd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  for (int id = 1; id <= broker_count_; ++id) {
    const std::string data = work_dir_ + "/fjord-rf3-" + std::to_string(id);
    brokers_.push_back(std::make_unique<BrokerProcess>(
        "fjord-" + std::to_string(id), "",
        std::vector<std::string>{fjord_, "broker", "--node-id", std::to_string(id), "--data-dir", "{DATA}", "--listen",
                                 "127.0.0.1:{PORT}", "--admin-listen", "127.0.0.1:{PORT2}", "--metadata",
                                 "etcd://127.0.0.1:" + std::to_string(etcd_port_)},
        data, data + ".log"));
  }
  for (auto& b : brokers_) {
    // A broker exits when etcd is not serving yet: try again for a while.
    for (int attempt = 0;; ++attempt) {
      try {
        b->start();
        break;
      } catch (const std::exception&) {
        if (attempt >= 50) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
  return seconds_since(started) * 1000;
}

void FjordCluster::stop() {
  for (auto& b : brokers_) b->stop();
  brokers_.clear();
  if (etcd_pid_ > 0) {
    ::kill(etcd_pid_, SIGTERM);
    ::waitpid(etcd_pid_, nullptr, 0);
    etcd_pid_ = -1;
  }
}

std::string FjordCluster::bootstrap() const {
  std::string out;
  for (const auto& b : brokers_) out += (out.empty() ? "" : ",") + b->bootstrap();
  return out;
}

void FjordCluster::create_topic(const std::string& topic, int partitions) {
  const int replication = std::min(broker_count_, 3);
  admin_create_topic(bootstrap(), topic, partitions, replication,
                     {{"min.insync.replicas", std::to_string(std::min(replication, 2))}});
  wait_for_leaders(bootstrap(), topic, partitions, replication);
}

void FjordCluster::delete_topic(const std::string& topic) { admin_delete_topic(bootstrap(), topic); }

void admin_delete_topic(const std::string& bootstrap, const std::string& topic) {
  admin(
      bootstrap,
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
        rd_kafka_DeleteTopic_t* t = rd_kafka_DeleteTopic_new(topic.c_str());
        rd_kafka_DeleteTopics(rk, &t, 1, options, queue);
        rd_kafka_DeleteTopic_destroy(t);
      },
      [](rd_kafka_event_t* e, size_t* n) {
        return rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(e), n);
      });
}

}  // namespace fjord::bench
