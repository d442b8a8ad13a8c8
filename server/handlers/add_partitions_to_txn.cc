// AddPartitionsToTxn: the partitions a transactional producer is about to write to join its transaction, so that
// the coordinator writes their markers when it ends. v0-3 come from producers, one transaction each; v4+ come from
// brokers, several transactions per request, and may only ask whether partitions are in a transaction
// (verify_only); v5 without verify_only adds the partition a transactions-v2 producer wrote to. A partition that does
// not exist fails with UNKNOWN_TOPIC_OR_PARTITION and the others of its transaction with OPERATION_NOT_ATTEMPTED, as
// Kafka answers.
#include "protocol/messages/add_partitions_to_txn.h"

#include <memory>

#include "server/handlers/registry.h"

namespace fjord::server {
namespace {

using protocol::AddPartitionsToTxnRequest;
using protocol::AddPartitionsToTxnResponse;
using Topics = std::vector<AddPartitionsToTxnRequest::AddPartitionsToTxnTopic>;
using TopicResults = std::vector<AddPartitionsToTxnResponse::AddPartitionsToTxnTopicResult>;

std::vector<coordinator::TopicPartition> flatten(const Topics& topics) {
  std::vector<coordinator::TopicPartition> out;
  for (const auto& topic : topics) {
    for (int32_t p : topic.partitions) out.push_back({topic.name, p});
  }
  return out;
}

TopicResults results(const std::vector<coordinator::TopicPartition>& partitions, const std::vector<ErrorCode>& errors) {
  TopicResults out;
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (out.empty() || out.back().name != partitions[i].topic) out.emplace_back().name = partitions[i].topic;
    auto& r = out.back().results_by_partition.emplace_back();
    r.partition_index = partitions[i].partition;
    r.partition_error_code = wire(errors[i]);
  }
  return out;
}

// Errors for partitions that do not exist; empty when they all do.
std::vector<ErrorCode> missing(ServerContext& server, const std::vector<coordinator::TopicPartition>& partitions) {
  std::vector<ErrorCode> errors(partitions.size(), ErrorCode::kOperationNotAttempted);
  bool any = false;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const auto* topic = server.partitions.topic(partitions[i].topic);
    if (!topic || partitions[i].partition < 0 || partitions[i].partition >= topic->partitions) {
      errors[i] = ErrorCode::kUnknownTopicOrPartition;
      any = true;
    }
  }
  return any ? errors : std::vector<ErrorCode>{};
}

}  // namespace

void handle_add_partitions_to_txn(RequestContext context) {
  auto request = context.decode<AddPartitionsToTxnRequest>();
  auto& server = context.server();
  if (context.version() <= 3) {
    auto partitions = flatten(request.v3_and_below_topics);
    auto respond = [context, partitions](std::vector<ErrorCode> errors) {
      AddPartitionsToTxnResponse response;
      response.results_by_topic_v3_and_below = results(partitions, errors);
      context.respond(response);
    };
    // WRITE on the transactional id, and on every topic added: what is refused is refused for all, as in Kafka
    // (the others OPERATION_NOT_ATTEMPTED).
    if (!context.authorized(AclOperation::kWrite, AclResourceType::kTransactionalId,
                            request.v3_and_below_transactional_id)) {
      return respond(std::vector<ErrorCode>(partitions.size(), ErrorCode::kTransactionalIdAuthorizationFailed));
    }
    std::vector<ErrorCode> refused(partitions.size(), ErrorCode::kOperationNotAttempted);
    bool any_refused = false;
    for (size_t i = 0; i < partitions.size(); ++i) {
      if (!context.authorized(AclOperation::kWrite, AclResourceType::kTopic, partitions[i].topic)) {
        refused[i] = ErrorCode::kTopicAuthorizationFailed;
        any_refused = true;
      }
    }
    if (any_refused) return respond(refused);
    if (auto errors = missing(server, partitions); !errors.empty()) return respond(errors);
    server.transactions.add_partitions(request.v3_and_below_transactional_id, request.v3_and_below_producer_id,
                                       request.v3_and_below_producer_epoch, partitions, respond);
    return;
  }
  struct Batch {
    RequestContext context;
    AddPartitionsToTxnResponse response;
    size_t outstanding = 1;
    void finish_one() {
      if (--outstanding == 0) context.respond(response);
    }
  };
  if (!context.authorized_on_cluster(AclOperation::kClusterAction)) {
    // v4+ is brokers asking each other (a leader verifying a transactional batch).
    AddPartitionsToTxnResponse response;
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    context.respond(response);
    return;
  }
  auto batch = std::make_shared<Batch>(Batch{context, {}, 1});
  batch->response.results_by_transaction.resize(request.transactions.size());
  for (size_t t = 0; t < request.transactions.size(); ++t) {
    const auto& txn = request.transactions[t];
    auto partitions = flatten(txn.topics);
    batch->response.results_by_transaction[t].transactional_id = txn.transactional_id;
    auto record = [batch, t, partitions](std::vector<ErrorCode> errors) {
      batch->response.results_by_transaction[t].topic_results = results(partitions, errors);
      batch->finish_one();
    };
    ++batch->outstanding;
    if (auto errors = missing(server, partitions); !errors.empty()) {
      record(errors);
    } else if (txn.verify_only) {
      record(
          server.transactions.verify_partitions(txn.transactional_id, txn.producer_id, txn.producer_epoch, partitions));
    } else {
      // From a partition leader or group coordinator: a transactions-v2 producer wrote there (v5).
      server.transactions.add_partitions(txn.transactional_id, txn.producer_id, txn.producer_epoch, partitions, record,
                                         /*implicit=*/context.version() >= 5);
    }
  }
  batch->finish_one();
}

}  // namespace fjord::server
