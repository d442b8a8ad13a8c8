// DeleteTopics: by name (v1-5) or by name or topic id (v6+).
#include "protocol/messages/delete_topics.h"

#include "server/handlers/completion.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_delete_topics(RequestContext context) {
  auto request = context.decode<protocol::DeleteTopicsRequest>();
  auto& partitions = context.server().partitions;
  // One list of (name, id) whichever way the version names topics.
  std::vector<std::pair<std::optional<std::string>, protocol::Uuid>> wanted;
  if (context.version() >= 6) {
    for (const auto& t : request.topics) wanted.emplace_back(t.name, t.topic_id);
  } else {
    for (const auto& name : request.topic_names) wanted.emplace_back(name, protocol::Uuid{});
  }
  auto completion = Completion<protocol::DeleteTopicsResponse>::start(context);
  completion->response.responses.resize(wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) {
    auto& out = completion->response.responses[i];
    auto [name, id] = wanted[i];
    const cluster::TopicMetadata* topic = nullptr;
    if (name) {
      topic = partitions.topic(*name);
    } else {
      topic = partitions.topic_by_id(id);
    }
    out.name = name;
    out.topic_id = id;
    const std::string topic_name = name ? *name : (topic ? topic->name : std::string());
    if ((name || topic) && !context.authorized(AclOperation::kDelete, AclResourceType::kTopic, topic_name)) {
      out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
      out.error_message = "Authorization failed.";
      continue;
    }
    if (!topic) {
      out.error_code = wire(name ? ErrorCode::kUnknownTopicOrPartition : ErrorCode::kUnknownTopicId);
      out.error_message =
          name ? "This server does not host this topic-partition." : "This server does not host this topic ID.";
      continue;
    }
    out.name = topic->name;
    out.topic_id = topic->id;
    completion->add_one();
    partitions.delete_topic(topic->name, [completion, i](cluster::AdminResult result) {
      auto& out = completion->response.responses[i];
      out.error_code = wire(result.error);
      if (result.error != ErrorCode::kNone) out.error_message = result.message;
      completion->finish_one();
    });
  }
  completion->all_started();
}

}  // namespace fjord::server
