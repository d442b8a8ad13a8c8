// Test support: tests/support/fault_proxy.py as a child process in front of a broker.
#pragma once

#include <sys/types.h>

#include <string>

namespace fjord::testing {

class FaultProxy {
 public:
  // Loses every `drop_every`-th produce response (0: none) by closing the client's connection instead, and
  // answers the first `refuse_first` produce requests NOT_ENOUGH_REPLICAS itself while passing on the ones after.
  FaultProxy(const std::string& broker_bootstrap, int drop_every, int refuse_first = 0);
  ~FaultProxy();
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }
  // Responses dropped plus requests refused so far.
  int dropped() const;

 private:
  int port_;
  pid_t pid_ = -1;
  std::string stats_path_;
};

}  // namespace fjord::testing
