#include "tests/support/postgres_process.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

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
      port_(free_port()) {
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

pid_t PostgresProcess::spawn(const std::vector<std::string>& args) {
  const passwd* account = server_account();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0666);
    ::dup2(log, 1);
    ::dup2(log, 2);
    if (account && (::setgid(account->pw_gid) != 0 || ::setuid(account->pw_uid) != 0)) ::_exit(126);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

void PostgresProcess::start() {
  if (!std::filesystem::exists(data_dir_ + "/PG_VERSION")) {
    pid_t initdb =
        spawn({binary("initdb"), "-D", data_dir_, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"});
    int status = 0;
    ::waitpid(initdb, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("initdb failed:\n" + log());
  }
  // Durability is not under test here: no fsync, sockets in the cluster's own directory.
  pid_ =
      spawn({binary("postgres"), "-D", data_dir_, "-h", "127.0.0.1", "-p", std::to_string(port_), "-k", root_, "-F"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (PQping(connection().c_str()) != PQPING_OK) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("postgres exited at start:\n" + log());
    }
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("postgres did not start:\n" + log());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void PostgresProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string PostgresProcess::connection() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=postgres connect_timeout=5";
}

std::string PostgresProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace fjord::testing
