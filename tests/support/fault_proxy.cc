#include "tests/support/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/broker_process.h"

namespace fjord::testing {

FaultProxy::FaultProxy(const std::string& broker_bootstrap, int drop_every, int refuse_first)
    : port_(free_port()), stats_path_(make_temp_directory("fjord-proxy") + "/dropped") {
  std::vector<std::string> args = {"python3",        FJORD_FAULT_PROXY,
                                   "--broker",       broker_bootstrap,
                                   "--listen",       std::to_string(port_),
                                   "--drop-every",   std::to_string(drop_every),
                                   "--refuse-first", std::to_string(refuse_first),
                                   "--stats",        stats_path_};
  pid_ = ::fork();
  if (pid_ == 0) {
    // A test that crashes must not leave its broker behind holding ctest's output pipe open.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    if (up) break;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("fault proxy did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

FaultProxy::~FaultProxy() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

int FaultProxy::dropped() const {
  std::ifstream in(stats_path_);
  int n = 0;
  in >> n;
  return n;
}

}  // namespace fjord::testing
