// `fjord topic create | list | describe | alter | delete`: topics as an operator sees them, through the Admin API of
// any Kafka-compatible cluster. `describe` shows each partition's leader, replicas and ISR, and flags partitions that
// are under-replicated (ISR smaller than the replicas), under min ISR (acks=all writes are refused) or offline.
#pragma once

#include <string>
#include <vector>

namespace fjord::cli {

struct TopicOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";  // or "json"
  std::vector<std::string> topics;
  int partitions = -1;               // create: -1 = the broker's num.partitions
  int replication_factor = -1;       // create: -1 = the broker's default.replication.factor
  std::vector<std::string> configs;  // create, alter: key=value
  // alter: settings to remove (back to the broker's value), and a new partition count (only ever more)
  std::vector<std::string> delete_configs;
  int new_partitions = -1;
};

int run_topic_create(const TopicOptions& options);
int run_topic_list(const TopicOptions& options);
int run_topic_describe(const TopicOptions& options);
int run_topic_delete(const TopicOptions& options);
// Changes only the settings named (IncrementalAlterConfigs: the others stay), then adds partitions.
int run_topic_alter(const TopicOptions& options);

}  // namespace fjord::cli
