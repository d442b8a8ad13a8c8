#include "tests/support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fjord::testing {

ServerProcess::~ServerProcess() {
  if (running()) stop(SIGKILL);
}

void ServerProcess::spawn(const std::vector<std::string>& argv, const std::function<void()>& in_child) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    if (in_child) in_child();
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

void ServerProcess::wait_until_ready(const std::string& name, const std::function<bool()>& ready,
                                     std::chrono::milliseconds interval, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready()) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error(name + " exited at start:\n" + log());
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error(name + " did not start:\n" + log());
    std::this_thread::sleep_for(interval);
  }
}

int ServerProcess::wait() {
  if (!running()) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ServerProcess::stop(int signo) {
  if (!running()) return -1;
  ::kill(pid_, signo);
  return wait();
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace fjord::testing
