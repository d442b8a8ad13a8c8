// OffsetForLeaderEpoch: where a leader epoch ends in this leader's log — the offset at which the next epoch
// began, or the log end for the current one. A follower taking a new leader asks it for its own latest epoch and
// truncates what lies past the answer; clients ask it to detect a log that was truncated under them (KIP-320).
#include "protocol/messages/offset_for_leader_epoch.h"

#include "server/handlers/partition_errors.h"
#include "server/handlers/registry.h"

namespace fjord::server {

void handle_offset_for_leader_epoch(RequestContext context) {
  auto request = context.decode<protocol::OffsetForLeaderEpochRequest>();
  auto& partitions = context.server().partitions;
  protocol::OffsetForLeaderEpochResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.topic = topic.topic;
    // A follower's request (replica id >= 0) needs CLUSTER_ACTION; a consumer's, DESCRIBE on the topic.
    const bool allowed = request.replica_id >= 0
                             ? context.authorized_on_cluster(AclOperation::kClusterAction)
                             : context.authorized(AclOperation::kDescribe, AclResourceType::kTopic, topic.topic);
    for (const auto& wanted : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition = wanted.partition;
      if (!allowed) {
        out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      cluster::Partition* partition = partitions.partition(topic.topic, wanted.partition);
      if (!partition) {
        out.error_code = wire(absent_partition_error(partitions, topic.topic, wanted.partition));
        continue;
      }
      if (auto error = partition->leader_error(wanted.current_leader_epoch); error != ErrorCode::kNone) {
        out.error_code = wire(error);
        continue;
      }
      auto end = partition->log().end_offset_for_epoch(wanted.leader_epoch);
      out.leader_epoch = end.epoch;
      out.end_offset = end.end_offset;
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
