// `fjord broker`: the composition root of a broker process. It reads the settings, assembles a Broker
// (cli/broker.h) on the real disk with the admin endpoint beside it, serves until SIGTERM or SIGINT, then stops
// cleanly (every log synced, indexes written).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fjord::cli {

// Options left empty (or -1) come from the settings of the same meaning (log.dirs, listeners, node.id), else
// from their defaults (./fjord-data, 127.0.0.1:9092, 1); an option and a setting that disagree are refused.
struct BrokerOptions {
  std::string data_dir;
  std::string listen;
  std::string admin_listen = "127.0.0.1:9644";
  int node_id = -1;
  std::string config_file;
  std::vector<std::string> sets;  // key=value
  std::string metadata;           // etcd://HOST:PORT: join a multi-broker cluster; empty: a single node
  // Reaching an etcd that wants TLS (a CA file; a certificate and key for --client-cert-auth) or a user. The
  // password is read from a file, so that it shows neither in the process list nor in DescribeConfigs.
  std::string metadata_cacert;
  std::string metadata_cert;
  std::string metadata_key;
  std::string metadata_user;
  std::string metadata_password_file;
};

// Runs a broker until it is told to stop; returns the process exit code. `on_ready` (optional) runs on the
// event loop once the broker answers requests, with the Kafka and admin ports.
int run_broker(const BrokerOptions& options, std::function<void(int kafka_port, int admin_port)> on_ready = {});

}  // namespace fjord::cli
