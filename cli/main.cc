// The `fjord` executable: the broker and every tool around it, one subcommand each.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "chaos/member.h"
#include "chaos/run.h"
#include "cli/acl_command.h"
#include "cli/audit_command.h"
#include "cli/broker_command.h"
#include "cli/client_security.h"
#include "cli/consume_command.h"
#include "cli/dev_command.h"
#include "cli/group_command.h"
#include "cli/lag_command.h"
#include "cli/produce_command.h"
#include "cli/quota_command.h"
#include "cli/reassign_command.h"
#include "cli/topic_command.h"
#include "cli/txn_command.h"
#include "cli/user_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Fjord: a Kafka-compatible streaming platform"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();

  fjord::cli::BrokerOptions broker;
  auto* broker_cmd = app.add_subcommand("broker", "Run a broker");
  broker_cmd->add_option("--data-dir", broker.data_dir, "Where the logs and metadata live (log.dirs; ./fjord-data)");
  broker_cmd->add_option("--listen", broker.listen, "HOST:PORT for Kafka clients (listeners; 127.0.0.1:9092)");
  broker_cmd->add_option("--admin-listen", broker.admin_listen, "HOST:PORT for /metrics")->capture_default_str();
  broker_cmd->add_option("--node-id", broker.node_id, "This broker's id (node.id; 1)");
  broker_cmd->add_option("--config", broker.config_file, "A properties file with Kafka's broker setting names");
  broker_cmd->add_option("--set", broker.sets, "key=value broker setting (repeatable)");
  broker_cmd->add_option("--metadata", broker.metadata,
                         "etcd://HOST:PORT[,HOST:PORT...] (an etcd cluster's members) to join a multi-broker cluster");
  broker_cmd->add_option("--metadata-cacert", broker.metadata_cacert,
                         "PEM file of the CA that signed etcd's certificate: speak TLS to etcd");
  broker_cmd->add_option("--metadata-cert", broker.metadata_cert,
                         "PEM certificate this broker shows etcd (etcd --client-cert-auth); with --metadata-key");
  broker_cmd->add_option("--metadata-key", broker.metadata_key, "PEM private key of --metadata-cert");
  broker_cmd->add_option("--metadata-user", broker.metadata_user, "etcd user to authenticate as (etcd auth enable)");
  broker_cmd->add_option("--metadata-password-file", broker.metadata_password_file,
                         "File holding --metadata-user's password (its first line)");

  fjord::cli::DevOptions dev;
  auto* dev_cmd = app.add_subcommand("dev", "Run a local cluster and a demo against it");
  dev_cmd->add_option("--data-dir", dev.data_dir, "Where the local cluster keeps its data")->capture_default_str();
  dev_cmd->add_option("--brokers", dev.brokers, "Number of brokers")->capture_default_str();
  dev_cmd->add_flag("!--no-demo", dev.demo, "Skip the demo");
  dev_cmd->add_flag("--exit-after-demo", dev.exit_after_demo, "Stop once the demo has run");
  dev_cmd->add_flag("--secure", dev.secure,
                    "Serve TLS and SASL/SCRAM only, with a local certificate authority and a user 'dev' (one broker); "
                    "prints the client settings");
  dev_cmd->add_flag("--rolling-restart", dev.rolling_restart,
                    "With --brokers 3: after the demo, restart each broker in turn under a producer and a group");
  dev_cmd->add_option("--example", dev.example, "Also run an example application after the demo")
      ->check(CLI::IsMember({"payments", "payments-exactly-once"}));

  // Every subcommand that talks to a cluster: --bootstrap-server, else $FJORD_BOOTSTRAP_SERVER, else 127.0.0.1:9092.
  const char* bootstrap_env = std::getenv("FJORD_BOOTSTRAP_SERVER");
  const std::string default_bootstrap = bootstrap_env && *bootstrap_env ? bootstrap_env : "127.0.0.1:9092";

  fjord::cli::TopicOptions topic;
  topic.bootstrap = default_bootstrap;
  auto* topic_cmd = app.add_subcommand(
      "topic", "Topics: create, list, describe (leader, replicas, ISR, health), alter, delete, reassign");
  topic_cmd->require_subcommand(1);
  topic_cmd->fallthrough();  // --bootstrap-server and --format also after the subcommand
  topic_cmd->add_option("--bootstrap-server", topic.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  topic_cmd->add_option("--format", topic.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  auto* topic_create = topic_cmd->add_subcommand("create", "Create topics");
  topic_create->add_option("TOPIC", topic.topics, "Topic names")->required();
  topic_create->add_option("--partitions", topic.partitions, "Partitions (default: the broker's num.partitions)");
  topic_create->add_option("--replication-factor", topic.replication_factor,
                           "Replicas of each partition (default: the broker's default.replication.factor)");
  topic_create->add_option("--config", topic.configs, "key=value topic setting (repeatable)");
  auto* topic_list = topic_cmd->add_subcommand("list", "Every topic with its partition and replica counts");
  auto* topic_describe = topic_cmd->add_subcommand(
      "describe", "Per partition: leader, replicas, ISR, and whether it is under-replicated, under min ISR or offline");
  topic_describe->add_option("TOPIC", topic.topics, "Topic names (default: all)");
  auto* topic_alter = topic_cmd->add_subcommand("alter", "Change a topic's settings or add partitions");
  topic_alter->add_option("TOPIC", topic.topics, "The topic")->required()->expected(1);
  topic_alter->add_option("--config", topic.configs, "key=value topic setting to set (repeatable)");
  topic_alter->add_option("--delete-config", topic.delete_configs,
                          "A topic setting to remove, back to the broker's value (repeatable)");
  topic_alter->add_option("--partitions", topic.new_partitions, "The new partition count (more than now)");
  auto* topic_delete = topic_cmd->add_subcommand("delete", "Delete topics and their data");
  topic_delete->add_option("TOPIC", topic.topics, "Topic names")->required();
  fjord::cli::ReassignOptions reassign;
  reassign.bootstrap = default_bootstrap;
  auto add_move_options = [&reassign](CLI::App* command) {
    command->add_option("--throttle", reassign.throttle_bytes_per_second,
                        "Cap the copying at this many bytes per second (Kafka's replication throttles; removed "
                        "after --wait)");
    command->add_flag("--wait", reassign.wait, "Wait until every partition has moved");
    command->add_option("--wait-timeout", reassign.wait_timeout_s, "Seconds --wait waits at most")
        ->capture_default_str();
  };
  auto* topic_reassign = topic_cmd->add_subcommand(
      "reassign", "Move a topic's replicas to other brokers: new replicas copy, join the ISR, then old ones go");
  topic_reassign->add_option("TOPIC", reassign.topic, "The topic")->required();
  topic_reassign->add_option("--brokers", reassign.brokers, "Every partition onto these brokers (comma-separated)")
      ->delimiter(',');
  topic_reassign->add_option("--partition", reassign.partition, "Only this partition (with --replicas)");
  topic_reassign->add_option("--replicas", reassign.replicas, "The partition's new replicas, preferred leader first")
      ->delimiter(',');
  topic_reassign->add_flag("--cancel", reassign.cancel,
                           "Cancel the topic's moves in progress (back to their old replicas) and remove the throttle");
  add_move_options(topic_reassign);

  auto* cluster_cmd = app.add_subcommand("cluster", "The cluster's brokers: drain one before taking it away");
  cluster_cmd->require_subcommand(1);
  cluster_cmd->fallthrough();
  cluster_cmd->add_option("--bootstrap-server", reassign.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  auto* cluster_drain =
      cluster_cmd->add_subcommand("drain", "Move every replica off a broker, each to the least loaded other broker");
  cluster_drain->add_option("BROKER", reassign.drain_broker, "The broker's node id")->required();
  add_move_options(cluster_drain);

  fjord::cli::GroupOptions group;
  group.bootstrap = default_bootstrap;
  auto* group_cmd = app.add_subcommand("group", "Consumer groups: list, describe (with lag), reset offsets, delete");
  group_cmd->require_subcommand(1);
  group_cmd->fallthrough();
  group_cmd->add_option("--bootstrap-server", group.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  group_cmd->add_option("--format", group.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  auto* group_list = group_cmd->add_subcommand("list", "Every group with its state");
  auto* group_describe = group_cmd->add_subcommand(
      "describe", "Per partition: committed offset, log end, lag, and the member that owns it");
  group_describe->add_option("GROUP", group.group, "The group id")->required();
  auto* group_reset = group_cmd->add_subcommand(
      "reset-offsets", "Move a group's committed offsets (prints the plan; --execute applies it to an inactive group)");
  group_reset->add_option("GROUP", group.group, "The group id")->required();
  group_reset->add_option("--topic", group.topics, "TOPIC or TOPIC:P,P,... (repeatable)");
  group_reset->add_flag("--all-topics", group.all_topics, "Every partition the group has committed");
  group_reset->add_flag("--to-earliest", group.to_earliest, "The start of each log");
  group_reset->add_flag("--to-latest", group.to_latest, "The end of each log");
  group_reset->add_option("--to-datetime", group.to_datetime, "The first offset at or after YYYY-MM-DDTHH:MM:SS[.mmm]");
  group_reset->add_option("--shift-by", group.shift_by, "Move the committed offset by N (negative: back)");
  group_reset->add_option("--to-offset", group.to_offset, "An absolute offset (clamped to the log)");
  group_reset->add_flag("--execute", group.execute, "Apply the plan");
  auto* group_delete = group_cmd->add_subcommand("delete", "Delete an inactive group and its committed offsets");
  group_delete->add_option("GROUP", group.group, "The group id")->required();

  fjord::cli::ProduceOptions produce;
  produce.bootstrap = default_bootstrap;
  auto* produce_cmd = app.add_subcommand(
      "produce", "Records from standard input, one per line (idempotent, acks=all unless --acks says otherwise)");
  produce_cmd->add_option("TOPIC", produce.topic, "The topic")->required();
  produce_cmd->add_option("--bootstrap-server", produce.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  produce_cmd->add_option("--key-separator", produce.key_separator,
                          "Split each line into key and value at the first occurrence of this text");
  produce_cmd->add_option("--header", produce.headers, "name=value header on every record (repeatable)");
  produce_cmd->add_option("--partition", produce.partition, "Write to this partition (default: by key)");
  produce_cmd->add_option("--acks", produce.acks, "all, 1 or 0 (1 and 0 turn idempotence off)")->capture_default_str();
  produce_cmd->add_option("--input", produce.input, "text (lines) or json (key, value, headers, partition per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  produce_cmd->add_flag("--base64", produce.base64, "With --input json: key, value and header values are base64");
  produce_cmd->add_option("--format", produce.format, "text (a summary) or json (a delivery report per record)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  produce_cmd->add_option("--property", produce.properties, "key=value librdkafka producer property (repeatable)");

  fjord::cli::ConsumeOptions consume;
  consume.bootstrap = default_bootstrap;
  auto* consume_cmd = app.add_subcommand("consume", "Records to standard output");
  consume_cmd->add_option("TOPIC", consume.topic, "The topic")->required();
  consume_cmd->add_option("--bootstrap-server", consume.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  consume_cmd->add_option("--group", consume.group, "Join this group and commit what was printed");
  consume_cmd->add_option("--partition", consume.partition, "Without --group: only this partition");
  consume_cmd->add_flag("--from-beginning", consume.from_beginning, "Start at the oldest record");
  consume_cmd->add_option("--count", consume.count, "Stop after this many records");
  consume_cmd->add_flag("--exit-at-end", consume.exit_at_end, "Stop once every partition has been read to its end");
  consume_cmd
      ->add_option("--format", consume.format,
                   "json, or a template of {topic} {partition} {offset} {timestamp} {key} {value} {headers}")
      ->capture_default_str();
  consume_cmd->add_flag("--base64", consume.base64, "With --format json: key, value and header values in base64");
  consume_cmd->add_option("--isolation-level", consume.isolation, "read_committed or read_uncommitted")
      ->check(CLI::IsMember({"read_committed", "read_uncommitted"}))
      ->capture_default_str();
  consume_cmd->add_option("--property", consume.properties, "key=value librdkafka consumer property (repeatable)");

  fjord::cli::AuditOptions audit;
  audit.bootstrap = default_bootstrap;
  auto* audit_cmd = app.add_subcommand(
      "audit",
      "The production checklist against a cluster: topics, settings and groups (any cluster), clients (a Fjord "
      "broker's, with --admin); exits 3 when a rule is broken");
  audit_cmd->add_option("--bootstrap-server", audit.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  audit_cmd->add_option("--format", audit.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  audit_cmd->add_option("--admin", audit.admin, "HOST:PORT of a Fjord broker's admin listener, for its client checks");

  fjord::cli::LagOptions lag;
  lag.bootstrap = default_bootstrap;
  auto* lag_cmd = app.add_subcommand(
      "lag",
      "Consumer lag per group and partition: records, seconds, velocity and a status (OK, REWIND, WARN, ERR, STOP, "
      "STALL); exits 3 when a group is in ERR, STOP or STALL");
  lag_cmd->add_option("GROUP", lag.groups, "Groups to show (default: every consumer group)");
  lag_cmd->add_option("--bootstrap-server", lag.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  lag_cmd->add_option("--format", lag.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  lag_cmd->add_flag("--watch", lag.watch, "A live view, refreshed every --interval until Ctrl-C");
  lag_cmd->add_option("--iterations", lag.iterations, "With --watch: stop after N refreshes");
  lag_cmd->add_option("--interval", lag.interval_seconds, "Seconds between samples")->capture_default_str();
  lag_cmd->add_option("--for", lag.observe_seconds,
                      "Sample for this many seconds before answering (needed to see STOP and REWIND)");
  lag_cmd->add_option("--window", lag.window_seconds,
                      "Seconds records must wait at an unmoving committed offset for STOP (default: --for, else 60)");
  lag_cmd->add_option("--warning-seconds", lag.warning_seconds, "Lag in seconds for WARN")->capture_default_str();
  lag_cmd->add_option("--critical-seconds", lag.critical_seconds, "Lag in seconds for ERR")->capture_default_str();

  fjord::cli::TxnOptions txn;
  txn.bootstrap = default_bootstrap;
  auto* txn_cmd =
      app.add_subcommand("txn", "Transactions: list, describe, a partition's producers, abort a hanging transaction");
  txn_cmd->require_subcommand(1);
  txn_cmd->fallthrough();
  txn_cmd->add_option("--bootstrap-server", txn.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  txn_cmd->add_option("--format", txn.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  auto* txn_list =
      txn_cmd->add_subcommand("list", "Every transactional id with its producer id, state and coordinator");
  auto* txn_describe = txn_cmd->add_subcommand(
      "describe", "A transactional id's state, producer id and epoch, timeout, start and partitions");
  txn_describe->add_option("TRANSACTIONAL_ID", txn.transactional_id, "The transactional id")->required();
  auto* txn_producers = txn_cmd->add_subcommand(
      "producers", "The producers a partition's leader remembers, with where their open transactions began");
  txn_producers->add_option("--topic", txn.topic, "Topic")->required();
  txn_producers->add_option("--partition", txn.partition, "Partition")->required();
  auto* txn_abort = txn_cmd->add_subcommand(
      "abort", "Write an abort marker for a producer's open transaction in one partition (a hanging transaction)");
  txn_abort->add_option("--topic", txn.topic, "Topic")->required();
  txn_abort->add_option("--partition", txn.partition, "Partition")->required();
  txn_abort->add_option("--producer-id", txn.producer_id, "The producer whose transaction is aborted")->required();

  fjord::cli::UserOptions user;
  user.bootstrap = default_bootstrap;
  auto* user_cmd = app.add_subcommand("user", "SCRAM users the brokers authenticate: create, list, delete");
  user_cmd->require_subcommand(1);
  user_cmd->fallthrough();
  user_cmd->add_option("--bootstrap-server", user.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  user_cmd->add_option("--format", user.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  auto* user_create = user_cmd->add_subcommand(
      "create", "Set a user's password (creating the user): its SCRAM credentials, salted here, never the password");
  user_create->add_option("NAME", user.name, "The user name")->required();
  user_create->add_option("--password-file", user.password_file,
                          "Read the password from this file's first line (default: standard input)");
  user_create->add_option("--mechanism", user.mechanisms, "SCRAM-SHA-256 and/or SCRAM-SHA-512")
      ->check(CLI::IsMember({"SCRAM-SHA-256", "SCRAM-SHA-512"}))
      ->capture_default_str();
  user_create->add_option("--iterations", user.iterations, "PBKDF2 iterations (4096-16384)")->capture_default_str();
  auto* user_list = user_cmd->add_subcommand("list", "Every user with its SCRAM mechanisms and iteration counts");
  auto* user_delete = user_cmd->add_subcommand("delete", "Remove a user's credentials");
  user_delete->add_option("NAME", user.name, "The user name")->required();

  fjord::cli::AclOptions acl;
  acl.bootstrap = default_bootstrap;
  auto* acl_cmd = app.add_subcommand("acl", "Access control lists: create, list, delete");
  acl_cmd->require_subcommand(1);
  acl_cmd->fallthrough();
  acl_cmd->add_option("--bootstrap-server", acl.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  acl_cmd->add_option("--format", acl.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  acl_cmd->add_option("--principal", acl.principal, "Who: User:NAME, or User:* for everyone");
  acl_cmd->add_option("--host", acl.host, "From which address (* for any)")->capture_default_str();
  acl_cmd->add_option("--operation", acl.operation,
                      "READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, "
                      "IDEMPOTENT_WRITE or ALL");
  acl_cmd->add_flag("--deny", acl.deny, "Deny rather than allow");
  acl_cmd->add_option("--topic", acl.topic, "A topic (or * for every topic)");
  acl_cmd->add_option("--group", acl.group, "A consumer group (or *)");
  acl_cmd->add_option("--transactional-id", acl.transactional_id, "A transactional id (or *)");
  acl_cmd->add_flag("--cluster", acl.cluster, "The cluster");
  acl_cmd->add_flag("--prefixed", acl.prefixed, "The name is a prefix: every resource whose name starts with it");
  auto* acl_create = acl_cmd->add_subcommand("create", "Allow (or --deny) a principal an operation on a resource");
  auto* acl_list = acl_cmd->add_subcommand("list", "The ACLs, all or those matching the options");
  auto* acl_delete = acl_cmd->add_subcommand("delete", "Remove the ACLs matching the options");

  fjord::cli::QuotaOptions quota;
  quota.bootstrap = default_bootstrap;
  auto* quota_cmd = app.add_subcommand("quota", "Client quotas (per user and client id): set, list, delete");
  quota_cmd->require_subcommand(1);
  quota_cmd->fallthrough();
  quota_cmd->add_option("--bootstrap-server", quota.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  quota_cmd->add_option("--format", quota.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  quota_cmd->add_option("--user", quota.user, "A user (the principal's name: alice for User:alice)");
  quota_cmd->add_flag("--default-user", quota.default_user, "Every user without a quota of its own");
  quota_cmd->add_option("--client-id", quota.client_id, "A client id");
  quota_cmd->add_flag("--default-client-id", quota.default_client_id, "Every client id without a quota of its own");
  auto* quota_set = quota_cmd->add_subcommand(
      "set", "Set quotas of an entity: producer_byte_rate=N, consumer_byte_rate=N (bytes/s), request_percentage=P");
  quota_set->add_option("VALUES", quota.values, "KEY=VALUE ...")->required();
  auto* quota_list = quota_cmd->add_subcommand("list", "Every entity's quotas, or the named entity's");
  auto* quota_delete =
      quota_cmd->add_subcommand("delete", "Remove quotas of an entity: the named keys, or all of them");
  quota_delete->add_option("KEYS", quota.values, "Keys to remove (default: all)");

  fjord::chaos::ChaosOptions chaos;
  chaos.bootstrap = default_bootstrap;
  auto* chaos_cmd = app.add_subcommand(
      "chaos",
      "Run a verifiable producer and consumer group against a cluster while killing and restarting members; "
      "report lost, skipped and duplicated records and each rebalance's pause");
  chaos_cmd->add_option("--bootstrap-server", chaos.bootstrap, "HOST:PORT[,HOST:PORT...] of brokers")
      ->capture_default_str();
  chaos_cmd->add_option("--topic", chaos.topic, "Topic to create and use (default: chaos-<start time>)");
  chaos_cmd->add_option("--group", chaos.group, "Consumer group (default: the topic's name)");
  chaos_cmd->add_option("--partitions", chaos.partitions, "Partitions of the topic")->capture_default_str();
  chaos_cmd->add_option("--replication-factor", chaos.replication_factor, "Replicas (-1: the cluster's default)")
      ->capture_default_str();
  chaos_cmd->add_option("--members", chaos.members, "Consumer group members")->capture_default_str();
  chaos_cmd->add_option("--duration", chaos.duration_s, "Seconds of production, faults during it")
      ->capture_default_str();
  chaos_cmd->add_option("--rate", chaos.rate, "Records per second")->capture_default_str();
  chaos_cmd->add_option("--process-ms", chaos.process_ms, "Work per record in a member")->capture_default_str();
  chaos_cmd->add_option("--batch", chaos.max_batch, "Most records per batch")->capture_default_str();
  chaos_cmd
      ->add_option("--group-protocol", chaos.group_protocol,
                   "classic, or consumer (KIP-848: the broker assigns; needs librdkafka 2.12 or later)")
      ->check(CLI::IsMember({"classic", "consumer"}))
      ->capture_default_str();
  auto* chaos_strategy =
      chaos_cmd
          ->add_option("--strategy", chaos.strategy,
                       "partition.assignment.strategy: cooperative-sticky, range, roundrobin (classic protocol)")
          ->capture_default_str();
  chaos_cmd->add_flag("!--dynamic", chaos.static_membership, "Dynamic members (no group.instance.id)");
  chaos_cmd->add_flag("--auto-commit", chaos.auto_commit,
                      "Members commit on librdkafka's timer instead of after processing (unsafe: shows what it costs)");
  auto* chaos_session =
      chaos_cmd->add_option("--session-timeout-ms", chaos.session_timeout_ms, "session.timeout.ms (classic protocol)")
          ->capture_default_str();
  chaos_cmd->add_option("--max-poll-interval-ms", chaos.max_poll_interval_ms, "max.poll.interval.ms")
      ->capture_default_str();
  chaos_cmd->add_option("--faults", chaos.faults, "kill, restart, rolling, scale, broker (comma-separated, in turn)")
      ->delimiter(',')
      ->capture_default_str();
  chaos_cmd->add_option("--fault-interval", chaos.fault_interval_s, "Seconds between faults")->capture_default_str();
  chaos_cmd->add_option("--restart-delay-ms", chaos.restart_delay_ms, "How long a killed or stopped member stays down")
      ->capture_default_str();
  chaos_cmd->add_option("--broker-command", chaos.broker_command, "Shell command the broker fault runs");
  chaos_cmd->add_option("--consumer-property", chaos.consumer_properties, "key=value for the members (repeatable)");
  chaos_cmd->add_option("--drain-timeout", chaos.drain_timeout_s, "Seconds to wait for the group to catch up")
      ->capture_default_str();
  chaos_cmd->add_option("--pause-threshold-ms", chaos.pause_threshold_ms, "A partition idle this long is paused")
      ->capture_default_str();
  chaos_cmd->add_option("--work-dir", chaos.work_dir, "Journal and member logs (default: a temporary folder)");
  chaos_cmd->add_option("--format", chaos.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  chaos_cmd->add_option("--json-out", chaos.json_out, "Also write the JSON report to this file");

  // The member processes `fjord chaos` starts; not for direct use.
  fjord::chaos::MemberOptions member;
  std::vector<std::string> member_properties;
  bool member_dynamic = false;
  auto* member_cmd = app.add_subcommand("chaos-member", "")->group("");
  member_cmd->add_option("--bootstrap-server", member.bootstrap)->required();
  member_cmd->add_option("--group", member.group)->required();
  member_cmd->add_option("--topic", member.topic)->required();
  member_cmd->add_option("--journal", member.journal)->required();
  member_cmd->add_option("--instance", member.instance)->required();
  member_cmd->add_option("--group-protocol", member.group_protocol);
  member_cmd->add_option("--strategy", member.strategy);
  member_cmd->add_flag("--dynamic", member_dynamic);
  member_cmd->add_flag("--auto-commit", member.auto_commit);
  member_cmd->add_option("--session-timeout-ms", member.session_timeout_ms);
  member_cmd->add_option("--max-poll-interval-ms", member.max_poll_interval_ms);
  member_cmd->add_option("--process-ms", member.process_ms);
  member_cmd->add_option("--batch", member.max_batch);
  member_cmd->add_option("--consumer-property", member_properties);

  // Every command that is a client of the cluster takes Kafka's client security settings, as Kafka's tools do.
  std::string command_config;
  for (auto* client_command : {topic_cmd, cluster_cmd, group_cmd, produce_cmd, consume_cmd, audit_cmd, lag_cmd, txn_cmd,
                               user_cmd, acl_cmd, quota_cmd, chaos_cmd, member_cmd}) {
    client_command->add_option("--command-config", command_config,
                               "Client security settings, as Kafka's tools take them (security.protocol, "
                               "sasl.mechanism, sasl.jaas.config, ssl.truststore.location, ssl.keystore.location, "
                               "...)");
  }

  CLI11_PARSE(app, argc, argv);
  if (!command_config.empty()) {
    try {
      fjord::cli::set_client_security(fjord::cli::read_command_config(command_config));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  if (*broker_cmd) return fjord::cli::run_broker(broker);
  if (*dev_cmd) return fjord::cli::run_dev(dev);
  if (*topic_create) return fjord::cli::run_topic_create(topic);
  if (*topic_list) return fjord::cli::run_topic_list(topic);
  if (*topic_describe) return fjord::cli::run_topic_describe(topic);
  if (*topic_delete) return fjord::cli::run_topic_delete(topic);
  if (*topic_alter) return fjord::cli::run_topic_alter(topic);
  if (*topic_reassign) {
    reassign.bootstrap = topic.bootstrap;
    return fjord::cli::run_topic_reassign(reassign);
  }
  if (*cluster_drain) return fjord::cli::run_cluster_drain(reassign);
  if (*group_list) return fjord::cli::run_group_list(group);
  if (*group_describe) return fjord::cli::run_group_describe(group);
  if (*group_reset) return fjord::cli::run_group_reset_offsets(group);
  if (*group_delete) return fjord::cli::run_group_delete(group);
  if (*lag_cmd) return fjord::cli::run_lag(lag);
  if (*audit_cmd) return fjord::cli::run_audit(audit);
  if (*produce_cmd) return fjord::cli::run_produce(produce);
  if (*consume_cmd) return fjord::cli::run_consume(consume);
  if (*txn_list) return fjord::cli::run_txn_list(txn);
  if (*txn_describe) return fjord::cli::run_txn_describe(txn);
  if (*txn_producers) return fjord::cli::run_txn_producers(txn);
  if (*txn_abort) return fjord::cli::run_txn_abort(txn);
  if (*user_create) return fjord::cli::run_user_create(user);
  if (*user_list) return fjord::cli::run_user_list(user);
  if (*user_delete) return fjord::cli::run_user_delete(user);
  if (*acl_create) return fjord::cli::run_acl_create(acl);
  if (*acl_list) return fjord::cli::run_acl_list(acl);
  if (*acl_delete) return fjord::cli::run_acl_delete(acl);
  if (*quota_set) return fjord::cli::run_quota_set(quota);
  if (*quota_list) return fjord::cli::run_quota_list(quota);
  if (*quota_delete) return fjord::cli::run_quota_delete(quota);
  if (*chaos_cmd) {
    // With the consumer protocol the broker assigns and times the session: these would be ignored.
    if (chaos.group_protocol == "consumer" && (chaos_strategy->count() > 0 || chaos_session->count() > 0)) {
      std::fprintf(stderr,
                   "error: --strategy and --session-timeout-ms are the broker's with --group-protocol consumer "
                   "(group.remote.assignor as --consumer-property, group.consumer.session.timeout.ms on the broker)\n");
      return 2;
    }
    chaos.command_config = command_config;
    chaos.client_properties = fjord::cli::with_client_security({});
    return fjord::chaos::run_chaos(chaos);
  }
  if (*member_cmd) {
    member.static_membership = !member_dynamic;
    for (const auto& kv : member_properties) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) return 2;
      member.properties[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    member.properties = fjord::cli::with_client_security(std::move(member.properties));
    return fjord::chaos::run_member(member);
  }
  return 2;
}
