// Test support: a server a test runs as a child process (a broker, etcd, PostgreSQL). Its stdout and stderr are
// appended to a log file, and the kernel kills it if the test process dies, so a crashed test does not leave a
// server behind holding ctest's output pipe open.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace fjord::testing {

class ServerProcess {
 public:
  explicit ServerProcess(std::string log_path) : log_path_(std::move(log_path)) {}
  ~ServerProcess();  // SIGKILLs the process if it still runs
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Runs argv[0] with `argv`; `in_child` runs between fork and exec (e.g. to drop privileges).
  void spawn(const std::vector<std::string>& argv, const std::function<void()>& in_child = nullptr);
  // Polls `ready` every `interval` until it says yes; throws, with the log, when the process exits first or
  // `timeout` passes. `name` says which server in the message.
  void wait_until_ready(const std::string& name, const std::function<bool()>& ready, std::chrono::milliseconds interval,
                        std::chrono::seconds timeout = std::chrono::seconds(30));
  // Waits for the process to exit; returns its exit status (128 + the signal that ended it), -1 if not running.
  int wait();
  // Sends `signo`, then wait().
  int stop(int signo);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // The log so far.
  std::string log() const;

 private:
  std::string log_path_;
  pid_t pid_ = -1;
};

}  // namespace fjord::testing
