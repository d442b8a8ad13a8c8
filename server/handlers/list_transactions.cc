// ListTransactions: the transactional ids this broker coordinates, filtered by state names (Kafka's, e.g.
// "Ongoing"; names it does not know are returned as unknown), by producer id, and (v1+) by how long the
// transaction has been running.
#include "protocol/messages/list_transactions.h"

#include <algorithm>

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_list_transactions(RequestContext context) {
  auto request = context.decode<protocol::ListTransactionsRequest>();
  protocol::ListTransactionsResponse response;
  std::vector<std::string> known_states;
  for (int8_t s = 0; s <= static_cast<int8_t>(coordinator::TransactionState::kPrepareEpochFence); ++s) {
    known_states.push_back(coordinator::transaction_state_name(static_cast<coordinator::TransactionState>(s)));
  }
  for (const auto& filter : request.state_filters) {
    if (std::find(known_states.begin(), known_states.end(), filter) == known_states.end()) {
      response.unknown_state_filters.push_back(filter);
    }
  }
  const int64_t now = context.server().clock.now_ms();
  for (const auto& txn : context.server().transactions.list()) {
    const std::string state = coordinator::transaction_state_name(txn.state);
    auto& states = request.state_filters;
    auto& producers = request.producer_id_filters;
    if (!states.empty() && std::find(states.begin(), states.end(), state) == states.end()) continue;
    if (!producers.empty() && std::find(producers.begin(), producers.end(), txn.producer_id) == producers.end()) {
      continue;
    }
    if (request.duration_filter >= 0 && now - txn.start_ms < request.duration_filter) continue;
    // Only the transactional ids the principal may DESCRIBE are listed.
    if (!context.authorized(AclOperation::kDescribe, AclResourceType::kTransactionalId, txn.transactional_id)) {
      continue;
    }
    auto& out = response.transaction_states.emplace_back();
    out.transactional_id = txn.transactional_id;
    out.producer_id = txn.producer_id;
    out.transaction_state = state;
  }
  context.respond(response);
}

}  // namespace fjord::server
