// EndTxn: commit or abort a producer's transaction. Answered once the decision (PrepareCommit or PrepareAbort) is
// durable in __transaction_state; the coordinator then writes the markers and completes it, and until then the
// producer's next transactional request is answered CONCURRENT_TRANSACTIONS (clients retry). v5 (transactions
// v2) bumps the producer's epoch and answers with the id and epoch its next transaction uses.
#include "protocol/messages/end_txn.h"

#include "server/handlers/registry.h"

namespace fjord::server {

namespace {
constexpr int16_t kEpochBumpVersion = 5;
}  // namespace

void handle_end_txn(RequestContext context) {
  auto request = context.decode<protocol::EndTxnRequest>();
  if (!context.authorized(AclOperation::kWrite, AclResourceType::kTransactionalId, request.transactional_id)) {
    protocol::EndTxnResponse response;
    response.error_code = wire(ErrorCode::kTransactionalIdAuthorizationFailed);
    context.respond(response);
    return;
  }
  context.server().transactions.end_transaction(request.transactional_id, request.producer_id, request.producer_epoch,
                                                request.committed, context.version() >= kEpochBumpVersion,
                                                [context](coordinator::ProducerIdentity next) {
                                                  protocol::EndTxnResponse response;
                                                  response.error_code = wire(next.error);
                                                  response.producer_id = next.producer_id;
                                                  response.producer_epoch = next.producer_epoch;
                                                  context.respond(response);
                                                });
}

}  // namespace fjord::server
