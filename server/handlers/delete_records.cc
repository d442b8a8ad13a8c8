// DeleteRecords: raises each partition's log start offset; -1 means up to the high watermark. Answers with the
// new low watermark once it is persisted.
#include "protocol/messages/delete_records.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_delete_records(RequestContext context) {
  auto request = context.decode<protocol::DeleteRecordsRequest>();
  auto& partitions = context.server().partitions;
  protocol::DeleteRecordsResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.name = topic.name;
    for (const auto& wanted : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = wanted.partition_index;
      out.low_watermark = -1;
      cluster::Partition* partition = partitions.partition(topic.name, wanted.partition_index);
      if (!partition) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      if (!partition->is_leader()) {  // followers take the new log start from their leader's fetch answers
        out.error_code = wire(ErrorCode::kNotLeaderOrFollower);
        continue;
      }
      int64_t offset = wanted.offset == -1 ? partition->high_watermark() : wanted.offset;
      if (offset < 0 || offset > partition->high_watermark()) {
        out.error_code = wire(ErrorCode::kOffsetOutOfRange);
        continue;
      }
      try {
        out.low_watermark = partition->log().delete_records_before(offset);
      } catch (const std::exception&) {
        out.error_code = wire(ErrorCode::kKafkaStorageError);
      }
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
