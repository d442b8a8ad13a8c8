// CreateTopics: -1 partitions or replication factor means the broker's default (v4+). Manual replica
// assignments are accepted when they name only this broker. v5+ answers with the created topic's configuration.
#include "protocol/messages/create_topics.h"

#include <set>

#include "server/handlers/completion.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_create_topics(RequestContext context) {
  auto request = context.decode<protocol::CreateTopicsRequest>();
  auto& partitions = context.server().partitions;
  const int32_t node = context.server().identity.node_id;
  auto completion = Completion<protocol::CreateTopicsResponse>::start(context);
  completion->response.topics.resize(request.topics.size());
  std::set<std::string> seen;
  const bool may_create_any = context.authorized_on_cluster(AclOperation::kCreate);
  for (size_t i = 0; i < request.topics.size(); ++i) {
    const auto& topic = request.topics[i];
    auto& out = completion->response.topics[i];
    out.name = topic.name;
    if (!seen.insert(topic.name).second) {
      out.error_code = wire(ErrorCode::kInvalidRequest);
      out.error_message = "Create topics request from client contains a duplicate topic: " + topic.name;
      continue;
    }
    if (!may_create_any && !context.authorized(AclOperation::kCreate, AclResourceType::kTopic, topic.name)) {
      out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
      out.error_message = "Authorization failed.";
      continue;
    }
    int32_t partition_count = topic.num_partitions;
    int16_t replication_factor = topic.replication_factor;
    if (!topic.assignments.empty()) {
      if (partition_count != -1 || replication_factor != -1) {
        out.error_code = wire(ErrorCode::kInvalidRequest);
        out.error_message = "Both numPartitions or replicationFactor and replicasAssignments were set.";
        continue;
      }
      bool only_this_broker = true;
      for (const auto& a : topic.assignments) {
        only_this_broker &= a.broker_ids.size() == 1 && a.broker_ids[0] == node;
      }
      if (!only_this_broker) {
        out.error_code = wire(ErrorCode::kInvalidReplicaAssignment);
        out.error_message = "Replica assignments may only name broker " + std::to_string(node) + ".";
        continue;
      }
      partition_count = static_cast<int32_t>(topic.assignments.size());
      replication_factor = 1;
    }
    cluster::ConfigMap configs;
    bool null_value = false;
    for (const auto& c : topic.configs) {
      if (!c.value)
        null_value = true;
      else
        configs[c.name] = *c.value;
    }
    if (null_value) {
      out.error_code = wire(ErrorCode::kInvalidConfig);
      out.error_message = "Null value not supported for topic configs";
      continue;
    }
    completion->add_one();
    const bool validate_only = request.validate_only;
    partitions.create_topic(topic.name, partition_count, replication_factor, configs, validate_only,
                            [completion, i, partition_count, &partitions](cluster::AdminResult result) {
                              auto& out = completion->response.topics[i];
                              out.error_code = wire(result.error);
                              if (result.error != ErrorCode::kNone) {
                                out.error_message = result.message;
                                completion->finish_one();
                                return;
                              }
                              out.error_message = std::nullopt;
                              const auto* created = partitions.topic(out.name);
                              if (!created) {  // validate_only: describe what would have been created
                                out.num_partitions =
                                    partition_count == -1
                                        ? static_cast<int32_t>(partitions.settings().get_long("num.partitions"))
                                        : partition_count;
                                out.replication_factor = 1;
                                completion->finish_one();
                                return;
                              }
                              out.topic_id = created->id;
                              out.num_partitions = created->partitions;
                              out.replication_factor = created->replication_factor;
                              std::vector<protocol::CreateTopicsResponse::CreatableTopicConfigs> entries;
                              for (const auto& resolved : partitions.describe_topic_configs(*created)) {
                                protocol::CreateTopicsResponse::CreatableTopicConfigs entry;
                                entry.name = resolved.name;
                                entry.value = resolved.value;
                                entry.read_only = resolved.read_only;
                                entry.config_source = static_cast<int8_t>(resolved.source);
                                entries.push_back(std::move(entry));
                              }
                              out.configs = std::move(entries);
                              completion->finish_one();
                            });
  }
  completion->all_started();
}

}  // namespace fjord::server
