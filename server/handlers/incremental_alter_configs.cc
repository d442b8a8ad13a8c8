// IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT (the last two on list keys) on single keys.
#include "protocol/messages/incremental_alter_configs.h"

#include "server/handlers/alter_configs_common.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_incremental_alter_configs(RequestContext context) {
  auto request = context.decode<protocol::IncrementalAlterConfigsRequest>();
  auto completion = Completion<protocol::IncrementalAlterConfigsResponse>::start(context);
  completion->response.responses.resize(request.resources.size());
  for (size_t i = 0; i < request.resources.size(); ++i) {
    const auto& resource = request.resources[i];
    auto& out = completion->response.responses[i];
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    std::vector<cluster::ConfigChange> changes;
    bool valid = true;
    for (const auto& c : resource.configs) {
      if (c.config_operation < 0 || c.config_operation > 3) valid = false;
      changes.push_back({c.name, c.value, static_cast<cluster::ConfigChange::Op>(c.config_operation)});
    }
    if (!valid) {
      out.error_code = wire(ErrorCode::kInvalidRequest);
      out.error_message = "Unknown config operation";
      continue;
    }
    if (auto refused = config_authorization_error(context, resource.resource_type, resource.resource_name,
                                                  AclOperation::kAlterConfigs)) {
      out.error_code = wire(*refused);
      out.error_message = "Not authorized to alter the configs of " + resource.resource_name;
      continue;
    }
    completion->add_one();
    alter_resource(context, resource.resource_type, resource.resource_name, changes, true, request.validate_only,
                   record_resource_outcome(completion, i));
  }
  completion->all_started();
}

}  // namespace fjord::server
