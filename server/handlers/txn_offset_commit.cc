// TxnOffsetCommit: a transactional producer commits a group's offsets inside its transaction (the
// consume-transform-produce loop's send_offsets_to_transaction). The offsets are written to the group's
// __consumer_offsets partition as part of the producer's transaction, after AddOffsetsToTxn put that partition in
// it, and count only once the transaction's marker commits them. v3+ name the member and generation, which are
// checked as for OffsetCommit (a zombie of an earlier generation is refused). From v5 (transactions v2) the
// producer sends no AddOffsetsToTxn: the partition is added here.
#include "protocol/messages/txn_offset_commit.h"

#include <memory>

#include "server/handlers/registry.h"

namespace fjord::server {

namespace {
constexpr int16_t kImplicitAddVersion = 5;

// What only means "not now" while adding the offsets partition (the producer's previous transaction still
// ending, its coordinator unreachable) is answered as Kafka's group coordinator answers it: the client finds the
// coordinator again and retries.
ErrorCode add_error(ErrorCode error) {
  switch (error) {
    case ErrorCode::kConcurrentTransactions:
    case ErrorCode::kNetworkException:
    case ErrorCode::kCoordinatorLoadInProgress:
    case ErrorCode::kNotCoordinator:
      return ErrorCode::kCoordinatorNotAvailable;
    default:
      return error;
  }
}
}  // namespace

void handle_txn_offset_commit(RequestContext context) {
  auto request = context.decode<protocol::TxnOffsetCommitRequest>();
  auto response = std::make_shared<protocol::TxnOffsetCommitResponse>();
  auto& server = context.server();
  coordinator::CommitRequest commit;
  commit.group_id = request.group_id;
  commit.generation = request.generation_id;
  commit.member_id = request.member_id;
  commit.group_instance_id = request.group_instance_id;
  std::vector<std::pair<size_t, size_t>> slots;
  // WRITE on the transactional id, READ on the group and on each topic.
  const ErrorCode refused_all =
      !context.authorized(AclOperation::kWrite, AclResourceType::kTransactionalId, request.transactional_id)
          ? ErrorCode::kTransactionalIdAuthorizationFailed
      : !context.authorized(AclOperation::kRead, AclResourceType::kGroup, request.group_id)
          ? ErrorCode::kGroupAuthorizationFailed
          : ErrorCode::kNone;
  for (const auto& t : request.topics) {
    auto& topic_out = response->topics.emplace_back();
    topic_out.name = t.name;
    const ErrorCode refused = refused_all != ErrorCode::kNone ? refused_all
                              : !context.authorized(AclOperation::kRead, AclResourceType::kTopic, t.name)
                                  ? ErrorCode::kTopicAuthorizationFailed
                                  : ErrorCode::kNone;
    for (const auto& p : t.partitions) {
      auto& partition_out = topic_out.partitions.emplace_back();
      partition_out.partition_index = p.partition_index;
      if (refused != ErrorCode::kNone) {
        partition_out.error_code = wire(refused);
        continue;
      }
      // Known to the cluster (this broker need not host it).
      const auto* topic = server.partitions.topic(t.name);
      if (!topic || p.partition_index < 0 || p.partition_index >= topic->partitions) {
        partition_out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      commit.offsets.push_back(
          {t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch, p.committed_metadata});
      slots.emplace_back(response->topics.size() - 1, topic_out.partitions.size() - 1);
    }
  }
  if (commit.offsets.empty()) {
    context.respond(*response);
    return;
  }
  auto answer_all = [response, slots](ErrorCode error) {
    for (const auto& [t, p] : slots) response->topics[t].partitions[p].error_code = wire(error);
  };
  // The group's offsets partition must be in the producer's transaction, or its marker would never reach these
  // offsets: added by the producer before v5 (checked here), by this request from v5.
  const coordinator::TopicPartition offsets{coordinator::kOffsetsTopic, server.groups.partition_for(request.group_id)};
  auto checked = [context, response, slots, answer_all, commit = std::move(commit), producer_id = request.producer_id,
                  producer_epoch = request.producer_epoch](ErrorCode verified) mutable {
    if (verified != ErrorCode::kNone) {
      answer_all(verified);
      context.respond(*response);
      return;
    }
    context.server().groups.commit_transactional(
        std::move(commit), producer_id, producer_epoch, [context, response, slots](std::vector<ErrorCode> errors) {
          for (size_t i = 0; i < errors.size() && i < slots.size(); ++i) {
            response->topics[slots[i].first].partitions[slots[i].second].error_code = wire(errors[i]);
          }
          context.respond(*response);
        });
  };
  if (context.version() >= kImplicitAddVersion) {
    server.verifier.add(request.transactional_id, request.producer_id, request.producer_epoch, offsets,
                        [checked = std::move(checked)](ErrorCode added) mutable { checked(add_error(added)); });
  } else {
    server.verifier.verify(request.transactional_id, request.producer_id, request.producer_epoch, offsets,
                           std::move(checked));
  }
}

}  // namespace fjord::server
