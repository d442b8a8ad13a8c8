// DescribeLogDirs: this broker's data directory (Fjord keeps one), the size of each partition it holds and how
// far that replica's log end is behind its high watermark, and the file system's total and usable bytes (v4).
// Kafka's kafka-log-dirs and the admin client's describeLogDirs ask each broker in turn.
#include "protocol/messages/describe_log_dirs.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_log_dirs(RequestContext context) {
  auto request = context.decode<protocol::DescribeLogDirsRequest>();
  auto& partitions = context.server().partitions;
  protocol::DescribeLogDirsResponse response;
  if (!context.authorized_on_cluster(AclOperation::kDescribe)) {
    // DESCRIBE on the cluster; before v3 a refusal is an empty answer.
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    context.respond(response);
    return;
  }
  auto& directory = response.results.emplace_back();
  std::error_code error;
  const auto path = std::filesystem::absolute(partitions.data_directory(), error);
  directory.log_dir = error ? partitions.data_directory() : path.lexically_normal().string();
  if (partitions.directory_offline()) {
    directory.error_code = wire(ErrorCode::kKafkaStorageError);
    context.respond(response);
    return;
  }
  if (auto space = std::filesystem::space(directory.log_dir, error); !error) {
    directory.total_bytes = static_cast<int64_t>(space.capacity);
    directory.usable_bytes = static_cast<int64_t>(space.available);
  }
  std::set<std::pair<std::string, int32_t>> wanted;
  if (request.topics) {
    for (const auto& t : *request.topics) {
      for (int32_t p : t.partitions) wanted.emplace(t.topic, p);
    }
  }
  for (const auto& [name, topic] : partitions.metadata().topics) {
    protocol::DescribeLogDirsResponse::DescribeLogDirsTopic out;
    out.name = name;
    for (const auto* partition : partitions.partitions_of(name)) {
      if (request.topics && !wanted.count({name, partition->index()})) continue;
      auto& p = out.partitions.emplace_back();
      p.partition_index = partition->index();
      p.partition_size = partition->log().size_bytes();
      p.offset_lag = std::max<int64_t>(0, partition->high_watermark() - partition->log_end_offset());
      p.is_future_key = false;
    }
    if (!out.partitions.empty()) directory.topics.push_back(std::move(out));
  }
  context.respond(response);
}

}  // namespace fjord::server
