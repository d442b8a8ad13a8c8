// FindCoordinator: which broker coordinates a group or a transactional id. On one node it is always this broker;
// in a cluster, the leader of the key's partition of __consumer_offsets or __transaction_state (the topic is
// created on the first question, and until it has leaders the answer is COORDINATOR_NOT_AVAILABLE, which clients
// retry).
#include "protocol/messages/find_coordinator.h"

#include "coordinator/offsets_records.h"
#include "coordinator/transaction_records.h"
#include "server/handlers/registry.h"

namespace fjord::server {

namespace {

constexpr int8_t kGroupKey = 0;
constexpr int8_t kTransactionKey = 1;

std::pair<ErrorCode, std::optional<std::string>> coordinator_error(int8_t key_type, const std::string& key) {
  if (key_type == kGroupKey) {
    if (key.empty()) return {ErrorCode::kInvalidRequest, "the group id is empty"};
    return {ErrorCode::kNone, std::nullopt};
  }
  if (key_type == kTransactionKey) {
    if (key.empty()) return {ErrorCode::kInvalidRequest, "the transactional id is empty"};
    return {ErrorCode::kNone, std::nullopt};
  }
  return {ErrorCode::kInvalidRequest, "unknown key type " + std::to_string(key_type)};
}

struct Found {
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> message;
  cluster::BrokerEndpoint broker{-1, "", -1, std::nullopt};
};

// The coordinator of `key` at its address on the listener the request came in on.
Found find(const RequestContext& context, int8_t key_type, const std::string& key) {
  auto& server = context.server();
  auto [error, message] = coordinator_error(key_type, key);
  if (error != ErrorCode::kNone) return {error, message};
  if (key_type == kGroupKey && !context.authorized(AclOperation::kDescribe, AclResourceType::kGroup, key)) {
    return {ErrorCode::kGroupAuthorizationFailed, "Not authorized to describe group " + key};
  }
  if (key_type != kGroupKey && !context.authorized(AclOperation::kDescribe, AclResourceType::kTransactionalId, key)) {
    return {ErrorCode::kTransactionalIdAuthorizationFailed, "Not authorized to describe transactional id " + key};
  }
  if (!server.partitions.cluster_mode()) {
    auto self = context.broker(server.identity.node_id);
    return {ErrorCode::kNone, std::nullopt, *self};
  }
  // The leader of the key's partition of the coordinator's internal topic.
  const bool group = key_type == kGroupKey;
  const Found unavailable{ErrorCode::kCoordinatorNotAvailable, "the coordinator has no leader yet"};
  const auto* internal =
      server.partitions.topic(group ? coordinator::kOffsetsTopic : coordinator::kTransactionStateTopic);
  if (!internal) {
    if (group) {
      server.groups.ensure_partitions();
    } else {
      server.transactions.ensure_partitions();
    }
    return unavailable;
  }
  const auto partition =
      static_cast<size_t>(group ? server.groups.partition_for(key) : server.transactions.partition_for(key));
  if (partition >= internal->assignments.size() || internal->assignments[partition].leader < 0) return unavailable;
  auto broker = context.broker(internal->assignments[partition].leader);
  if (!broker) return unavailable;
  return {ErrorCode::kNone, std::nullopt, *broker};
}

}  // namespace

void handle_find_coordinator(RequestContext context) {
  auto request = context.decode<protocol::FindCoordinatorRequest>();
  protocol::FindCoordinatorResponse response;
  if (context.version() < 4) {
    auto found = find(context, request.key_type, request.key);
    response.error_code = wire(found.error);
    response.error_message = found.message;
    response.node_id = found.broker.node_id;
    response.host = found.broker.host;
    response.port = found.broker.port;
  } else {
    for (const auto& key : request.coordinator_keys) {
      auto found = find(context, request.key_type, key);
      auto& c = response.coordinators.emplace_back();
      c.key = key;
      c.error_code = wire(found.error);
      c.error_message = found.message;
      c.node_id = found.broker.node_id;
      c.host = found.broker.host;
      c.port = found.broker.port;
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
