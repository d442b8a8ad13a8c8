// DescribeConfigs: every key of a topic (resource type 2) or of this broker (4), or the keys asked for, each
// with its value, source and, on request, synonyms and documentation.
#include "protocol/messages/describe_configs.h"

#include "server/handlers/alter_configs_common.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_configs(RequestContext context) {
  auto request = context.decode<protocol::DescribeConfigsRequest>();
  auto& partitions = context.server().partitions;
  const std::string node = std::to_string(context.server().identity.node_id);
  protocol::DescribeConfigsResponse response;
  for (const auto& resource : request.resources) {
    auto& out = response.results.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    std::vector<cluster::ResolvedConfig> configs;
    if (auto refused = config_authorization_error(context, resource.resource_type, resource.resource_name,
                                                  AclOperation::kDescribeConfigs)) {
      out.error_code = wire(*refused);
      out.error_message = "Not authorized to describe the configs of " + resource.resource_name;
      continue;
    }
    if (resource.resource_type == kTopicResourceType) {
      const auto* topic = partitions.topic(resource.resource_name);
      if (!topic) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        out.error_message = "Topic " + resource.resource_name + " does not exist.";
        continue;
      }
      configs = partitions.describe_topic_configs(*topic);
    } else if (resource.resource_type == kBrokerResourceType) {
      if (!resource.resource_name.empty() && resource.resource_name != node) {
        out.error_code = wire(ErrorCode::kInvalidRequest);
        out.error_message =
            "Unexpected broker id, expected " + node + " or empty string, but received " + resource.resource_name;
        continue;
      }
      configs = partitions.describe_broker_configs();
    } else {
      out.error_code = wire(ErrorCode::kInvalidRequest);
      out.error_message = "Unsupported resource type " + std::to_string(resource.resource_type);
      continue;
    }
    out.error_message = std::nullopt;
    for (const auto& resolved : configs) {
      if (resource.configuration_keys &&
          std::find(resource.configuration_keys->begin(), resource.configuration_keys->end(), resolved.name) ==
              resource.configuration_keys->end()) {
        continue;
      }
      auto& entry = out.configs.emplace_back();
      entry.name = resolved.name;
      const bool sensitive = resolved.type == cluster::ConfigType::kPassword;
      if (!sensitive) entry.value = resolved.value;
      entry.read_only = resolved.read_only;
      entry.config_source = static_cast<int8_t>(resolved.source);
      entry.is_sensitive = sensitive;
      entry.config_type = static_cast<int8_t>(resolved.type);
      if (request.include_documentation) entry.documentation = std::string(resolved.documentation);
      if (request.include_synonyms) {
        for (const auto& [name, value_and_source] : resolved.synonyms) {
          std::optional<std::string> value;
          if (!sensitive) value = value_and_source.first;
          entry.synonyms.push_back({name, value, static_cast<int8_t>(value_and_source.second), {}});
        }
      }
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
