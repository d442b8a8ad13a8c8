// What a partition's metadata change costs as the cluster grows: for 100, 1,000 and 10,000 placed partitions (or
// the counts given), a real etcd, one broker's metadata store writing ISR changes one at a time and a second
// broker's store watching them. Per change it reports what etcd received and sent (its own gRPC byte counters,
// which its JSON gateway goes through), etcd's CPU time, and the time from the write being asked for to the other
// broker seeing it — beside the size of the single document the layout before this one rewrote on every change.
//
//   build/release/bench/metadata_bench [--changes 200] [PARTITIONS...]
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster/etcd/etcd_cluster.h"
#include "cluster/local_metadata_store.h"
#include "model/executor.h"
#include "tests/support/etcd_process.h"

namespace {

using Clock = std::chrono::steady_clock;

// A broker's event loop: one thread running what is posted to it, in order.
class Loop final : public fjord::Executor {
 public:
  Loop() : thread_([this] { run(); }) {}
  ~Loop() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    thread_.join();
  }
  void post(fjord::Task task) override {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    ready_.notify_all();
  }
  // Runs `f` on the loop and waits for its result.
  template <typename F>
  auto call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    post([&task] { task(); });
    return result.get();
  }

 private:
  void run() {
    for (;;) {
      fjord::Task task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<fjord::Task> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

// etcd's own counters, from its /metrics.
std::map<std::string, double> etcd_counters(int port) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  std::map<std::string, double> counters;
  if (!response) return counters;
  std::istringstream lines(response->body);
  for (std::string line; std::getline(lines, line);) {
    for (const char* name : {"etcd_network_client_grpc_received_bytes_total",
                             "etcd_network_client_grpc_sent_bytes_total", "process_cpu_seconds_total"}) {
      const std::string prefix = std::string(name) + " ";
      if (line.rfind(prefix, 0) == 0) counters[name] = std::stod(line.substr(prefix.size()));
    }
  }
  return counters;
}

template <typename Condition>
bool wait_for(Condition done, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

struct Row {
  int partitions = 0;
  double received_bytes = 0, sent_bytes = 0, cpu_ms = 0, latency_ms = 0;
  size_t document_bytes = 0;
};

Row measure(int partitions, int changes) {
  using fjord::cluster::etcd::EtcdCluster;
  fjord::testing::EtcdProcess etcd;
  etcd.start();
  Loop writer_loop, watcher_loop;
  EtcdCluster writer({.endpoint = etcd.endpoint(), .node_id = 1}, writer_loop);
  EtcdCluster watcher({.endpoint = etcd.endpoint(), .node_id = 2}, watcher_loop);
  writer.load();
  writer.join({1, "127.0.0.1", 9092, std::nullopt});
  watcher.load();
  watcher.join({2, "127.0.0.1", 9093, std::nullopt});

  auto store = [&](std::function<void(fjord::cluster::ClusterMetadata&)> change) {
    std::promise<std::error_code> stored;
    writer_loop.post([&] { writer.update(change, [&](std::error_code error) { stored.set_value(error); }); });
    if (auto error = stored.get_future().get()) throw std::runtime_error("not stored: " + error.message());
  };
  store([partitions](fjord::cluster::ClusterMetadata& m) {
    auto& t = m.topics["wide"];
    t.name = "wide";
    t.id = fjord::cluster::random_uuid();
    t.partitions = partitions;
    t.replication_factor = 3;
    for (int i = 0; i < partitions; ++i) {
      fjord::cluster::PartitionAssignment a;
      a.replicas = {1 + i % 3, 1 + (i + 1) % 3, 1 + (i + 2) % 3};
      a.leader = a.replicas.front();
      a.isr = a.replicas;
      t.assignments.push_back(a);
    }
  });
  auto watcher_epoch = [&](int index) {
    return watcher_loop.call([&] {
      const auto& topics = watcher.current().topics;
      auto it = topics.find("wide");
      if (it == topics.end() || static_cast<int>(it->second.assignments.size()) <= index) return -1;
      return it->second.assignments[static_cast<size_t>(index)].partition_epoch;
    });
  };
  if (!wait_for([&] { return watcher_epoch(partitions - 1) == 0; }, std::chrono::seconds(60))) {
    throw std::runtime_error("the watcher never saw the partitions");
  }

  Row row;
  row.partitions = partitions;
  row.document_bytes =
      writer_loop.call([&] { return fjord::cluster::LocalMetadataStore::to_json(writer.current()).size(); });
  const auto before = etcd_counters(etcd.client_port());
  Clock::duration total{};
  for (int c = 0; c < changes; ++c) {
    const int index = static_cast<int>((static_cast<int64_t>(c) * 7919) % partitions);
    const int epoch = watcher_epoch(index);
    const auto started = Clock::now();
    store([index](fjord::cluster::ClusterMetadata& m) {
      auto& a = m.topics["wide"].assignments[static_cast<size_t>(index)];
      a.isr = a.isr.size() == 3 ? std::vector<int32_t>{a.leader} : a.replicas;  // a follower leaves, or all return
      ++a.partition_epoch;
    });
    if (!wait_for([&] { return watcher_epoch(index) > epoch; }, std::chrono::seconds(30))) {
      throw std::runtime_error("the watcher never saw a change");
    }
    total += Clock::now() - started;
  }
  const auto after = etcd_counters(etcd.client_port());
  auto per_change = [&](const char* name) { return (after.at(name) - before.at(name)) / changes; };
  row.received_bytes = per_change("etcd_network_client_grpc_received_bytes_total");
  row.sent_bytes = per_change("etcd_network_client_grpc_sent_bytes_total");
  row.cpu_ms = per_change("process_cpu_seconds_total") * 1000;
  row.latency_ms = std::chrono::duration<double, std::milli>(total).count() / changes;
  watcher.leave();
  writer.leave();
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  int changes = 200;
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--changes" && i + 1 < argc) {
      changes = std::stoi(argv[++i]);
    } else {
      sizes.push_back(std::stoi(arg));
    }
  }
  if (sizes.empty()) sizes = {100, 1000, 10000};
  std::printf(
      "| partitions | etcd received per change | etcd sent per change | etcd CPU per change | write to seen "
      "elsewhere | single document (rewritten per change before) |\n|---|---|---|---|---|---|\n");
  for (int n : sizes) {
    const Row r = measure(n, changes);
    std::printf("| %d | %.0f B | %.0f B | %.2f ms | %.2f ms | %zu B |\n", r.partitions, r.received_bytes, r.sent_bytes,
                r.cpu_ms, r.latency_ms, r.document_bytes);
    std::fflush(stdout);
  }
  return 0;
}
