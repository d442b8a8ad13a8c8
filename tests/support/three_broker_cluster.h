// Test support: a real three-broker cluster (or more, for tests that move replicas) coordinated by a real etcd, on
// loopback, as a GoogleTest fixture: brokers started with fast failure detection, optionally each behind a proxy
// that can cut it off, and helpers that ask the brokers (not a client's cache) what they see.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "protocol/messages/metadata.h"
#include "tests/support/broker_process.h"
#include "tests/support/etcd_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/partition_proxy.h"
#include "tests/support/raw_client.h"

namespace fjord::testing {

inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(100)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(poll);
  }
  return done();
}

struct PartitionView {
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

// The sum of a partition directory's segment sizes.
inline uintmax_t log_bytes(const BrokerProcess& broker, const std::string& partition_directory) {
  uintmax_t total = 0;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(broker.data_dir()) / partition_directory, error)) {
    if (entry.path().extension() == ".log") total += entry.file_size();
  }
  return total;
}

// The brokers one broker lists in its Metadata answer (asked directly, not routed by a client library).
inline int brokers_seen_by(const BrokerProcess& broker) {
  try {
    RawClient client(broker.port());
    protocol::MetadataRequest request;
    request.topics = std::vector<protocol::MetadataRequest::MetadataRequestTopic>{};
    client.send(request, 12, 1);
    auto frame = client.receive(std::chrono::seconds(2));
    if (!frame) return 0;
    return static_cast<int>(RawClient::decode<protocol::MetadataResponse>(*frame, 12, true, nullptr).brokers.size());
  } catch (const std::exception&) {
    return 0;
  }
}

// The controller a broker names in its Metadata answer (librdkafka's C++ metadata leaves it out).
inline int32_t controller_named_by(const BrokerProcess& broker) {
  RawClient client(broker.port());
  protocol::MetadataRequest request;
  request.topics = std::vector<protocol::MetadataRequest::MetadataRequestTopic>{};
  client.send(request, 12, 1);
  auto frame = client.receive();
  if (!frame) return -1;
  return RawClient::decode<protocol::MetadataResponse>(*frame, 12, true, nullptr).controller_id;
}

class ThreeBrokerCluster : public ::testing::Test {
 protected:
  void SetUp() override { start_cluster(false); }

  // With `proxied`, each broker's clients, followers and etcd traffic go through a PartitionProxy of its own (its
  // advertised address is the proxy's), so that a test can cut one broker off from everyone.
  void start_cluster(bool proxied) {
    ASSERT_TRUE(EtcdProcess::available()) << "etcd is not installed (Debian: etcd-server); scripts/setup installs it";
    if (!etcd_cluster_ && !etcd_.running()) etcd_.start();
    // Ports are picked free but bound later (brokers at start()): none may be handed out twice meanwhile.
    std::set<int> taken = {etcd_.client_port(), etcd_.peer_port()};
    auto distinct_port = [&] {
      int port = free_port();
      while (taken.count(port)) port = free_port();
      taken.insert(port);
      return port;
    };
    for (int id = 1; id <= broker_count_; ++id) {
      // With an etcd cluster of three, every broker is given all its members.
      std::string etcd_address = etcd_cluster_ ? etcd_cluster_->endpoints().substr(7) : etcd_.endpoint();
      std::vector<std::string> proxy_args;
      const int kafka_proxy_port = proxied ? distinct_port() : 0;
      if (proxied) {
        etcd_proxies_.push_back(std::make_unique<PartitionProxy>(distinct_port(), etcd_.endpoint()));
        etcd_address = etcd_proxies_.back()->address();
        proxy_args = {"--set", "advertised.listeners=PLAINTEXT://127.0.0.1:" + std::to_string(kafka_proxy_port)};
      }
      std::vector<std::string> args = {"--node-id", std::to_string(id), "--metadata", "etcd://" + etcd_address,
                                       // Failure is noticed within two seconds (etcd lease) and a silent follower
                                       // leaves the ISR after three, so that twenty failovers fit in a test.
                                       "--set", "broker.session.timeout.ms=2000", "--set",
                                       "replica.lag.time.max.ms=3000"};
      args.insert(args.end(), proxy_args.begin(), proxy_args.end());
      args.insert(args.end(), extra_broker_args_.begin(), extra_broker_args_.end());
      if (auto own = broker_args_.find(id); own != broker_args_.end()) {
        args.insert(args.end(), own->second.begin(), own->second.end());
      }
      auto broker = std::make_unique<BrokerProcess>(args);
      while (taken.count(broker->port()) || taken.count(broker->admin_port()) ||
             broker->port() == broker->admin_port()) {
        broker = std::make_unique<BrokerProcess>(args);
      }
      taken.insert(broker->port());
      taken.insert(broker->admin_port());
      brokers_.push_back(std::move(broker));
      if (proxied) {
        kafka_proxies_.push_back(std::make_unique<PartitionProxy>(kafka_proxy_port, brokers_.back()->bootstrap()));
      }
    }
    for (auto& b : brokers_) b->start();
    ASSERT_TRUE(wait_until([&] { return registered() == broker_count_; }, std::chrono::seconds(20)))
        << "the brokers did not all register";
  }

  // Proxied clusters: broker `id` can reach nobody and nobody can reach it, until healed.
  void cut_off(int id) {
    kafka_proxies_[static_cast<size_t>(id - 1)]->cut();
    etcd_proxies_[static_cast<size_t>(id - 1)]->cut();
    unreachable_.insert(id);
  }
  void heal(int id) {
    kafka_proxies_[static_cast<size_t>(id - 1)]->heal();
    etcd_proxies_[static_cast<size_t>(id - 1)]->heal();
    unreachable_.erase(id);
  }

