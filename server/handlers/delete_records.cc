// DeleteRecords: raises each partition's log start offset; -1 means up to the high watermark. Answers with the
// new low watermark once its checkpoint is durable (the log's next sync writes it).
#include "protocol/messages/delete_records.h"

#include "server/handlers/completion.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_delete_records(RequestContext context) {
  auto request = context.decode<protocol::DeleteRecordsRequest>();
  auto& partitions = context.server().partitions;
  // DELETE on the topic, checked before the topic's existence.
  std::vector<bool> authorized;
  for (const auto& topic : request.topics) {
    authorized.push_back(context.authorized(AclOperation::kDelete, AclResourceType::kTopic, topic.name));
  }
  auto completion = Completion<protocol::DeleteRecordsResponse>::start(std::move(context));
  auto& response = completion->response;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.name = topic.name;
    for (const auto& wanted : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = wanted.partition_index;
      out.low_watermark = -1;
    }
  }
  for (size_t t = 0; t < request.topics.size(); ++t) {
    const auto& topic = request.topics[t];
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      const auto& wanted = topic.partitions[i];
      auto& out = response.topics[t].partitions[i];
      if (!authorized[t]) {
        out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      cluster::Partition* partition = partitions.partition(topic.name, wanted.partition_index);
      if (!partition) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      if (auto error = partition->leader_error(-1); error != ErrorCode::kNone) {
        // Followers take the new log start from their leader's fetch answers.
        out.error_code = wire(error);
        continue;
      }
      int64_t offset = wanted.offset == -1 ? partition->high_watermark() : wanted.offset;
      if (offset < 0 || offset > partition->high_watermark()) {
        out.error_code = wire(ErrorCode::kOffsetOutOfRange);
        continue;
      }
      const int64_t low_watermark = partition->log().delete_records_before(offset);
      completion->add_one();
      partition->log().sync([completion, t, i, low_watermark](bool durable) {
        auto& answer = completion->response.topics[t].partitions[i];
        if (durable) {
          answer.low_watermark = low_watermark;
        } else {
          answer.error_code = wire(ErrorCode::kKafkaStorageError);
        }
        completion->finish_one();
      });
    }
  }
  completion->all_started();
}

}  // namespace fjord::server
