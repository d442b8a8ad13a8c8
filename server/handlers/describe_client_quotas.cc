// DescribeClientQuotas: the quota entities in the cluster metadata that match the request's filter (Kafka's
// rules, model/client_quota.h), each with its values.
#include "protocol/messages/describe_client_quotas.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_client_quotas(RequestContext context) {
  auto request = context.decode<protocol::DescribeClientQuotasRequest>();
  protocol::DescribeClientQuotasResponse response;
  auto refuse = [&](ErrorCode error, std::string message) {
    response.error_code = wire(error);
    response.error_message = std::move(message);
    response.entries.reset();
    context.respond(response);
  };
  if (!context.authorized_on_cluster(AclOperation::kDescribeConfigs)) {
    return refuse(ErrorCode::kClusterAuthorizationFailed,
                  "Not authorized to describe quotas (DESCRIBE_CONFIGS on the cluster)");
  }
  std::vector<QuotaFilterComponent> components;
  for (const auto& c : request.components) {
    components.push_back({c.entity_type, static_cast<QuotaFilterComponent::Match>(c.match_type), c.match});
  }
  if (auto problem = invalid_quota_filter(components)) return refuse(ErrorCode::kInvalidRequest, *problem);
  response.entries.emplace();
  for (const auto& [entity, values] : context.server().partitions.metadata().client_quotas) {
    if (!quota_filter_matches(components, request.strict, entity)) continue;
    auto& entry = response.entries->emplace_back();
    auto add = [&](std::string_view type, const QuotaEntityPart& part) {
      if (part.present) entry.entity.push_back({std::string(type), part.name, {}});
    };
    add(kQuotaEntityUser, entity.user);
    add(kQuotaEntityClientId, entity.client_id);
    for (const auto& [key, value] : values) entry.values.push_back({key, value, {}});
  }
  context.respond(response);
}

}  // namespace fjord::server
