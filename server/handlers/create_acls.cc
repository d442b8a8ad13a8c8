// CreateAcls: stores ACL bindings in the cluster metadata (etcd in a cluster, so every broker enforces the same
// ones); a binding already stored is not stored twice. One result per creation, in order.
#include "protocol/messages/create_acls.h"

#include <algorithm>

#include "server/handlers/acls_common.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_create_acls(RequestContext context) {
  auto request = context.decode<protocol::CreateAclsRequest>();
  auto response = std::make_shared<protocol::CreateAclsResponse>();
  response->results.resize(request.creations.size());
  auto refuse_all = [&](ErrorCode error, const std::string& message) {
    for (auto& result : response->results) {
      result.error_code = wire(error);
      result.error_message = message;
    }
    context.respond(*response);
  };
  if (auto refusal = acl_request_refusal(context, AclOperation::kAlter)) {
    return refuse_all(refusal->first, refusal->second);
  }
  std::vector<AclBinding> valid;
  for (size_t i = 0; i < request.creations.size(); ++i) {
    const auto& c = request.creations[i];
    AclBinding binding{static_cast<AclResourceType>(c.resource_type),
                       c.resource_name,
                       static_cast<AclPatternType>(c.resource_pattern_type),
                       c.principal,
                       c.host,
                       static_cast<AclOperation>(c.operation),
                       static_cast<AclPermission>(c.permission_type)};
    if (auto problem = invalid_acl_binding(binding)) {
      response->results[i].error_code = wire(ErrorCode::kInvalidRequest);
      response->results[i].error_message = *problem;
      continue;
    }
    valid.push_back(std::move(binding));
  }
  auto* store = context.server().metadata_store;
  if (!store) return refuse_all(ErrorCode::kKafkaStorageError, "No metadata store to keep ACLs in");
  if (valid.empty()) {
    context.respond(*response);
    return;
  }
  store->update(
      [valid](cluster::ClusterMetadata& metadata) {
        for (const auto& binding : valid) {
          if (std::find(metadata.acls.begin(), metadata.acls.end(), binding) == metadata.acls.end()) {
            metadata.acls.push_back(binding);
          }
        }
      },
      [context, response](std::error_code error) {
        if (error) {
          for (auto& result : response->results) {
            if (result.error_code != 0) continue;
            result.error_code = wire(ErrorCode::kKafkaStorageError);
            result.error_message = "The ACLs could not be stored: " + error.message();
          }
        }
        context.respond(*response);
      });
}

}  // namespace fjord::server
