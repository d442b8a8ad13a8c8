// AlterConfigs: replaces a resource's whole set of overrides with the keys given (keys left out return to their
// defaults), as Kafka's older API does.
#include "protocol/messages/alter_configs.h"

#include "server/handlers/alter_configs_common.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_alter_configs(RequestContext context) {
  auto request = context.decode<protocol::AlterConfigsRequest>();
  auto completion = Completion<protocol::AlterConfigsResponse>::start(context);
  completion->response.responses.resize(request.resources.size());
  for (size_t i = 0; i < request.resources.size(); ++i) {
    const auto& resource = request.resources[i];
    auto& out = completion->response.responses[i];
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    std::vector<cluster::ConfigChange> changes;
    for (const auto& c : resource.configs) changes.push_back({c.name, c.value, cluster::ConfigChange::Op::kSet});
    if (auto refused = config_authorization_error(context, resource.resource_type, resource.resource_name,
                                                  AclOperation::kAlterConfigs)) {
      out.error_code = wire(*refused);
      out.error_message = "Not authorized to alter the configs of " + resource.resource_name;
      continue;
    }
    completion->add_one();
    alter_resource(context, resource.resource_type, resource.resource_name, changes, false, request.validate_only,
                   record_resource_outcome(completion, i));
  }
  completion->all_started();
}

}  // namespace fjord::server
