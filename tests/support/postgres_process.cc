#include "tests/support/postgres_process.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "tests/support/broker_process.h"

namespace fjord::testing {
namespace {

std::string binary(const char* name) { return std::string(FJORD_POSTGRES_BIN_DIR) + "/" + name; }

// PostgreSQL refuses to run as root: then the server runs as the `postgres` account the package creates.
const passwd* server_account() { return ::geteuid() == 0 ? ::getpwnam("postgres") : nullptr; }

}  // namespace

PostgresProcess::PostgresProcess()
    : root_(make_temp_directory("fjord-postgres")),
      data_dir_(root_ + "/data"),
      log_path_(root_ + "/server.log"),
      port_(free_port()),
      server_(log_path_) {
  if (const passwd* account = server_account()) {
    if (::chown(root_.c_str(), account->pw_uid, account->pw_gid) != 0) {
      throw std::runtime_error("cannot give " + root_ + " to the postgres account");
    }
  }
}

PostgresProcess::~PostgresProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

bool PostgresProcess::available() {
  return ::access(binary("initdb").c_str(), X_OK) == 0 && ::access(binary("postgres").c_str(), X_OK) == 0;
}

void PostgresProcess::spawn(ServerProcess& process, const std::vector<std::string>& args) {
  const passwd* account = server_account();
  process.spawn(args, [account] {
    if (account && (::setgid(account->pw_gid) != 0 || ::setuid(account->pw_uid) != 0)) ::_exit(126);
  });
}

void PostgresProcess::start() {
  if (!std::filesystem::exists(data_dir_ + "/PG_VERSION")) {
    ServerProcess initdb(log_path_);
    spawn(initdb, {binary("initdb"), "-D", data_dir_, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"});
    if (initdb.wait() != 0) throw std::runtime_error("initdb failed:\n" + log());
  }
  // Durability is not under test here: no fsync, sockets in the cluster's own directory.
  spawn(server_,
        {binary("postgres"), "-D", data_dir_, "-h", "127.0.0.1", "-p", std::to_string(port_), "-k", root_, "-F"});
  server_.wait_until_ready(
      "postgres", [this] { return PQping(connection().c_str()) == PQPING_OK; }, std::chrono::milliseconds(50));
}

void PostgresProcess::stop() { server_.stop(SIGINT); }

std::string PostgresProcess::connection() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=postgres connect_timeout=5";
}

}  // namespace fjord::testing
