// Benchmark harness: brokers to measure (a Fjord or Apache Kafka process, librdkafka's in-process mock cluster),
// started and stopped by the benchmark itself, and what the operating system says about them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fjord::bench {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start);
double median(std::vector<double> values);
// `sorted` ascending; p in [0, 1].
double percentile(const std::vector<double>& sorted, double p);
int free_port();
// True once an ApiVersions v0 request on `port` is answered.
bool answers_api_versions(int port);
// The sum of a Prometheus sample's values (every label set) from http://127.0.0.1:PORT/metrics; -1 when the
// endpoint does not answer.
double scrape_metric(int port, const std::string& name);
// The `q` quantile (0-1) of a Prometheus histogram scraped from http://127.0.0.1:PORT/metrics, as the upper bound
// of the first bucket that holds it; -1 when it has no samples or the endpoint does not answer.
double scrape_histogram_quantile(int port, const std::string& name, double q);

// CPU time and memory of a process, from /proc.
struct ProcessStats {
  double cpu_seconds = 0;       // user + system, all threads
  double resident_mb = 0;       // VmRSS
  double peak_resident_mb = 0;  // VmHWM
};
ProcessStats process_stats(pid_t pid);

// A broker the benchmark drives.
class Broker {
 public:
  virtual ~Broker() = default;
  virtual std::string name() const = 0;
  // A sentence for the report: version and durability settings.
  virtual std::string description() const = 0;
  // Starts it (if it is a process) and returns milliseconds to the first answered request.
  virtual double start() = 0;
  virtual void stop() = 0;
  virtual std::string bootstrap() const = 0;
  virtual void create_topic(const std::string& topic, int partitions) = 0;
  virtual void delete_topic(const std::string& topic) = 0;
  // pid of the broker process, or -1 when it lives inside the benchmark (the mock).
  virtual pid_t pid() const { return -1; }
};

// A broker process started from a command line: Fjord or Apache Kafka.
class BrokerProcess : public Broker {
 public:
  // `command` may contain {DATA}, {PORT}, {PORT2}, {PORT3}: replaced by the data directory and free ports.
  BrokerProcess(std::string name, std::string description, std::vector<std::string> command, std::string data_dir,
                std::string log_path);
  ~BrokerProcess() override;
  std::string name() const override { return name_; }
  std::string description() const override { return description_; }
  double start() override;
  void stop() override;
  void kill();
  std::string bootstrap() const override { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // The second port of the command line: Fjord's admin endpoint (/metrics).
  int admin_port() const { return port2_; }
  void create_topic(const std::string& topic, int partitions) override;
  void delete_topic(const std::string& topic) override;
  pid_t pid() const override { return pid_; }
  const std::string& data_dir() const { return data_dir_; }

 private:
  std::string name_;
  std::string description_;
  std::vector<std::string> command_;
  std::string data_dir_;
  std::string log_path_;
  int port_;
  int port2_;
  int port3_;
  pid_t pid_ = -1;
};

// A local Fjord cluster: etcd (Debian's etcd-server) and `brokers` Fjord processes whose metadata lives in it.
// Topics get replication factor 3 and min.insync.replicas=2, as the production checklist asks.
class FjordCluster : public Broker {
 public:
  FjordCluster(std::string fjord, std::string work_dir, int brokers);
  ~FjordCluster() override;
  std::string name() const override { return "fjord-rf3"; }
  std::string description() const override;
  double start() override;
  void stop() override;
  std::string bootstrap() const override;
  void create_topic(const std::string& topic, int partitions) override;
  void delete_topic(const std::string& topic) override;

 private:
  std::string fjord_;
  std::string work_dir_;
  int broker_count_;
  int etcd_port_ = 0;
  pid_t etcd_pid_ = -1;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
};

// librdkafka's mock cluster: in memory, serving on loopback from a thread of this process.
class MockBroker : public Broker {
 public:
  MockBroker();
  ~MockBroker() override;
  std::string name() const override { return "mock"; }
  std::string description() const override;
  double start() override;
  void stop() override;
  std::string bootstrap() const override { return bootstrap_; }
  void create_topic(const std::string& topic, int partitions) override;
  void delete_topic(const std::string&) override {}

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bootstrap_;
};

// Creates or deletes a topic through the Admin API, waiting for the answer.
// `replication` replicas per partition; `configs` are topic settings (key, value).
void admin_create_topic(const std::string& bootstrap, const std::string& topic, int partitions, int replication = 1,
                        const std::vector<std::pair<std::string, std::string>>& configs = {});
// Waits until every partition of `topic` has a leader and `isr` in-sync replicas (a cluster places them after
// CreateTopics has answered).
void wait_for_leaders(const std::string& bootstrap, const std::string& topic, int partitions, int isr);
void admin_delete_topic(const std::string& bootstrap, const std::string& topic);

}  // namespace fjord::bench
