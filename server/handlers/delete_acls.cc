// DeleteAcls: removes the stored bindings each filter matches, and names them in the answer.
#include "protocol/messages/delete_acls.h"

#include <algorithm>

#include "server/handlers/acls_common.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_delete_acls(RequestContext context) {
  auto request = context.decode<protocol::DeleteAclsRequest>();
  auto response = std::make_shared<protocol::DeleteAclsResponse>();
  response->filter_results.resize(request.filters.size());
  auto refuse_all = [&](ErrorCode error, const std::string& message) {
    for (auto& result : response->filter_results) {
      result.error_code = wire(error);
      result.error_message = message;
    }
    context.respond(*response);
  };
  if (auto refusal = acl_request_refusal(context, AclOperation::kAlter)) {
    return refuse_all(refusal->first, refusal->second);
  }
  std::vector<AclFilter> filters;
  for (const auto& f : request.filters) filters.push_back(acl_filter_of(f));
  // What each filter matches now: the answer names these, and the change removes every binding any filter matches.
  const auto& acls = context.server().partitions.metadata().acls;
  for (size_t i = 0; i < filters.size(); ++i) {
    for (const auto& acl : acls) {
      if (!filters[i].matches(acl)) continue;
      auto& matched = response->filter_results[i].matching_acls.emplace_back();
      matched.resource_type = static_cast<int8_t>(acl.resource_type);
      matched.resource_name = acl.resource_name;
      matched.pattern_type = static_cast<int8_t>(acl.pattern_type);
      matched.principal = acl.principal;
      matched.host = acl.host;
      matched.operation = static_cast<int8_t>(acl.operation);
      matched.permission_type = static_cast<int8_t>(acl.permission);
    }
  }
  auto* store = context.server().metadata_store;
  if (!store) return refuse_all(ErrorCode::kKafkaStorageError, "No metadata store to remove ACLs from");
  store->update(
      [filters](cluster::ClusterMetadata& metadata) {
        std::erase_if(metadata.acls, [&](const AclBinding& acl) {
          return std::any_of(filters.begin(), filters.end(), [&](const AclFilter& f) { return f.matches(acl); });
        });
      },
      [context, response](std::error_code error) {
        if (error) {
          for (auto& result : response->filter_results) {
            result.error_code = wire(ErrorCode::kKafkaStorageError);
            result.error_message = "The ACLs could not be removed: " + error.message();
            result.matching_acls.clear();
          }
        }
        context.respond(*response);
      });
}

}  // namespace fjord::server
