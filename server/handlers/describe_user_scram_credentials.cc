// DescribeUserScramCredentials: each user's SCRAM mechanisms and iteration counts (never salts or keys).
#include "protocol/messages/describe_user_scram_credentials.h"

#include <set>

#include "server/handlers/registry.h"
#include "server/security/scram.h"

namespace fjord::server {

void handle_describe_user_scram_credentials(RequestContext context) {
  auto request = context.decode<protocol::DescribeUserScramCredentialsRequest>();
  protocol::DescribeUserScramCredentialsResponse response;
  if (!context.authorized_on_cluster(AclOperation::kDescribe)) {
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    response.error_message = "Not authorized to describe users (DESCRIBE on the cluster)";
    context.respond(response);
    return;
  }
  const auto& users = context.server().partitions.metadata().scram_credentials;
  auto describe = [&](const std::string& name) {
    auto& result = response.results.emplace_back();
    result.user = name;
    auto it = users.find(name);
    if (it == users.end() || it->second.empty()) {
      result.error_code = wire(ErrorCode::kResourceNotFound);
      result.error_message = "Attempt to describe a user credential that does not exist";
      return;
    }
    for (const auto& [mechanism, credential] : it->second) {
      auto hash = security::scram_hash_by_name(mechanism);
      if (!hash) continue;
      result.credential_infos.push_back({security::scram_wire_number(*hash), credential.iterations, {}});
    }
  };
  if (!request.users || request.users->empty()) {
    for (const auto& [name, credentials] : users) {
      if (!credentials.empty()) describe(name);
    }
  } else {
    std::set<std::string> seen, duplicated;
    for (const auto& user : *request.users) {
      if (!seen.insert(user.name).second) duplicated.insert(user.name);
    }
    for (const auto& name : seen) {
      if (duplicated.count(name)) {
        auto& result = response.results.emplace_back();
        result.user = name;
        result.error_code = wire(ErrorCode::kDuplicateResource);
        result.error_message = "Cannot describe SCRAM credentials for the same user twice in a single request";
        continue;
      }
      describe(name);
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
