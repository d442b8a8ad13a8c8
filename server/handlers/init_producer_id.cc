// InitProducerId: a producer id and epoch for an idempotent producer (a new id every time, as Kafka does when
// there is no transactional.id), or, from the transaction coordinator, the id of a transactional.id with its
// epoch bumped, which fences the previous instance of that producer (and aborts a transaction it left open).
#include "protocol/messages/init_producer_id.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_init_producer_id(RequestContext context) {
  auto request = context.decode<protocol::InitProducerIdRequest>();
  auto respond = [context](cluster::ProducerIdAndEpoch result) {
    protocol::InitProducerIdResponse response;
    response.error_code = wire(result.error);
    response.producer_id = result.producer_id;
    response.producer_epoch = result.epoch;
    context.respond(response);
  };
  auto& ids = context.server().producer_ids;
  if (!request.transactional_id) {
    // An idempotent producer needs IDEMPOTENT_WRITE on the cluster, or WRITE on some topic (KIP-679).
    if (!context.authorized_on_cluster(AclOperation::kIdempotentWrite) &&
        !context.authorized_on_any(AclOperation::kWrite, AclResourceType::kTopic)) {
      respond({ErrorCode::kClusterAuthorizationFailed, -1, -1});
      return;
    }
    ids.allocate(respond);
    return;
  }
  if (!context.authorized(AclOperation::kWrite, AclResourceType::kTransactionalId, *request.transactional_id)) {
    respond({ErrorCode::kTransactionalIdAuthorizationFailed, -1, -1});
    return;
  }
  if (request.transactional_id->empty()) {
    respond({ErrorCode::kInvalidRequest, -1, -1});
    return;
  }
  const int64_t max_timeout = context.server().partitions.settings().get_long("transaction.max.timeout.ms");
  if (request.transaction_timeout_ms <= 0 || request.transaction_timeout_ms > max_timeout) {
    respond({ErrorCode::kInvalidTransactionTimeout, -1, -1});
    return;
  }
  std::optional<coordinator::ProducerIdentity> expected;
  if (request.producer_id >= 0) {
    expected = coordinator::ProducerIdentity{ErrorCode::kNone, request.producer_id, request.producer_epoch};
  }
  context.server().transactions.init_producer_id(*request.transactional_id, request.transaction_timeout_ms, expected,
                                                 [respond](coordinator::ProducerIdentity result) {
                                                   respond({result.error, result.producer_id, result.producer_epoch});
                                                 });
}

}  // namespace fjord::server
