// `fjord dev`: the embedded default. A local broker with its data in one folder (or, with --brokers 3, a local
// etcd and three brokers replicating each other), a short demo with a real Kafka client (librdkafka) against it,
// and then it keeps serving until Ctrl-C.
#pragma once

#include <string>

namespace fjord::cli {

struct DevOptions {
  std::string data_dir = "./fjord-data";
  int brokers = 1;
  bool demo = true;
  bool exit_after_demo = false;  // for scripts and tests: stop once the demo has run
  bool rolling_restart = false;  // --brokers N > 1: after the demo, restart every broker in turn under load
  std::string example;           // also run an example application after the demo: "payments", "payments-exactly-once"
  bool secure = false;           // one SASL_SSL listener (SCRAM), a local CA, a user "dev": see dev_security.h
};

int run_dev(const DevOptions& options);

}  // namespace fjord::cli
