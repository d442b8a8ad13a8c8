// DescribeProducers: the idempotent and transactional producers a partition this broker leads remembers: epoch,
// last sequence and write, the coordinator epoch of their last marker, and where their open transaction began
// (-1 when none is open); READ on the topic. Operators find a hanging transaction with it (`fjord txn producers`).
#include "protocol/messages/describe_producers.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_producers(RequestContext context) {
  auto request = context.decode<protocol::DescribeProducersRequest>();
  protocol::DescribeProducersResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.name = topic.name;
    const bool readable = context.authorized(AclOperation::kRead, AclResourceType::kTopic, topic.name);
    for (int32_t index : topic.partition_indexes) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = index;
      if (!readable) {
        out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      cluster::Partition* partition = context.server().partitions.partition(topic.name, index);
      if (!partition) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      if (auto error = partition->leader_error(-1); error != ErrorCode::kNone) {
        out.error_code = wire(error);
        continue;
      }
      for (const auto& [id, entry] : partition->log().producers().producers()) {
        auto& p = out.active_producers.emplace_back();
        p.producer_id = id;
        p.producer_epoch = entry.epoch;
        p.last_sequence = entry.batches.empty() ? -1 : entry.batches.back().last_sequence;
        p.last_timestamp = entry.last_timestamp_ms;
        p.coordinator_epoch = entry.coordinator_epoch;
        p.current_txn_start_offset = entry.open_transaction_offset;
      }
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
