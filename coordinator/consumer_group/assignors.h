// The server-side assignors of the consumer group protocol: the coordinator, not a client, divides a group's
// partitions among its members.
//   uniform  every partition to one of the members subscribed to its topic, as evenly as the subscriptions allow,
//            moving as few partitions as it can from where the last assignment put them (sticky);
//   range    per topic, the members subscribed to it in order of instance id (else member id) each take one
//            contiguous range, the first ones one partition more: members subscribed to co-partitioned topics
//            get the same partition numbers of each.
// Pure: members and topics in, one assignment per member out.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/consumer_group/assignment.h"

namespace fjord::coordinator::consumer {

struct AssignorMember {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::set<TopicId, TopicIdLess> subscribed;  // existing topics only
  Assignment previous;                        // the member's target assignment so far
};

class ServerAssignor {
 public:
  virtual ~ServerAssignor() = default;
  virtual std::string_view name() const = 0;
  // One entry per member (empty when it gets nothing). `partitions`: every subscribed topic's partition count.
  virtual std::map<std::string, Assignment> assign(const std::vector<AssignorMember>& members,
                                                   const std::map<TopicId, int32_t, TopicIdLess>& partitions) const = 0;
};

// "uniform" or "range"; nullptr for any other name.
const ServerAssignor* find_assignor(std::string_view name);

}  // namespace fjord::coordinator::consumer