  // Every broker still running stops cleanly (under the sanitizers this is also where leaks are reported).
  void TearDown() override {
    if (HasFailure() && !kafka_proxies_.empty()) {
      std::string ports;
      for (auto& p : kafka_proxies_) ports += " " + std::to_string(p->port());
      for (auto& p : etcd_proxies_) ports += " " + std::to_string(p->port());
      std::printf("---- proxies on%s:\n%s\n", ports.c_str(),
                  run_command("ss -tanp 2>&1 | grep -E 'python3|fjord' | head -60").c_str());
    }
    if (HasFailure()) {
      // What each broker said last is usually what explains a failure here.
      for (size_t i = 0; i < brokers_.size(); ++i) {
        const std::string log = brokers_[i]->log();
        size_t from = log.size();
        for (int lines = 0; lines < 40 && from > 0; ++lines) from = log.rfind('\n', from - 1);
        std::printf("---- broker %zu, last lines:\n%s\n", i + 1,
                    log.substr(from == std::string::npos ? 0 : from).c_str());
        if (!brokers_[i]->running()) continue;
        std::istringstream metrics(brokers_[i]->metrics());
        for (std::string line; std::getline(metrics, line);) {
          if (line.rfind("fjord_requests_total", 0) == 0) std::printf("  %s\n", line.c_str());
        }
      }
    }
    for (size_t i = 0; i < brokers_.size(); ++i) {
      if (!brokers_[i]->running()) continue;
      const int status = brokers_[i]->stop();
      EXPECT_EQ(status, 0) << "broker " << i + 1 << " did not stop cleanly:\n" << brokers_[i]->log();
    }
  }

  BrokerProcess& broker(int id) { return *brokers_[static_cast<size_t>(id - 1)]; }

  // Where clients connect: the brokers, or their proxies.
  std::string bootstrap() const {
    std::string out;
    for (size_t i = 0; i < brokers_.size(); ++i) {
      out +=
          (out.empty() ? "" : ",") + (kafka_proxies_.empty() ? brokers_[i]->bootstrap() : kafka_proxies_[i]->address());
    }
    return out;
  }

  // The brokers a running broker lists in its metadata.
  // How many brokers every running broker knows of (the fewest any of them reports): a request may land on any.
  int registered() {
    int fewest = -1;
    for (auto& b : brokers_) {
      if (!b->running()) continue;
      const int seen = brokers_seen_by(*b);
      fewest = fewest < 0 ? seen : std::min(fewest, seen);
    }
    return std::max(fewest, 0);
  }

  // One partition as a live broker's Metadata answer describes it (leader -1 when none is elected). A broker cut
  // off is not asked: its view is stale by design.
  PartitionView describe(const std::string& topic, int32_t partition) {
    PartitionView view;
    for (size_t i = 0; i < brokers_.size(); ++i) {
      auto& b = brokers_[i];
      if (!b->running() || unreachable_.count(static_cast<int>(i + 1))) continue;
      std::unique_ptr<RdKafka::Conf> conf = client_conf(b->bootstrap(), {{"topic.metadata.refresh.interval.ms", "-1"}});
      std::string error;
      std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), error));
      std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(p.get(), topic, nullptr, error));
      RdKafka::Metadata* raw = nullptr;
      if (p->metadata(false, t.get(), &raw, 2000) != RdKafka::ERR_NO_ERROR) continue;
      std::unique_ptr<RdKafka::Metadata> metadata(raw);
      for (const auto* tm : *metadata->topics()) {
        for (const auto* pm : *tm->partitions()) {
          if (pm->id() != partition) continue;
          view.leader = pm->err() == RdKafka::ERR_NO_ERROR ? pm->leader() : -1;
          view.replicas.assign(pm->replicas()->begin(), pm->replicas()->end());
          view.isr.assign(pm->isrs()->begin(), pm->isrs()->end());
          return view;
        }
      }
    }
    return view;
  }

  // Throws when the topic cannot be created, so that the test stops there.
  void create_replicated_topic(const std::string& name, int partitions) {
    auto error = Admin(bootstrap()).create_topic(name, partitions, {{"min.insync.replicas", "2"}}, 3);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error("creating " + name + ": " + rd_kafka_err2str(error));
    for (int32_t p = 0; p < partitions; ++p) {
      ASSERT_TRUE(wait_until([&] { return describe(name, p).isr.size() == 3; }, std::chrono::seconds(20)))
          << name << "-" << p << " was not placed on three brokers";
    }
  }

  // Kills (-9) the broker leading `topic`-`partition`; whether another broker leads it within 20 s.
  bool kill_leader_and_await_another(const std::string& topic, int32_t partition) {
    const int32_t leader = describe(topic, partition).leader;
    if (leader < 1) return false;
    broker(leader).kill();
    return wait_until(
        [&] {
          const auto view = describe(topic, partition);
          return view.leader >= 1 && view.leader != leader;
        },
        std::chrono::seconds(20));
  }

  // How many brokers start (set before SetUp runs): three unless a test needs one to move replicas to.
  int broker_count_ = 3;
  // Settings every broker gets beyond the fixture's own (set before SetUp runs).
  std::vector<std::string> extra_broker_args_;
  // Settings of one broker, by node id (its rack, say), after those above.
  std::map<int, std::vector<std::string>> broker_args_;
  // Set before SetUp runs: the brokers use this three-member etcd cluster instead of etcd_.
  std::optional<ThreeMemberEtcd> etcd_cluster_;
  // Started by SetUp unless a test started it already (secured, say).
  EtcdProcess etcd_;
  std::vector<std::unique_ptr<PartitionProxy>> etcd_proxies_;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
  std::vector<std::unique_ptr<PartitionProxy>> kafka_proxies_;
  std::set<int> unreachable_;
};

}  // namespace fjord::testing
