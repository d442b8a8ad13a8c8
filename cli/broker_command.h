// `fjord broker`: the composition root of a broker process. It wires storage, cluster, server and observe
// together, serves until SIGTERM or SIGINT, then stops cleanly (every log synced, indexes written).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace fjord::cli {

struct BrokerOptions {
  std::string data_dir = "./fjord-data";
  std::string listen = "127.0.0.1:9092";
  std::string admin_listen = "127.0.0.1:9644";
  int node_id = 1;
  std::string config_file;
  std::vector<std::string> sets;  // key=value
  std::string metadata;           // etcd://HOST:PORT: join a multi-broker cluster; empty: a single node
};

// Runs a broker until it is told to stop; returns the process exit code. `on_ready` (optional) runs on the
// event loop once the broker answers requests, with the Kafka and admin ports.
int run_broker(const BrokerOptions& options, std::function<void(int kafka_port, int admin_port)> on_ready = {});

}  // namespace fjord::cli
