// Produce: each partition's records are validated and appended at once, on the partition's leader only; the
// response waits until every partition's write may be acknowledged: acks=1 once the leader's write is durable,
// acks=all once every in-sync replica has it (the high watermark passed it). A partition still waiting when the
// request's timeout passes is answered REQUEST_TIMED_OUT (its records stay). acks=0 gets no response at all. Versions
// 0-2 are advertised only because old clients probe for them; they are refused.
#include "protocol/messages/produce.h"

#include <memory>
#include <optional>
#include <string>

#include "protocol/record_batch.h"
#include "server/handlers/partition_errors.h"
#include "server/handlers/registry.h"

namespace fjord::server {
namespace {

using protocol::ProduceRequest;
using protocol::ProduceResponse;

struct ProduceInProgress {
  RequestContext context;
  ProduceResponse response;
  size_t outstanding = 0;
  bool answer = true;
  bool answered = false;
  std::unique_ptr<TimerHandle> timeout;

  void finish_one() {
    if (--outstanding == 0) respond();
  }
  void respond() {
    if (answered) return;
    answered = true;
    timeout.reset();
    if (answer) context.respond(response);
  }
};

// A transactional producer's first batch in a partition opens its transaction there. It is written only if the
// partition is in that producer's ongoing transaction at its coordinator, so that a late batch of a transaction
// that already ended cannot open one that nothing would ever end (KAFKA-17754), holding back the partition's last
// stable offset. On the coordinator's own broker the answer comes in the same loop turn as the append; from
// another broker it comes later, so the append also checks that no marker for the producer was written here
// meanwhile (an abort that overtook the batch).
//
// From v12 (transactions v2) the producer does not add partitions itself: the first batch asks the coordinator
// to add the partition (waiting out the end of the producer's previous transaction). There every transaction has
// its own epoch and its marker a higher one, so a batch that an end overtook is refused for its old epoch when
// it is appended, and the previous transaction's marker, which may arrive while the partition is being added,
// is no reason to refuse.
struct FirstTransactionalBatch {
  int64_t producer_id;
  int16_t producer_epoch;
  int64_t marker_seen;  // the offset of the producer's last marker here when asked (-1: none)
};

int64_t last_marker(const cluster::Partition& partition, int64_t producer_id) {
  const auto* producer = partition.log().producers().find(producer_id);
  return producer && !producer->completed.empty() ? producer->completed.back().last_offset : -1;
}

std::optional<FirstTransactionalBatch> needs_verification(const cluster::Partition& partition,
                                                          std::span<const uint8_t> records) {
  if (records.size() < protocol::kBatchHeaderSize) return std::nullopt;  // validation says what is wrong
  const auto header = protocol::parse_batch_header(records);
  if (!header.is_transactional() || header.is_control() || header.producer_id < 0) return std::nullopt;
  const auto* producer = partition.log().producers().find(header.producer_id);
  if (producer && producer->open_transaction_offset >= 0 && producer->epoch == header.producer_epoch) {
    return std::nullopt;  // its transaction is already open here
  }
  return FirstTransactionalBatch{header.producer_id, header.producer_epoch, last_marker(partition, header.producer_id)};
}

// The coordinator's answer as a producer understands it (as Kafka translates it): a fenced epoch is
// INVALID_PRODUCER_EPOCH, and what only means "not now" is NOT_ENOUGH_REPLICAS, which every client retries
// without refreshing its metadata.
ErrorCode produce_error(ErrorCode coordinator_error) {
  switch (coordinator_error) {
    case ErrorCode::kProducerFenced:
      return ErrorCode::kInvalidProducerEpoch;
    case ErrorCode::kConcurrentTransactions:
    case ErrorCode::kNetworkException:
    case ErrorCode::kCoordinatorLoadInProgress:
    case ErrorCode::kCoordinatorNotAvailable:
    case ErrorCode::kNotCoordinator:
      return ErrorCode::kNotEnoughReplicas;
    default:
      return coordinator_error;
  }
}

constexpr int16_t kImplicitAddVersion = 12;

// What the topic's enforced checklist (fjord.require.acks.all, fjord.require.idempotence) says of this write, in
// words that name the producer setting to change; nullopt when it may be written.
std::optional<std::string> checklist_refusal(const cluster::ProducePolicy& policy, const std::string& topic,
                                             int16_t acks, std::span<const uint8_t> records) {
  if (policy.require_acks_all && acks != -1) {
    return "topic " + topic + " requires acks=all (fjord.require.acks.all=true): set acks=all on the producer, not " +
           "acks=" + std::to_string(acks);
  }
  if (policy.require_idempotence && records.size() >= protocol::kBatchHeaderSize &&
      protocol::parse_batch_header(records).producer_id < 0) {
    return "topic " + topic +
           " requires an idempotent producer (fjord.require.idempotence=true): set enable.idempotence=true on the "
           "producer";
  }
  return std::nullopt;
}

}  // namespace

void handle_produce(RequestContext context) {
  auto request = context.decode<ProduceRequest>();
  const int16_t version = context.version();
  const bool answer = request.acks != 0;
  auto state = std::make_shared<ProduceInProgress>(ProduceInProgress{context, {}, 1, answer, false, nullptr});
  auto& partitions = context.server().partitions;
  auto& topics = state->response.responses;
  topics.reserve(request.topic_data.size());

  ErrorCode request_error = ErrorCode::kNone;
  if (version < 3) {
    request_error = ErrorCode::kUnsupportedVersion;  // message format v2 needs Produce v3+
  } else if (request.acks != 0 && request.acks != 1 && request.acks != -1) {
    request_error = ErrorCode::kInvalidRequiredAcks;
  } else if (request.transactional_id &&
             !context.authorized(AclOperation::kWrite, AclResourceType::kTransactionalId, *request.transactional_id)) {
    request_error = ErrorCode::kTransactionalIdAuthorizationFailed;
  }

  std::optional<std::string> refused_unanswered;  // acks=0 writes refused: the client hears of it by a close
  auto* activity = context.server().activity;
  const auto client = activity ? context.client_identity() : ClientIdentity{};
  for (auto& topic_data : request.topic_data) {
    if (activity && request_error == ErrorCode::kNone) {
      // What the checklist audit needs: the acks, and whether the batches carry a producer id.
      for (auto& partition_data : topic_data.partition_data) {
        if (!partition_data.records || partition_data.records->size() < protocol::kBatchHeaderSize) continue;
        const auto header = protocol::parse_batch_header(partition_data.records->contiguous());
        activity->produced(client, topic_data.name, request.acks, header.producer_id >= 0, header.is_transactional(),
                           context.server().clock.now_ms());
        break;
      }
    }
    auto& topic_response = topics.emplace_back();
    topic_response.name = topic_data.name;
    topic_response.partition_responses.reserve(topic_data.partition_data.size());
    const bool may_write = context.authorized(AclOperation::kWrite, AclResourceType::kTopic, topic_data.name);
    for (auto& partition_data : topic_data.partition_data) {
      auto& out = topic_response.partition_responses.emplace_back();
      out.index = partition_data.index;
      if (request_error != ErrorCode::kNone) {
        out.error_code = wire(request_error);
        if (!answer && request_error == ErrorCode::kTransactionalIdAuthorizationFailed) {
          refused_unanswered = "not authorized to write as transactional id " + *request.transactional_id;
        }
        continue;
      }
      // Before the partition is looked up, so that the answer does not tell whether the topic exists.
      if (!may_write) {
        out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
        if (!answer) refused_unanswered = "not authorized to write to topic " + topic_data.name;
        continue;
      }
      cluster::Partition* partition = partitions.partition(topic_data.name, partition_data.index);
      if (!partition) {
        out.error_code = wire(absent_partition_error(partitions, topic_data.name, partition_data.index));
        continue;
      }
      if (!partition_data.records || partition_data.records->empty()) {
        out.error_code = wire(ErrorCode::kInvalidRecord);
        out.error_message = "no records";
        continue;
      }
      if (auto refusal = checklist_refusal(partition->produce_policy(), topic_data.name, request.acks,
                                           partition_data.records->contiguous())) {
        out.error_code = wire(ErrorCode::kPolicyViolation);
        out.error_message = *refusal;
        if (!answer) refused_unanswered = *refusal;
        continue;
      }
      ++state->outstanding;
      out.error_code = wire(ErrorCode::kRequestTimedOut);  // what the timeout leaves, unless answered first
      // `out` stays put: every vector was sized above, before any future can resolve.
      const int16_t acks = request.acks == 0 ? 1 : request.acks;
      auto records = partition_data.records->contiguous();
      auto append = [state, &out, records, acks](cluster::Partition& partition) {
        partition.append(records, acks)
            .then([state, &out, traffic = partition.traffic(), bytes = records.size()](cluster::ProduceResult result) {
              if (result.error == ErrorCode::kNone && traffic) traffic->bytes_in.Increment(static_cast<double>(bytes));
              if (state->answered) return;
              out.error_code = wire(result.error);
              out.log_start_offset = result.log_start_offset;
              if (result.error == ErrorCode::kNone) {
                out.base_offset = result.base_offset;
                out.log_append_time_ms = result.log_append_time;
              } else if (!result.error_message.empty()) {
                out.error_message = result.error_message;
              }
              state->finish_one();
            });
      };
      auto first = needs_verification(*partition, records);
      if (!first) {
        append(*partition);
        continue;
      }
      auto refuse = [state, &out](ErrorCode error, std::string why) {
        if (state->answered) return;
        out.error_code = wire(error);
        out.error_message = std::move(why);
        state->finish_one();
      };
      if (!request.transactional_id) {
        refuse(ErrorCode::kInvalidTxnState, "a transactional batch without a transactional id");
        continue;
      }
      const bool implicit_add = version >= kImplicitAddVersion;
      auto checked = [state, &partitions, topic = topic_data.name, index = partition_data.index,
                      id = *request.transactional_id, first = *first, implicit_add, append, refuse](ErrorCode error) {
        if (state->answered) return;
        cluster::Partition* partition = partitions.partition(topic, index);
        const std::string name = topic + "-" + std::to_string(index);
        if (!partition) return refuse(ErrorCode::kUnknownTopicOrPartition, "partition " + name + " is gone");
        if (error != ErrorCode::kNone) {
          return refuse(produce_error(error), (implicit_add ? "partition " + name + " could not be added to a "
                                                            : "partition " + name + " is not in an ongoing ") +
                                                  "transaction of " + id + " (" + std::string(error_name(error)) + ")");
        }
        if (!implicit_add && last_marker(*partition, first.producer_id) != first.marker_seen) {
          return refuse(ErrorCode::kInvalidTxnState, "the transaction ended while the batch was being checked");
        }
        append(*partition);
      };
      const coordinator::TopicPartition tp{topic_data.name, partition_data.index};
      if (implicit_add) {
        context.server().verifier.add(*request.transactional_id, first->producer_id, first->producer_epoch, tp,
                                      std::move(checked));
      } else {
        context.server().verifier.verify(*request.transactional_id, first->producer_id, first->producer_epoch, tp,
                                         std::move(checked));
      }
    }
  }
  if (!answer) context.respond_nothing();
  if (refused_unanswered) context.close_connection("acks=0 produce refused: " + *refused_unanswered);
  if (state->outstanding > 1 && request.timeout_ms > 0) {  // 0 (raw tools, tests): wait for the outcome
    std::weak_ptr<ProduceInProgress> weak = state;
    state->timeout = context.server().scheduler.schedule_after(request.timeout_ms, [weak] {
      if (auto s = weak.lock()) s->respond();
    });
  }
  state->finish_one();
}

}  // namespace fjord::server
