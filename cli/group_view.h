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
  // A member of the consumer protocol (KIP-848): its epoch, what it owns and what the broker means it to own.
  std::optional<int32_t> member_epoch;
  std::vector<PartitionKey> assigned, target;
};

struct GroupView {
  std::string protocol = "classic";  // "consumer": the consumer group protocol of KIP-848
  std::string state;
  std::optional<int32_t> group_epoch, assignment_epoch;  // the consumer protocol's
  std::string assignor;  // the partition assignor the group runs with ("" without members)
  std::vector<MemberRow> member_list;
  std::map<PartitionKey, MemberRow> owners;
  std::map<PartitionKey, int64_t> committed;  // filled by describe_group only
  size_t members = 0;
};

// One group's protocol, state, assignor, members and what they own; throws when it cannot be described. A group
// of the consumer protocol is described with ConsumerGroupDescribe (with its epochs and each member's target),
// any other with DescribeGroups.
GroupView describe_members(AdminClient& admin, const std::string& group);
// describe_members, and the group's committed offsets (OffsetFetch); throws when either fails.
GroupView describe_group(AdminClient& admin, const std::string& group);

struct GroupListing {
  std::string group, state;
  std::string protocol;  // "classic", "consumer" (KIP-848), ...; "" when the cluster does not say (before Kafka 3.7)
};
// Every group of every broker (ListGroups), sorted by name.
std::vector<GroupListing> list_groups(AdminClient& admin);

// The partition lists of an Admin result's groups; throws on a group's error and, with `check_partitions`, on any
// partition's.
std::vector<const rd_kafka_topic_partition_list_t*> checked_groups(const rd_kafka_group_result_t** results,
                                                                   size_t count, const std::string& what,
                                                                   bool check_partitions);

}  // namespace fjord::cli
