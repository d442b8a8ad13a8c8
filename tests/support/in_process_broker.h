// Test support: whole brokers (cli/broker.h) in this process, on the test's own thread. Each runs on a simulated
// disk with an I/O pool that the test runs or holds, and its event loop is polled by the test, so that what the
// brokers do between two polls is exactly what the test let happen. Several of them form a cluster through an
// in-memory cluster service. A power loss is: destroy the brokers (nothing synced, nothing closed), then crash
// their disks, which forget every byte not yet synced.
#pragma once

#include <prometheus/text_serializer.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/broker.h"
#include "cluster/testing/memory_cluster.h"
#include "protocol/record_batch.h"
#include "storage/log.h"
#include "storage/testing/manual_io_pool.h"
#include "storage/testing/simulated_file_system.h"

namespace fjord::testing {

class InProcessBroker {
 public:
  // `cluster` null: a single node. `settings` are broker settings by Kafka's names.
  InProcessBroker(int32_t node_id, storage::testing::SimulatedFileSystem& disk,
                  cluster::testing::MemoryCluster* cluster, const std::map<std::string, std::string>& settings = {})
      : node_id_(node_id), cluster_(cluster) {
    cli::BrokerSetup setup;
    setup.settings.static_configs = settings;
    setup.settings.static_configs["node.id"] = std::to_string(node_id);
    setup.data_dir = "/broker-" + std::to_string(node_id);
    auto io = std::make_unique<storage::testing::ManualIoPool>();
    io_ = io.get();
    broker_ = std::make_unique<cli::Broker>(setup, cli::BrokerEnvironment{disk, clock_, metrics_}, std::move(io));
    if (cluster_) member_ = cluster_->member(node_id, broker_->loop());
  }
  // As if the process died: nothing is synced or closed, and its registration expires.
  ~InProcessBroker() {
    if (cluster_) cluster_->expire(node_id_);
    member_.reset();
    broker_.reset();
  }
  InProcessBroker(const InProcessBroker&) = delete;
  InProcessBroker& operator=(const InProcessBroker&) = delete;

  void start() {
    broker_->start(member_.get());
    poll();
  }
  // A clean stop (SIGTERM): serving ends, every log is synced and closed; the broker may then be destroyed.
  void stop_cleanly() {
    broker_->stop_serving();
    poll();
    broker_->close();
  }

  // Runs every handler ready on the loop and, unless the I/O is held, every queued I/O job (whose completions run
  // at once). Returns whether anything ran.
  bool poll() {
    bool ran = broker_->loop().context().poll() > 0;
    broker_->loop().context().restart();
    if (!hold_io) ran |= io_->run_all() > 0;
    return ran;
  }

  cli::Broker& broker() { return *broker_; }
  storage::testing::ManualIoPool& io() { return *io_; }
  uint16_t port() const { return broker_->port(); }
  int32_t node_id() const { return node_id_; }
  // The broker's /metrics text.
  std::string metrics_text() const { return prometheus::TextSerializer().Serialize(metrics_.registry()->Collect()); }

  // While set, I/O jobs (syncs, checkpoints, reads) wait until the test runs them or clears it.
  bool hold_io = false;

 private:
  int32_t node_id_;
  cluster::testing::MemoryCluster* cluster_;
  SystemClock clock_;
  Metrics metrics_;
  storage::testing::ManualIoPool* io_ = nullptr;
  std::unique_ptr<cli::Broker> broker_;
  std::unique_ptr<cluster::testing::MemoryCluster::Member> member_;
};

// One batch of records with these values, as a producer would send it.
inline std::vector<uint8_t> batch_of(const std::vector<std::string>& values) {
  std::vector<protocol::Record> records(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    records[i].offset = static_cast<int64_t>(i);
    records[i].timestamp = 1'700'000'000'000;
    records[i].value = protocol::Bytes(values[i].begin(), values[i].end());
  }
  return protocol::build_batch(records, {});
}
inline std::vector<uint8_t> batch_of(int count) {
  return batch_of(std::vector<std::string>(static_cast<size_t>(count), "x"));
}

// Every record value a log holds (on a simulated disk, whose reads come back as copies), by offset.
inline std::map<int64_t, std::string> records_of(const storage::Log& log) {
  std::map<int64_t, std::string> out;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    auto read = log.read(offset, log.log_end_offset(), 1 << 20, true);
    if (read.bytes == 0) break;
    for (const auto& chunk : read.owned) {
      size_t position = 0;
      while (position < chunk.size()) {
        auto header = protocol::parse_batch_header(std::span(chunk).subspan(position));
        for (auto& r : protocol::decode_records(std::span(chunk).subspan(position, header.total_size()), 1 << 26)) {
          out[r.offset] = std::string(r.value->begin(), r.value->end());
          offset = r.offset + 1;
        }
        position += header.total_size();
      }
    }
  }
  return out;
}

// Polls every broker (each loop, then its I/O) until `done` is true or `timeout` of wall time has passed (their
// timers run on real time). Returns `done()`.
inline bool poll_until(const std::vector<InProcessBroker*>& brokers, const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    bool ran = false;
    for (auto* broker : brokers) ran |= broker->poll();
    if (!ran) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace fjord::testing
