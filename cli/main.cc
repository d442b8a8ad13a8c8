// The `fjord` executable: the broker and every tool around it, one subcommand each.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cli/broker_command.h"
#include "cli/dev_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Fjord: a Kafka-compatible streaming platform"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  fjord::cli::BrokerOptions broker;
  auto* broker_cmd = app.add_subcommand("broker", "Run a broker");
  broker_cmd->add_option("--data-dir", broker.data_dir, "Where the logs and metadata live")->capture_default_str();
  broker_cmd->add_option("--listen", broker.listen, "HOST:PORT for Kafka clients")->capture_default_str();
  broker_cmd->add_option("--admin-listen", broker.admin_listen, "HOST:PORT for /metrics")->capture_default_str();
  broker_cmd->add_option("--node-id", broker.node_id, "This broker's id")->capture_default_str();
  broker_cmd->add_option("--config", broker.config_file, "A properties file with Kafka's broker setting names");
  broker_cmd->add_option("--set", broker.sets, "key=value broker setting (repeatable)");
  broker_cmd->add_option("--metadata", broker.metadata, "etcd://HOST:PORT to join a multi-broker cluster");

  fjord::cli::DevOptions dev;
  auto* dev_cmd = app.add_subcommand("dev", "Run a local cluster and a demo against it");
  dev_cmd->add_option("--data-dir", dev.data_dir, "Where the local cluster keeps its data")->capture_default_str();
  dev_cmd->add_option("--brokers", dev.brokers, "Number of brokers")->capture_default_str();
  dev_cmd->add_flag("!--no-demo", dev.demo, "Skip the demo");
  dev_cmd->add_flag("--exit-after-demo", dev.exit_after_demo, "Stop once the demo has run");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  if (*broker_cmd) return fjord::cli::run_broker(broker);
  if (*dev_cmd) return fjord::cli::run_dev(dev);
  return 2;
}
