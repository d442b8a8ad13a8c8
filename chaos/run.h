// `fjord chaos`: the seed's staging test as a tool. Against any Kafka-compatible cluster it runs a verifiable
// producer (sequence-numbered records, every acknowledgement kept) and a verifiable consumer group (member processes
// built on the SDK, chaos/member.h) while it injects faults, then reports what was lost, skipped and duplicated,
// and the pause each rebalance caused (chaos/verify.h). Exit status 0 only when nothing acknowledged was lost.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fjord::chaos {

struct ChaosOptions {
  std::string bootstrap;
  std::string topic;  // default: chaos-<start time>, created for the run
  std::string group;  // default: the topic's name
  int partitions = 6;
  int replication_factor = -1;  // -1: the cluster's default
  int members = 3;
  double duration_s = 60;  // of production; faults happen during it
  int rate = 500;          // records per second
  int process_ms = 2;      // work per record in the members
  int max_batch = 100;
  std::string group_protocol = "classic";  // or "consumer": members use KIP-848, strategy and session are the broker's
  std::string strategy = "cooperative-sticky";
  bool static_membership = true;
  bool auto_commit = false;  // the unsafe setting, to see what it costs
  int session_timeout_ms = 10000;
  int max_poll_interval_ms = 300000;
  // kill (SIGKILL mid-batch, then restart), restart (SIGTERM, restart), rolling (restart every member in turn),
  // scale (members past the partition count, then back), broker (runs broker_command)
  std::vector<std::string> faults = {"kill", "restart", "rolling", "scale"};
  double fault_interval_s = 10;
  int restart_delay_ms = 500;
  std::string broker_command;
  std::vector<std::string> consumer_properties;  // key=value for the members
  // Client security (--command-config): the file goes to the members, which read it as the run did; the run's own
  // producer and admin client take it as librdkafka properties.
  std::string command_config;
  std::map<std::string, std::string> client_properties;
  double drain_timeout_s = 60;
  int pause_threshold_ms = 1000;
  std::string work_dir;  // journal and member logs; default a temporary folder, removed after a passing run
  std::string format = "text";
  std::string json_out;  // also write the JSON report here
};

int run_chaos(const ChaosOptions& options);

}  // namespace fjord::chaos
