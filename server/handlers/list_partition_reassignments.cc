// ListPartitionReassignments: the partitions whose replicas are moving, read from the cluster metadata.
#include "protocol/messages/list_partition_reassignments.h"

#include <algorithm>

#include "cluster/reassignment.h"
#include "server/handlers/registry.h"

namespace fjord::server {
namespace {

using Response = protocol::ListPartitionReassignmentsResponse;

void add_if_moving(Response::OngoingTopicReassignment& out, const cluster::TopicMetadata& topic, int32_t index) {
  if (index < 0 || static_cast<size_t>(index) >= topic.assignments.size()) return;
  const auto& a = topic.assignments[static_cast<size_t>(index)];
  if (!a.reassigning()) return;
  auto& p = out.partitions.emplace_back();
  p.partition_index = index;
  p.replicas = a.replicas;
  p.adding_replicas = a.adding;
  p.removing_replicas = a.removing;
}

}  // namespace

void handle_list_partition_reassignments(RequestContext context) {
  auto request = context.decode<protocol::ListPartitionReassignmentsRequest>();
  Response response;
  if (!context.authorized_on_cluster(AclOperation::kDescribe)) {
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    response.error_message = "Not authorized to list reassignments (DESCRIBE on the cluster)";
    context.respond(response);
    return;
  }
  const auto& topics = context.server().partitions.metadata().topics;
  if (!request.topics) {
    for (const auto& [name, topic] : topics) {
      Response::OngoingTopicReassignment out;
      out.name = name;
      for (int32_t i = 0; i < static_cast<int32_t>(topic.assignments.size()); ++i) add_if_moving(out, topic, i);
      if (!out.partitions.empty()) response.topics.push_back(std::move(out));
    }
  } else {
    // Kafka answers only the partitions that are moving; an unknown topic or partition is simply not moving.
    for (const auto& wanted : *request.topics) {
      auto it = topics.find(wanted.name);
      if (it == topics.end()) continue;
      Response::OngoingTopicReassignment out;
      out.name = wanted.name;
      for (int32_t index : wanted.partition_indexes) add_if_moving(out, it->second, index);
      if (!out.partitions.empty()) response.topics.push_back(std::move(out));
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
