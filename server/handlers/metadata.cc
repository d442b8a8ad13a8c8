// Metadata: brokers, controller and topics with their partitions' leaders, replicas and ISR. In a cluster they
// come from the controller's assignments: a topic not placed yet, or a partition without a live in-sync replica,
// is LEADER_NOT_AVAILABLE, as Kafka answers, and clients retry. v0 asks for all topics with an empty
// list; v1+ with null (empty means none). A missing topic is created on the spot when the broker and the request
// allow it, so that the same response already names its leaders.
#include "protocol/messages/metadata.h"

#include <algorithm>

#include "server/handlers/registry.h"

namespace fjord::server {
namespace {

using protocol::MetadataRequest;
using protocol::MetadataResponse;

MetadataResponse::MetadataResponseTopic describe_topic(const RequestContext& context,
                                                       const cluster::TopicMetadata& topic) {
  const auto& identity = context.server().identity;
  MetadataResponse::MetadataResponseTopic out;
  out.name = topic.name;
  out.topic_id = topic.id;
  out.is_internal = topic.name == "__consumer_offsets" || topic.name == "__transaction_state";
  if (context.server().partitions.cluster_mode()) {
    if (topic.assignments.size() < static_cast<size_t>(topic.partitions)) {
      out.error_code = wire(ErrorCode::kLeaderNotAvailable);
      return out;
    }
    std::vector<int32_t> live;
    for (const auto& b : context.server().brokers()) live.push_back(b.node_id);
    for (int32_t i = 0; i < topic.partitions; ++i) {
      const auto& a = topic.assignments[static_cast<size_t>(i)];
      MetadataResponse::MetadataResponsePartition p;
      p.partition_index = i;
      p.leader_id = a.leader;
      p.leader_epoch = a.leader_epoch;
      p.replica_nodes = a.replicas;
      p.isr_nodes = a.isr;
      for (int32_t r : a.replicas) {
        if (std::find(live.begin(), live.end(), r) == live.end()) p.offline_replicas.push_back(r);
      }
      if (a.leader < 0) p.error_code = wire(ErrorCode::kLeaderNotAvailable);
      out.partitions.push_back(std::move(p));
    }
    return out;
  }
  for (auto* partition : context.server().partitions.partitions_of(topic.name)) {
    MetadataResponse::MetadataResponsePartition p;
    p.partition_index = partition->index();
    p.leader_id = identity.node_id;
    p.leader_epoch = partition->leader_epoch();
    p.replica_nodes = {identity.node_id};
    p.isr_nodes = {identity.node_id};
    out.partitions.push_back(std::move(p));
  }
  return out;
}

MetadataResponse::MetadataResponseTopic topic_error(std::optional<std::string> name, protocol::Uuid id,
                                                    ErrorCode error) {
  MetadataResponse::MetadataResponseTopic out;
  out.name = std::move(name);
  out.topic_id = id;
  out.error_code = wire(error);
  return out;
}

}  // namespace

void handle_metadata(RequestContext context) {
  auto request = context.decode<MetadataRequest>();
  auto& partitions = context.server().partitions;
  MetadataResponse response;
  for (const auto& b : context.brokers()) {
    MetadataResponse::MetadataResponseBroker broker;
    broker.node_id = b.node_id;
    broker.host = b.host;
    broker.port = b.port;
    broker.rack = b.rack;
    response.brokers.push_back(broker);
  }
  response.cluster_id = partitions.metadata().cluster_id;
  response.controller_id = context.server().controller_id();

  bool all_topics = !request.topics.has_value() || (context.version() == 0 && request.topics->empty());
  auto may_describe = [&](const std::string& name) {
    return context.authorized(AclOperation::kDescribe, AclResourceType::kTopic, name);
  };
  if (all_topics) {
    // Only the topics the client may describe are listed.
    for (const auto& [name, topic] : partitions.metadata().topics) {
      if (may_describe(name)) response.topics.push_back(describe_topic(context, topic));
    }
  } else {
    // v0-3 always allowed auto-creation; the field arrived with v4.
    bool may_create = request.allow_auto_topic_creation && partitions.settings().get_bool("auto.create.topics.enable");
    for (const auto& wanted : *request.topics) {
      if (!wanted.name) {
        const auto* topic = partitions.topic_by_id(wanted.topic_id);
        if (topic && !may_describe(topic->name)) topic = nullptr;  // as unknown: its name is not given away
        response.topics.push_back(topic ? describe_topic(context, *topic)
                                        : topic_error(std::nullopt, wanted.topic_id, ErrorCode::kUnknownTopicId));
        continue;
      }
      const std::string& name = *wanted.name;
      if (!may_describe(name)) {
        response.topics.push_back(topic_error(name, {}, ErrorCode::kTopicAuthorizationFailed));
        continue;
      }
      // Creating on the fly needs CREATE, on the cluster or on the topic, as CreateTopics does.
      const bool may_create_this =
          may_create && (context.authorized_on_cluster(AclOperation::kCreate) ||
                         context.authorized(AclOperation::kCreate, AclResourceType::kTopic, name));
      if (!partitions.topic(name) && may_create_this) {
        if (cluster::PartitionManager::invalid_topic_name(name)) {
          response.topics.push_back(topic_error(name, {}, ErrorCode::kInvalidTopicException));
          continue;
        }
        partitions.create_topic(name, -1, -1, {}, false, [](cluster::AdminResult) {});
      }
      const auto* topic = partitions.topic(name);
      response.topics.push_back(topic ? describe_topic(context, *topic)
                                      : topic_error(name, {}, ErrorCode::kUnknownTopicOrPartition));
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
