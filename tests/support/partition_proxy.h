// Test support: tests/support/partition_proxy.py as a child process, a TCP relay in front of one address that the
// test can cut (the far side falls silent, as when packets are dropped) and heal.
#pragma once

#include <sys/types.h>

#include <string>

namespace fjord::testing {

class PartitionProxy {
 public:
  // Relays 127.0.0.1:`listen_port` to `target` ("host:port"); waits until it accepts connections.
  PartitionProxy(int listen_port, const std::string& target);
  ~PartitionProxy();
  PartitionProxy(const PartitionProxy&) = delete;
  PartitionProxy& operator=(const PartitionProxy&) = delete;

  void cut();
  void heal();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  pid_t pid_ = -1;
};

}  // namespace fjord::testing
