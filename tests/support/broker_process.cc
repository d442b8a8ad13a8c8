#include "tests/support/broker_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace fjord::testing {

std::string make_temp_directory(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return "(cannot run " + command + ")";
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  int status = ::pclose(pipe);
  if (status != 0) {
    out += "\n(exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + ")";
  }
  return out;
}

namespace {

// Ports follow tests/support/ports.py's rules (which says why): below the ephemeral range, each reserved by a file
// naming the process that holds it, so tests in C++, Python and shell running side by side never share one.
std::pair<int, int> candidate_port_range() {
  int ephemeral_low = 32768;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeral_low;
  if (!range) ephemeral_low = 32768;
  return {std::max(1024, ephemeral_low - 16000), ephemeral_low};
}

bool claim_reservation(const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      const std::string owner = std::to_string(::getpid());
      const bool written = ::write(fd, owner.data(), owner.size()) == static_cast<ssize_t>(owner.size());
      ::close(fd);
      return written;
    }
    if (errno != EEXIST || attempt > 0) return false;
    std::ifstream holder_file(path);
    long holder = 0;
    holder_file >> holder;
    if (holder > 0 && (::kill(static_cast<pid_t>(holder), 0) == 0 || errno == EPERM)) return false;
    ::unlink(path.c_str());  // its process is gone: take the reservation over
  }
  return false;
}

bool bindable(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int free_port() {
  const auto directory = std::filesystem::temp_directory_path() / "fjord-test-ports";
  std::filesystem::create_directories(directory);
  const auto [low, high] = candidate_port_range();
  std::random_device seed;
  std::mt19937 random(seed());
  std::uniform_int_distribution<int> pick(low, high - 1);
  for (int attempt = 0; attempt < 10000; ++attempt) {
    const int port = pick(random);
    if (claim_reservation((directory / std::to_string(port)).string()) && bindable(port)) return port;
  }
  throw std::runtime_error("no free port reservable below the ephemeral range");
}

namespace {

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

BrokerProcess::BrokerProcess(std::vector<std::string> extra_args)
    : extra_args_(std::move(extra_args)),
      data_dir_(make_temp_directory("fjord-test")),
      log_path_(data_dir_ + ".log"),
      port_(free_port()),
      admin_port_(free_port()),
      process_(log_path_) {}

BrokerProcess::~BrokerProcess() {
  kill();
  std::error_code ignored;
  std::filesystem::remove_all(data_dir_, ignored);
  std::filesystem::remove(log_path_, ignored);
}

void BrokerProcess::start() {
  std::vector<std::string> args = {FJORD_BINARY,     "broker",
                                   "--data-dir",     data_dir_,
                                   "--listen",       "127.0.0.1:" + std::to_string(port_),
                                   "--admin-listen", "127.0.0.1:" + std::to_string(admin_port_)};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  process_.spawn(args);
  process_.wait_until_ready(
      "broker", [this] { return accepts_connections(port_); }, std::chrono::milliseconds(5));
}

int BrokerProcess::stop() { return process_.stop(SIGTERM); }

void BrokerProcess::kill() { process_.stop(SIGKILL); }

std::string BrokerProcess::metrics() const {
  httplib::Client client("127.0.0.1", admin_port_);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) throw std::runtime_error("GET /metrics failed");
  return response->body;
}

double BrokerProcess::metric(const std::string& name) const {
  std::istringstream lines(metrics());
  std::string line;
  double total = 0;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0) continue;
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    total += std::stod(line.substr(line.find_last_of(' ') + 1));
  }
  return total;
}

double BrokerProcess::metric(const std::string& name, const std::map<std::string, std::string>& labels) const {
  std::istringstream lines(metrics());
  std::string line;
  double total = 0;
  while (std::getline(lines, line)) {
    if (line.rfind(name + "{", 0) != 0) continue;
    const auto close = line.rfind('}');
    if (close == std::string::npos) continue;
    const std::string label_text = line.substr(name.size(), close + 1 - name.size());
    bool all = true;
    for (const auto& [key, value] : labels) {
      const std::string wanted = key + "=\"" + value + "\"";
      all = all &&
            (label_text.find("{" + wanted) != std::string::npos || label_text.find("," + wanted) != std::string::npos);
    }
    if (all) total += std::stod(line.substr(close + 1));
  }
  return total;
}

long BrokerProcess::resident_kb() const {
  std::ifstream in("/proc/" + std::to_string(pid()) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace fjord::testing
