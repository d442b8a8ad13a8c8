// What AlterConfigs and IncrementalAlterConfigs share: resource types and the dispatch of one resource's changes
// to the topic or the broker.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cluster/partition_manager.h"
#include "server/handlers/completion.h"
#include "server/request_context.h"

namespace fjord::server {

inline constexpr int8_t kTopicResourceType = 2;
inline constexpr int8_t kBrokerResourceType = 4;

// Kafka's check for a config resource: `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on the topic, or on the
// cluster for a broker; the error to answer when the principal lacks it. Checked before the topic's existence, so
// that a refusal does not tell which topics exist.
inline std::optional<ErrorCode> config_authorization_error(const RequestContext& context, int8_t resource_type,
                                                           const std::string& resource_name, AclOperation operation) {
  if (resource_type == kTopicResourceType) {
    if (!context.authorized(operation, AclResourceType::kTopic, resource_name)) {
      return ErrorCode::kTopicAuthorizationFailed;
    }
  } else if (resource_type == kBrokerResourceType) {
    if (!context.authorized_on_cluster(operation)) return ErrorCode::kClusterAuthorizationFailed;
  }
  return std::nullopt;
}

// Applies `changes` to one resource; `done` gets the outcome.
inline void alter_resource(RequestContext& context, int8_t resource_type, const std::string& resource_name,
                           const std::vector<cluster::ConfigChange>& changes, bool incremental, bool validate_only,
                           cluster::AdminCallback done) {
  auto& partitions = context.server().partitions;
  if (resource_type == kTopicResourceType) {
    partitions.alter_topic_configs(resource_name, changes, incremental, validate_only, std::move(done));
    return;
  }
  if (resource_type == kBrokerResourceType) {
    const std::string node = std::to_string(context.server().identity.node_id);
    if (!resource_name.empty() && resource_name != node) {
      done({ErrorCode::kInvalidRequest,
            "Unexpected broker id, expected " + node + " or empty string, but received " + resource_name});
      return;
    }
    partitions.alter_broker_configs(changes, incremental, validate_only, std::move(done));
    return;
  }
  done({ErrorCode::kInvalidRequest, "Unsupported resource type " + std::to_string(resource_type)});
}

// The callback that records one resource's outcome in `responses[index]` and counts it done.
template <typename Response>
cluster::AdminCallback record_resource_outcome(std::shared_ptr<Completion<Response>> completion, size_t index) {
  return [completion, index](cluster::AdminResult result) {
    auto& out = completion->response.responses[index];
    out.error_code = wire(result.error);
    out.error_message = result.error == ErrorCode::kNone ? std::nullopt : std::optional<std::string>(result.message);
    completion->finish_one();
  };
}

}  // namespace fjord::server
