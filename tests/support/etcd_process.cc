#include "tests/support/etcd_process.h"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/broker_process.h"

namespace fjord::testing {

EtcdProcess::EtcdProcess()
    : data_dir_(make_temp_directory("fjord-etcd")),
      log_path_(data_dir_ + ".log"),
      client_port_(free_port()),
      peer_port_(free_port()),
      process_(log_path_) {
  // free_port() releases the port it found, so two calls in a row can return the same one.
  while (peer_port_ == client_port_) peer_port_ = free_port();
}

EtcdProcess::~EtcdProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
  std::filesystem::remove(log_path_, ignored);
}

bool EtcdProcess::available() { return ::access(FJORD_ETCD_BINARY, X_OK) == 0; }

void EtcdProcess::start() {
  start_member("fjord-test", "fjord-test=http://127.0.0.1:" + std::to_string(peer_port_));
  process_.wait_until_ready(
      "etcd", [this] { return healthy(); }, std::chrono::milliseconds(20));
}

void EtcdProcess::start_member(const std::string& name, const std::string& initial_cluster) {
  std::string client_url = "http://" + endpoint();
  std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port_);
  // Past the first start etcd reads its membership from the data directory and ignores --initial-cluster.
  std::vector<std::string> args = {FJORD_ETCD_BINARY, "--name=" + name, "--data-dir=" + data_dir_,
                                   "--listen-client-urls=" + client_url, "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url, "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=" + initial_cluster,
                                   // 3.4's default logger ignores --log-level and warns about itself.
                                   "--logger=zap", "--log-level=error"};
  process_.spawn(args);
}

// Listening is not enough: /health says true only once the member has a leader and can serve requests.
bool EtcdProcess::healthy() const {
  httplib::Client client("127.0.0.1", client_port_);
  client.set_connection_timeout(std::chrono::milliseconds(200));
  client.set_read_timeout(std::chrono::seconds(1));
  auto response = client.Get("/health");
  return response && response->status == 200 && response->body.find("\"true\"") != std::string::npos;
}

int EtcdProcess::stop() { return process_.stop(SIGTERM); }

void EtcdProcess::kill() { process_.stop(SIGKILL); }

ThreeMemberEtcd::ThreeMemberEtcd() {
  std::string initial;
  for (size_t i = 0; i < 3; ++i) {
    initial += (i ? "," : "") + std::string("member-") + std::to_string(i) +
               "=http://127.0.0.1:" + std::to_string(members_[i].peer_port());
  }
  for (size_t i = 0; i < 3; ++i) members_[i].start_member("member-" + std::to_string(i), initial);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (auto& m : members_) {
    while (!m.healthy()) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("the etcd cluster did not form");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

std::string ThreeMemberEtcd::endpoints() const {
  std::string out = "etcd://";
  for (size_t i = 0; i < 3; ++i) out += (i ? "," : "") + members_[i].endpoint();
  return out;
}

}  // namespace fjord::testing
