// A child process for the chaos run: a consumer member (this executable again) or a shell command, with its
// stdout piped to the parent and its stderr in a log file. The destructor SIGKILLs it if it still runs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace fjord::chaos {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return stdout_fd_; }
  void signal(int signo);
  // The exit status once it has exited within the timeout; a signal shows as 128 + signo.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::optional<int> status_;
};

// The path of the running executable, to start members as `fjord chaos-member`.
std::string self_executable();

}  // namespace fjord::chaos
