// ElectLeaders: preferred or unclean leader election for the partitions named (or all), stored through the
// cluster metadata before the answer, so a client that asks Metadata next sees the new leaders.
#include "protocol/messages/elect_leaders.h"

#include "cluster/controller.h"
#include "server/handlers/completion.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_elect_leaders(RequestContext context) {
  auto request = context.decode<protocol::ElectLeadersRequest>();
  if (request.election_type != 0 && request.election_type != 1) {
    protocol::ElectLeadersResponse response;
    response.error_code = wire(ErrorCode::kInvalidRequest);
    context.respond(response);
    return;
  }
  if (!context.authorized_on_cluster(AclOperation::kAlter)) {
    // ALTER on the cluster; each partition named answers the refusal too (v0 has no top-level error).
    protocol::ElectLeadersResponse response;
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    if (request.topic_partitions) {
      for (const auto& t : *request.topic_partitions) {
        auto& topic = response.replica_election_results.emplace_back();
        topic.topic = t.topic;
        for (int32_t p : t.partitions) {
          auto& result = topic.partition_result.emplace_back();
          result.partition_id = p;
          result.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
        }
      }
    }
    context.respond(response);
    return;
  }
  const auto type = static_cast<cluster::ElectionType>(request.election_type);
  std::optional<std::vector<cluster::ElectionTarget>> targets;
  if (request.topic_partitions) {
    targets.emplace();
    for (auto& t : *request.topic_partitions) targets->push_back({std::move(t.topic), std::move(t.partitions)});
  }
  const auto& server = context.server();
  std::vector<int32_t> live{server.identity.node_id};
  if (server.membership) live = cluster::live_node_ids(*server.membership);
  auto completion = Completion<protocol::ElectLeadersResponse>::start(std::move(context));
  completion->add_one();
  completion->context().server().partitions.elect_leaders(
      type, std::move(targets), std::move(live), [completion](std::vector<cluster::ElectionOutcome> outcomes) {
        for (auto& outcome : outcomes) {
          protocol::ElectLeadersResponse::ReplicaElectionResult topic;
          topic.topic = std::move(outcome.topic);
          for (auto& p : outcome.partitions) {
            protocol::ElectLeadersResponse::ElectionPartitionResult result;
            result.partition_id = p.index;
            result.error_code = wire(p.error);
            if (!p.message.empty()) result.error_message = std::move(p.message);
            topic.partition_result.push_back(std::move(result));
          }
          completion->response.replica_election_results.push_back(std::move(topic));
        }
        completion->finish_one();
      });
  completion->all_started();
}

}  // namespace fjord::server
