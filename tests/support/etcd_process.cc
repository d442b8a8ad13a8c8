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
  if (tls_) {
    const Tls same = *tls_;
    return start_secure(same, auth_token_ttl_s_);
  }
  start_member("fjord-test", "fjord-test=http://127.0.0.1:" + std::to_string(peer_port_));
  process_.wait_until_ready(
      "etcd", [this] { return healthy(); }, std::chrono::milliseconds(20));
}

void EtcdProcess::start_secure(const Tls& tls, int auth_token_ttl_s) {
  tls_ = tls;
  auth_token_ttl_s_ = auth_token_ttl_s;
  const std::string client_url = "https://" + endpoint();
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port_);
  std::vector<std::string> args = {FJORD_ETCD_BINARY,
                                   "--name=fjord-test",
                                   "--data-dir=" + data_dir_,
                                   "--listen-client-urls=" + client_url,
                                   "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=fjord-test=" + peer_url,
                                   "--cert-file=" + tls.server_certificate,
                                   "--key-file=" + tls.server_key,
                                   "--auth-token=simple",
                                   "--auth-token-ttl=" + std::to_string(auth_token_ttl_s),
                                   "--logger=zap",
                                   "--log-level=error"};
  if (tls.client_cert_auth) {
    args.push_back("--client-cert-auth");
    args.push_back("--trusted-ca-file=" + tls.ca_file);
  }
  process_.spawn(args);
  process_.wait_until_ready(
      "etcd", [this] { return healthy(); }, std::chrono::milliseconds(20));
}

void EtcdProcess::enable_authentication(const std::string& user, const std::string& password) {
  if (!tls_) throw std::runtime_error("enable_authentication: start etcd with start_secure() first");
  httplib::Client http("https://" + endpoint(), tls_->client_certificate, tls_->client_key);
  http.set_ca_cert_path(tls_->ca_file.c_str());
  http.enable_server_certificate_verification(true);
  auto call = [&](const std::string& path, const std::string& body) {
    auto response = http.Post(path, body, "application/json");
    if (!response) throw std::runtime_error("etcd " + path + ": " + httplib::to_string(response.error()));
    if (response->status != 200) throw std::runtime_error("etcd " + path + ": " + response->body);
  };
  call("/v3/auth/role/add", R"({"name":"root"})");
  call("/v3/auth/user/add", R"({"name":"root","password":"root-password"})");
  call("/v3/auth/user/grant", R"({"user":"root","role":"root"})");
  // Keys are base64 in etcd's JSON: "/fjord/" up to "/fjord0", the prefix's end.
  call("/v3/auth/role/add", R"({"name":"fjord"})");
  call("/v3/auth/role/grant",
       R"({"name":"fjord","perm":{"permType":"READWRITE","key":"L2Zqb3JkLw==","range_end":"L2Zqb3JkMA=="}})");
  call("/v3/auth/user/add", R"({"name":")" + user + R"(","password":")" + password + R"("})");
  call("/v3/auth/user/grant", R"({"user":")" + user + R"(","role":"fjord"})");
  call("/v3/auth/enable", "{}");
}

void EtcdProcess::start_member(const std::string& name, const std::string& initial_cluster) {
  tls_.reset();
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
  if (tls_) {
    httplib::Client client("https://" + endpoint(), tls_->client_certificate, tls_->client_key);
    client.set_ca_cert_path(tls_->ca_file.c_str());
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(std::chrono::milliseconds(200));
    client.set_read_timeout(std::chrono::seconds(1));
    auto response = client.Get("/health");
    return response && response->status == 200 && response->body.find("\"true\"") != std::string::npos;
  }
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
