// AlterClientQuotas: sets or removes quota values of user and client-id entities in the cluster metadata (etcd in
// a cluster, so every broker enforces the same ones). Each entity is checked on its own and refused with a
// reason (INVALID_REQUEST), the others going ahead; validate_only checks without storing.
#include "protocol/messages/alter_client_quotas.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_alter_client_quotas(RequestContext context) {
  auto request = context.decode<protocol::AlterClientQuotasRequest>();
  auto response = std::make_shared<protocol::AlterClientQuotasResponse>();
  const bool allowed = context.authorized_on_cluster(AclOperation::kAlterConfigs);
  struct Change {
    ClientQuotaEntity entity;
    std::map<std::string, std::optional<double>> values;  // nullopt: remove
  };
  std::vector<Change> changes;
  for (const auto& entry : request.entries) {
    auto& result = response->entries.emplace_back();
    std::vector<std::pair<std::string, std::optional<std::string>>> parts;
    for (const auto& e : entry.entity) {
      result.entity.push_back({e.entity_type, e.entity_name, {}});
      parts.emplace_back(e.entity_type, e.entity_name);
    }
    auto fail = [&](ErrorCode error, std::string message) {
      result.error_code = wire(error);
      result.error_message = std::move(message);
    };
    if (!allowed) {
      fail(ErrorCode::kClusterAuthorizationFailed, "Not authorized to alter quotas (ALTER_CONFIGS on the cluster)");
      continue;
    }
    Change change;
    if (auto problem = parse_quota_entity(parts, change.entity)) {
      fail(ErrorCode::kInvalidRequest, *problem);
      continue;
    }
    std::optional<std::string> problem;
    for (const auto& op : entry.ops) {
      if (change.values.count(op.key)) problem = "Duplicate quota key " + op.key;
      if (!op.remove && !problem) problem = invalid_quota_value(op.key, op.value);
      if (problem) break;
      change.values[op.key] = op.remove ? std::nullopt : std::optional<double>(op.value);
    }
    if (problem) {
      fail(ErrorCode::kInvalidRequest, *problem);
      continue;
    }
    changes.push_back(std::move(change));
  }
  auto* store = context.server().metadata_store;
  if (changes.empty() || request.validate_only || !store) {
    if (!store && !changes.empty() && !request.validate_only) {
      for (auto& result : response->entries) {
        if (result.error_code != 0) continue;
        result.error_code = wire(ErrorCode::kKafkaStorageError);
        result.error_message = "No metadata store to keep quotas in";
      }
    }
    context.respond(*response);
    return;
  }
  store->update(
      [changes](cluster::ClusterMetadata& metadata) {
        for (const auto& change : changes) {
          auto& values = metadata.client_quotas[change.entity];
          for (const auto& [key, value] : change.values) {
            if (value) {
              values[key] = *value;
            } else {
              values.erase(key);
            }
          }
          if (values.empty()) metadata.client_quotas.erase(change.entity);
        }
      },
      [context, response](std::error_code error) {
        if (error) {
          for (auto& result : response->entries) {
            if (result.error_code != 0) continue;
            result.error_code = wire(ErrorCode::kKafkaStorageError);
            result.error_message = "The quotas could not be stored: " + error.message();
          }
        }
        context.respond(*response);
      });
}

}  // namespace fjord::server
