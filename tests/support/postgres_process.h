// Test support: a real PostgreSQL server (Debian's postgresql) on loopback with a throwaway cluster directory,
// for the PostgreSQL sink's tests. Run as root (CI), the server runs as the `postgres` user, as PostgreSQL requires.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "tests/support/server_process.h"

namespace fjord::testing {

class PostgresProcess {
 public:
  PostgresProcess();
  ~PostgresProcess();
  PostgresProcess(const PostgresProcess&) = delete;
  PostgresProcess& operator=(const PostgresProcess&) = delete;

  // Whether PostgreSQL's server binaries were found at configure time; the tests skip without them.
  static bool available();

  // initdb (first time), then the server; returns once it accepts connections.
  void start();
  // SIGINT (fast shutdown) and wait.
  void stop();

  // A libpq connection string for the superuser, trust authentication.
  std::string connection() const;
  std::string log() const { return server_.log(); }

 private:
  // Runs `args` into `process`, as the postgres account when this test runs as root.
  void spawn(ServerProcess& process, const std::vector<std::string>& args);
  std::string root_;
  std::string data_dir_;
  std::string log_path_;
  int port_;
  ServerProcess server_;
};

}  // namespace fjord::testing
