#include "tests/support/partition_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace fjord::testing {

PartitionProxy::PartitionProxy(int listen_port, const std::string& target) : port_(listen_port) {
  std::vector<std::string> args = {"python3", FJORD_PARTITION_PROXY, "--listen", std::to_string(port_), "--target",
                                   target};
  pid_ = ::fork();
  if (pid_ == 0) {
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
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("partition proxy did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

PartitionProxy::~PartitionProxy() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void PartitionProxy::cut() { ::kill(pid_, SIGUSR1); }
void PartitionProxy::heal() { ::kill(pid_, SIGUSR2); }

}  // namespace fjord::testing
