// AlterPartitionReassignments: starts (or cancels) moving partitions' replicas. The moves are stored through the
// cluster metadata before the answer; the copying that follows is the new replicas' business (reassignment.h).
#include "protocol/messages/alter_partition_reassignments.h"

#include "server/handlers/completion.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_alter_partition_reassignments(RequestContext context) {
  auto request = context.decode<protocol::AlterPartitionReassignmentsRequest>();
  if (!context.authorized_on_cluster(AclOperation::kAlter)) {
    protocol::AlterPartitionReassignmentsResponse response;
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    response.error_message = "Not authorized to reassign partitions (ALTER on the cluster)";
    context.respond(response);
    return;
  }
  std::vector<cluster::ReassignmentRequest> moves;
  for (auto& topic : request.topics) {
    for (auto& p : topic.partitions) moves.push_back({topic.name, p.partition_index, std::move(p.replicas)});
  }
  std::vector<int32_t> brokers;
  for (const auto& b : context.server().brokers()) brokers.push_back(b.node_id);
  auto completion = Completion<protocol::AlterPartitionReassignmentsResponse>::start(std::move(context));
  completion->response.allow_replication_factor_change = request.allow_replication_factor_change;
  completion->add_one();
  completion->context().server().partitions.reassign_partitions(
      moves, std::move(brokers), request.allow_replication_factor_change,
      [completion, moves](std::vector<cluster::ReassignmentOutcome> outcomes) {
        auto& topics = completion->response.responses;
        for (size_t i = 0; i < moves.size() && i < outcomes.size(); ++i) {
          if (topics.empty() || topics.back().name != moves[i].topic) topics.emplace_back().name = moves[i].topic;
          auto& result = topics.back().partitions.emplace_back();
          result.partition_index = moves[i].partition;
          result.error_code = wire(outcomes[i].error);
          if (!outcomes[i].message.empty()) result.error_message = std::move(outcomes[i].message);
        }
        completion->finish_one();
      });
  completion->all_started();
}

}  // namespace fjord::server
