// CreatePartitions: grows a topic to `count` partitions (ALTER on the topic); explicit assignments may only name
// this broker.
#include "protocol/messages/create_partitions.h"

#include "server/handlers/completion.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_create_partitions(RequestContext context) {
  auto request = context.decode<protocol::CreatePartitionsRequest>();
  auto& partitions = context.server().partitions;
  const int32_t node = context.server().identity.node_id;
  auto completion = Completion<protocol::CreatePartitionsResponse>::start(context);
  completion->response.results.resize(request.topics.size());
  for (size_t i = 0; i < request.topics.size(); ++i) {
    const auto& topic = request.topics[i];
    auto& out = completion->response.results[i];
    out.name = topic.name;
    if (!context.authorized(AclOperation::kAlter, AclResourceType::kTopic, topic.name)) {
      out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
      out.error_message = "Not authorized to alter topic " + topic.name;
      continue;
    }
    if (topic.assignments) {
      bool valid = true;
      for (const auto& a : *topic.assignments) valid &= a.broker_ids.size() == 1 && a.broker_ids[0] == node;
      if (!valid) {
        out.error_code = wire(ErrorCode::kInvalidReplicaAssignment);
        out.error_message = "Replica assignments may only name broker " + std::to_string(node) + ".";
        continue;
      }
    }
    completion->add_one();
    partitions.create_partitions(topic.name, topic.count, request.validate_only,
                                 [completion, i](cluster::AdminResult result) {
                                   auto& out = completion->response.results[i];
                                   out.error_code = wire(result.error);
                                   if (result.error != ErrorCode::kNone) out.error_message = result.message;
                                   completion->finish_one();
                                 });
  }
  completion->all_started();
}

}  // namespace fjord::server
