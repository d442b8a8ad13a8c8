#include "tests/support/etcd_process.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/broker_process.h"

namespace fjord::testing {

EtcdProcess::EtcdProcess()
    : data_dir_(make_temp_directory("fjord-etcd")),
      log_path_(data_dir_ + ".log"),
      client_port_(free_port()),
      peer_port_(free_port()) {
  // free_port() releases the port it found, so two calls in a row can return the same one.
  while (peer_port_ == client_port_) peer_port_ = free_port();
}

EtcdProcess::~EtcdProcess() {
  if (pid_ > 0) stop();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
  std::filesystem::remove(log_path_, ignored);
}

bool EtcdProcess::available() { return ::access(FJORD_ETCD_BINARY, X_OK) == 0; }

void EtcdProcess::start() {
  std::string client_url = "http://" + endpoint();
  std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port_);
  // Past the first start etcd reads its membership from the data directory and ignores --initial-cluster.
  std::vector<std::string> args = {FJORD_ETCD_BINARY, "--name=fjord-test", "--data-dir=" + data_dir_,
                                   "--listen-client-urls=" + client_url, "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url, "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=fjord-test=" + peer_url,
                                   // 3.4's default logger ignores --log-level and warns about itself.
                                   "--logger=zap", "--log-level=error"};
  pid_ = ::fork();
  if (pid_ == 0) {
    // A test that crashes must not leave its etcd behind holding ctest's output pipe open.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!healthy()) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("etcd exited at start:\n" + log());
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("etcd did not start:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Listening is not enough: /health says true only once the member has a leader and can serve requests.
bool EtcdProcess::healthy() const {
  httplib::Client client("127.0.0.1", client_port_);
  client.set_connection_timeout(std::chrono::milliseconds(200));
  client.set_read_timeout(std::chrono::seconds(1));
  auto response = client.Get("/health");
  return response && response->status == 200 && response->body.find("\"true\"") != std::string::npos;
}

int EtcdProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void EtcdProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string EtcdProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace fjord::testing
