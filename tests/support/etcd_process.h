// Test support: a real `etcd` on loopback, with its own data directory, that a test can stop, kill -9 and restart on
// the same ports and data: a single member, or (EtcdCluster) three members of one cluster (ThreeMemberEtcd).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "tests/support/server_process.h"

namespace fjord::testing {

class EtcdProcess {
 public:
  EtcdProcess();
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // Whether the etcd binary found at configure time can be run; tests skip without it.
  static bool available();

  // Starts etcd and waits until /health answers. The ports and data stay the same across restarts, and so does
  // TLS once start_secure() has started it.
  void start();
  // Starts it serving clients over TLS only, with `server` as its certificate, handing out auth tokens that live
  // `auth_token_ttl_s` seconds (once authentication is enabled), and with `client_cert_auth` asking every client
  // for a certificate signed by `ca_file` (--client-cert-auth). `client` is the certificate its health check
  // shows.
  struct Tls {
    std::string ca_file;
    std::string server_certificate, server_key;
    std::string client_certificate, client_key;
    bool client_cert_auth = false;
  };
  void start_secure(const Tls& tls, int auth_token_ttl_s);
  // Turns etcd's authentication on (after start_secure), with a root user and `user`, whose role may read and
  // write under /fjord/ and nowhere else. Throws when etcd refuses a step.
  void enable_authentication(const std::string& user, const std::string& password);
  // As a member of a cluster: `name` and `initial_cluster` ("name=http://127.0.0.1:PEER,...") as etcd's flags
  // take them. Does not wait: a member is healthy only once a quorum of its cluster runs.
  void start_member(const std::string& name, const std::string& initial_cluster);
  bool healthy() const;
  // SIGTERM and wait: a clean stop. Returns the exit status.
  int stop();
  // SIGKILL and wait.
  void kill();
  void restart() {
    stop();
    start();
  }
  bool running() const { return process_.running(); }

  // "127.0.0.1:PORT", the client URL without its scheme.
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }
  int client_port() const { return client_port_; }
  int peer_port() const { return peer_port_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return process_.pid(); }
  // etcd's log output so far (errors only).
  std::string log() const { return process_.log(); }

 private:
  std::string data_dir_;
  std::string log_path_;
  std::optional<Tls> tls_;
  int auth_token_ttl_s_ = 300;
  int client_port_;
  int peer_port_;
  ServerProcess process_;
};

// Three etcd members forming one cluster; endpoints() is what a broker's --metadata takes.
class ThreeMemberEtcd {
 public:
  ThreeMemberEtcd();
  EtcdProcess& member(size_t index) { return members_[index]; }
  // "etcd://127.0.0.1:A,127.0.0.1:B,127.0.0.1:C"
  std::string endpoints() const;

 private:
  EtcdProcess members_[3];
};

}  // namespace fjord::testing
