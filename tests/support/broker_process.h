// Test support: a real `fjord broker` process on loopback, with its own data directory, that a test can stop,
// kill -9 and restart.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/server_process.h"

namespace fjord::testing {

std::string make_temp_directory(const std::string& prefix);
// Runs a shell command and returns its standard output, with "(exit status N)" appended when it failed.
std::string run_command(const std::string& command);
// A loopback port reserved for this process: see tests/support/ports.py for why not an ephemeral one.
int free_port();

class BrokerProcess {
 public:
  explicit BrokerProcess(std::vector<std::string> extra_args = {});
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // More arguments for the next start (settings that name port(), which is known only once constructed).
  void add_args(const std::vector<std::string>& args) {
    extra_args_.insert(extra_args_.end(), args.begin(), args.end());
  }
  // Starts the broker and waits until it accepts connections. The port and data stay the same across restarts.
  void start();
  // SIGTERM and wait: a clean stop. Returns the exit status.
  int stop();
  // SIGKILL and wait: the page cache survives, the process does not.
  void kill();
  bool running() const { return process_.running(); }

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return process_.pid(); }
  // The broker's log output so far.
  std::string log() const { return process_.log(); }

  // The /metrics text, and one sample's value (the sum over label sets when `name` has several).
  std::string metrics() const;
  double metric(const std::string& name) const;
  // The sum over the series of `name` whose labels include every one of `labels` (others may have more).
  double metric(const std::string& name, const std::map<std::string, std::string>& labels) const;
  // Resident memory of the broker process, in kB.
  long resident_kb() const;

 private:
  std::vector<std::string> extra_args_;
  std::string data_dir_;
  std::string log_path_;
  int port_;
  int admin_port_;
  ServerProcess process_;
};

}  // namespace fjord::testing
