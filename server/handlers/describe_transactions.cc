// DescribeTransactions: the coordinator's state of each transactional id asked for: its state, timeout, start,
// producer id and epoch, and the partitions its ongoing transaction writes to.
#include "protocol/messages/describe_transactions.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_transactions(RequestContext context) {
  auto request = context.decode<protocol::DescribeTransactionsRequest>();
  protocol::DescribeTransactionsResponse response;
  for (const auto& id : request.transactional_ids) {
    auto& out = response.transaction_states.emplace_back();
    out.transactional_id = id;
    if (!context.authorized(AclOperation::kDescribe, AclResourceType::kTransactionalId, id)) {
      out.error_code = wire(ErrorCode::kTransactionalIdAuthorizationFailed);
      continue;
    }
    auto d = context.server().transactions.describe(id);
    out.error_code = wire(d.error);
    if (d.error != ErrorCode::kNone) continue;
    out.transaction_state = coordinator::transaction_state_name(d.state);
    out.transaction_timeout_ms = d.timeout_ms;
    out.transaction_start_time_ms = d.start_ms;
    out.producer_id = d.producer_id;
    out.producer_epoch = d.producer_epoch;
    for (const auto& tp : d.partitions) {
      // Partitions of topics the principal may not DESCRIBE are left out.
      if (!context.authorized(AclOperation::kDescribe, AclResourceType::kTopic, tp.topic)) continue;
      if (out.topics.empty() || out.topics.back().topic != tp.topic) out.topics.emplace_back().topic = tp.topic;
      out.topics.back().partitions.push_back(tp.partition);
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
