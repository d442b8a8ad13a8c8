// What the group tools (`fjord group`, `fjord lag`) read about a consumer group through the Admin API: its state,
// members and the partitions they own, and its committed offsets. Works against any Kafka-compatible cluster.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/admin_client.h"

namespace fjord::cli {

struct MemberRow {
  std::string consumer_id, host, client_id;
  std::optional<std::string> group_instance_id;
};

struct GroupView {
  std::string state;
  std::string assignor;  // the partition assignor the group runs with ("" without members)
  std::vector<MemberRow> member_list;
  std::map<PartitionKey, MemberRow> owners;
  std::map<PartitionKey, int64_t> committed;  // filled by describe_group only
  size_t members = 0;
};

// DescribeGroups for one group: its state, assignor, members and what they own; throws when it fails.
GroupView describe_members(AdminClient& admin, const std::string& group);
// describe_members, and the group's committed offsets (OffsetFetch); throws when either fails.
GroupView describe_group(AdminClient& admin, const std::string& group);

// Every consumer group with its state, sorted by name.
std::vector<std::pair<std::string, std::string>> list_groups(AdminClient& admin);

// The partition lists of an Admin result's groups; throws on a group's error and, with `check_partitions`, on any
// partition's.
std::vector<const rd_kafka_topic_partition_list_t*> checked_groups(const rd_kafka_group_result_t** results,
                                                                   size_t count, const std::string& what,
                                                                   bool check_partitions);

}  // namespace fjord::cli
