// FindCoordinator: which broker coordinates a group. On one node it is always this broker. Transactions are not
// served yet, so a transaction coordinator is not available (clients keep asking rather than fail).
#include "protocol/messages/find_coordinator.h"

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
  if (key_type == kTransactionKey) return {ErrorCode::kCoordinatorNotAvailable, "transactions are not served yet"};
  return {ErrorCode::kInvalidRequest, "unknown key type " + std::to_string(key_type)};
}

}  // namespace

void handle_find_coordinator(RequestContext context) {
  auto request = context.decode<protocol::FindCoordinatorRequest>();
  const auto& me = context.server().identity;
  protocol::FindCoordinatorResponse response;
  if (context.version() < 4) {
    auto [error, message] = coordinator_error(request.key_type, request.key);
    response.error_code = wire(error);
    response.error_message = message;
    response.node_id = error == ErrorCode::kNone ? me.node_id : -1;
    response.host = error == ErrorCode::kNone ? me.advertised_host : "";
    response.port = error == ErrorCode::kNone ? me.advertised_port : -1;
  } else {
    for (const auto& key : request.coordinator_keys) {
      auto [error, message] = coordinator_error(request.key_type, key);
      auto& c = response.coordinators.emplace_back();
      c.key = key;
      c.error_code = wire(error);
      c.error_message = message;
      c.node_id = error == ErrorCode::kNone ? me.node_id : -1;
      c.host = error == ErrorCode::kNone ? me.advertised_host : "";
      c.port = error == ErrorCode::kNone ? me.advertised_port : -1;
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
