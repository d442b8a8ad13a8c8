// EndTxn: commit or abort a producer's transaction. Answered once the decision (PrepareCommit or PrepareAbort) is
// durable in __transaction_state; the coordinator then writes the markers and completes it, and until then the
// producer's next transactional request is answered CONCURRENT_TRANSACTIONS (clients retry).
#include "protocol/messages/end_txn.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_end_txn(RequestContext context) {
  auto request = context.decode<protocol::EndTxnRequest>();
  context.server().transactions.end_transaction(request.transactional_id, request.producer_id, request.producer_epoch,
                                                request.committed, [context](ErrorCode error) {
                                                  protocol::EndTxnResponse response;
                                                  response.error_code = wire(error);
                                                  context.respond(response);
                                                });
}

}  // namespace fjord::server
