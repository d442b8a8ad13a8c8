// ListOffsets: an offset for a timestamp, among the records the consumer may read (below the high watermark, or
// under read_committed below the last stable offset). -1 is that end, -2 the log start, -3 the record with the largest
// timestamp (v7+), -4 the earliest local offset (v8+, here the log start). Otherwise the first record whose
// timestamp is at or after the one asked for, or offset and timestamp -1 when there is none.
#include "protocol/messages/list_offsets.h"

#include "server/handlers/partition_errors.h"
#include "server/handlers/registry.h"

namespace fjord::server {
namespace {

constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;
constexpr int64_t kMaxTimestamp = -3;
constexpr int64_t kEarliestLocal = -4;
constexpr int64_t kLatestTiered = -5;

}  // namespace

void handle_list_offsets(RequestContext context) {
  auto request = context.decode<protocol::ListOffsetsRequest>();
  auto& partitions = context.server().partitions;
  protocol::ListOffsetsResponse response;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.topics.emplace_back();
    topic_out.name = topic.name;
    const bool may_describe = context.authorized(AclOperation::kDescribe, AclResourceType::kTopic, topic.name);
    for (const auto& wanted : topic.partitions) {
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = wanted.partition_index;
      if (!may_describe) {
        out.error_code = wire(ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      cluster::Partition* partition = partitions.partition(topic.name, wanted.partition_index);
      if (!partition) {
        out.error_code = wire(absent_partition_error(partitions, topic.name, wanted.partition_index));
        continue;
      }
      if (auto error = partition->leader_error(wanted.current_leader_epoch); error != ErrorCode::kNone) {
        out.error_code = wire(error);
        continue;
      }
      const auto& log = partition->log();
      // What the asking consumer may read: under read_committed (v2+), up to the last stable offset.
      const int64_t high_watermark =
          request.isolation_level == 1 ? partition->last_stable_offset() : partition->high_watermark();
      auto epoch_before = [&](int64_t offset) { return offset > 0 ? log.leader_epoch_at(offset - 1) : -1; };
      switch (wanted.timestamp) {
        case kLatest:
          out.offset = high_watermark;
          out.leader_epoch = epoch_before(high_watermark);
          break;
        case kEarliest:
        case kEarliestLocal:
          out.offset = partition->log_start_offset();
          out.leader_epoch = out.offset < high_watermark ? log.leader_epoch_at(out.offset) : -1;
          break;
        case kLatestTiered:
          out.offset = -1;  // nothing is tiered
          break;
        case kMaxTimestamp:
          if (context.version() < 7) {
            out.error_code = wire(ErrorCode::kUnsupportedVersion);
            break;
          }
          if (auto hit = log.offset_of_max_timestamp(high_watermark)) {
            out.offset = hit->offset;
            out.timestamp = hit->timestamp;
            out.leader_epoch = hit->leader_epoch;
          }
          break;
        default:
          if (wanted.timestamp < 0) {
            out.error_code = wire(ErrorCode::kInvalidRequest);
            break;
          }
          if (auto hit = log.offset_for_timestamp(wanted.timestamp, high_watermark)) {
            out.offset = hit->offset;
            out.timestamp = hit->timestamp;
            out.leader_epoch = hit->leader_epoch;
          }
      }
    }
  }
  context.respond(response);
}

}  // namespace fjord::server
