// AddOffsetsToTxn: a transactional producer will commit a group's offsets in its transaction (TxnOffsetCommit):
// the group's __consumer_offsets partition joins the transaction, so that its marker makes them visible on
// commit.
#include "protocol/messages/add_offsets_to_txn.h"

#include "coordinator/offsets_records.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_add_offsets_to_txn(RequestContext context) {
  auto request = context.decode<protocol::AddOffsetsToTxnRequest>();
  auto respond = [context](ErrorCode error) {
    protocol::AddOffsetsToTxnResponse response;
    response.error_code = wire(error);
    context.respond(response);
  };
  auto& server = context.server();
  if (!context.authorized(AclOperation::kWrite, AclResourceType::kTransactionalId, request.transactional_id)) {
    return respond(ErrorCode::kTransactionalIdAuthorizationFailed);
  }
  if (!context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id)) {
    return respond(ErrorCode::kGroupAuthorizationFailed);
  }
  if (request.group_id.empty()) return respond(ErrorCode::kInvalidRequest);
  // The offsets topic must exist for its partition to take a marker.
  if (!server.groups.ensure_partitions()) return respond(ErrorCode::kCoordinatorNotAvailable);
  const coordinator::TopicPartition offsets{coordinator::kOffsetsTopic, server.groups.partition_for(request.group_id)};
  server.transactions.add_partitions(request.transactional_id, request.producer_id, request.producer_epoch, {offsets},
                                     [respond](std::vector<ErrorCode> errors) { respond(errors.front()); });
}

}  // namespace fjord::server
