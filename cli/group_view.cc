#include "cli/group_view.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "cli/kafka_connection.h"
#include "model/error_codes.h"
#include "protocol/messages/consumer_group_describe.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/list_groups.h"

namespace fjord::cli {
namespace {

// FindCoordinator up to v3 asks for one key, as this does; the batched v4 answers the same.
constexpr int16_t kFindCoordinatorVersion = 3;

std::vector<PartitionKey> partitions_of(const protocol::ConsumerGroupDescribeResponse::Assignment& assignment) {
  std::vector<PartitionKey> out;
  for (const auto& topic : assignment.topic_partitions) {
    for (int32_t p : topic.partitions) out.push_back({topic.topic_name, p});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ConsumerGroupDescribe at the group's coordinator: nullopt when the cluster does not serve it or the group is
// not one of the consumer protocol (GROUP_ID_NOT_FOUND, as Kafka answers for a classic group).
std::optional<GroupView> describe_consumer_protocol(const std::string& bootstrap, const std::string& group) {
  using protocol::ConsumerGroupDescribeRequest;
  using protocol::ConsumerGroupDescribeResponse;
  auto any = connect_any(bootstrap);
  const int16_t find_version = any->usable_version(protocol::FindCoordinatorRequest::kApiKey, kFindCoordinatorVersion);
  if (find_version < 0) return std::nullopt;
  protocol::FindCoordinatorRequest find;
  find.key = group;
  auto found = any->call<protocol::FindCoordinatorResponse>(find, find_version);
  if (found.error_code != 0) {
    throw std::runtime_error("no coordinator for group " + group + ": error " + std::to_string(found.error_code));
  }
  KafkaConnection coordinator(found.host, found.port);
  const int16_t version =
      coordinator.usable_version(ConsumerGroupDescribeRequest::kApiKey, ConsumerGroupDescribeRequest::kMaxVersion);
  if (version < 0) return std::nullopt;
  ConsumerGroupDescribeRequest request;
  request.group_ids = {group};
  auto answer = coordinator.call<ConsumerGroupDescribeResponse>(request, version);
  if (answer.groups.size() != 1) throw std::runtime_error("ConsumerGroupDescribe: no answer for " + group);
  const auto& described = answer.groups[0];
  if (described.error_code == wire(ErrorCode::kGroupIdNotFound)) return std::nullopt;
  if (described.error_code != 0) {
    throw std::runtime_error("ConsumerGroupDescribe: error " + std::to_string(described.error_code) + " " +
                             described.error_message.value_or(""));
  }
  GroupView view;
  view.protocol = "consumer";
  view.state = described.group_state;
  view.group_epoch = described.group_epoch;
  view.assignment_epoch = described.assignment_epoch;
  view.assignor = described.assignor_name;
  view.members = described.members.size();
  for (const auto& m : described.members) {
    MemberRow row{m.member_id,
                  m.client_host,
                  m.client_id,
                  m.instance_id,
                  m.member_epoch,
                  partitions_of(m.assignment),
                  partitions_of(m.target_assignment)};
    for (const auto& key : row.assigned) view.owners[key] = row;
    view.member_list.push_back(std::move(row));
  }
  return view;
}

}  // namespace

std::vector<const rd_kafka_topic_partition_list_t*> checked_groups(const rd_kafka_group_result_t** results,
                                                                   size_t count, const std::string& what,
                                                                   bool check_partitions) {
  std::vector<const rd_kafka_topic_partition_list_t*> lists;
  for (size_t g = 0; g < count; ++g) {
    if (const auto* error = rd_kafka_group_result_error(results[g]))
      throw std::runtime_error(what + ": " + rd_kafka_error_string(error));
    const auto* partitions = rd_kafka_group_result_partitions(results[g]);
    for (int p = 0; check_partitions && partitions && p < partitions->cnt; ++p) {
      if (partitions->elems[p].err) {
        throw std::runtime_error(what + " " + partitions->elems[p].topic + "-" +
                                 std::to_string(partitions->elems[p].partition) + ": " +
                                 rd_kafka_err2str(partitions->elems[p].err));
      }
    }
    if (partitions) lists.push_back(partitions);
  }
  return lists;
}

GroupView describe_members(AdminClient& admin, const std::string& group) {
  try {
    if (auto consumer_protocol = describe_consumer_protocol(admin.bootstrap(), group)) return *consumer_protocol;
  } catch (const std::exception&) {
    // DescribeGroups below says what is wrong, in librdkafka's words, or describes the group without its epochs.
  }
  GroupView view;
  const char* groups[] = {group.c_str()};
  // A coordinator that is moving or still loading its groups (a cluster just started, a broker just restarted)
  // says so with an error worth waiting out, as Kafka's own admin client does, for a few seconds.
  AdminEvent event(nullptr, rd_kafka_event_destroy);
  const rd_kafka_ConsumerGroupDescription_t** described = nullptr;
  for (int attempt = 1;; ++attempt) {
    auto* options = admin.options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(admin.handle(), groups, 1, options, admin.queue());
    rd_kafka_AdminOptions_destroy(options);
    event = admin.wait("DescribeGroups");
    size_t count = 0;
    described = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(event.get()),
                                                              &count);
    if (count != 1) throw std::runtime_error("DescribeGroups: no answer for " + group);
    const auto* error = rd_kafka_ConsumerGroupDescription_error(described[0]);
    if (!error) break;
    const auto code = rd_kafka_error_code(error);
    const bool coordinator_busy = code == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
                                  code == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                                  code == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
    if (!coordinator_busy || attempt == 20)
      throw std::runtime_error("DescribeGroups: " + std::string(rd_kafka_error_string(error)));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  view.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(described[0]));
  if (const char* assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(described[0])) {
    view.assignor = assignor;
  }
  view.members = rd_kafka_ConsumerGroupDescription_member_count(described[0]);
  for (size_t i = 0; i < view.members; ++i) {
    const auto* member = rd_kafka_ConsumerGroupDescription_member(described[0], i);
    MemberRow row{rd_kafka_MemberDescription_consumer_id(member), rd_kafka_MemberDescription_host(member),
                  rd_kafka_MemberDescription_client_id(member), std::nullopt};
    if (const char* instance = rd_kafka_MemberDescription_group_instance_id(member); instance && *instance) {
      row.group_instance_id = instance;
    }
    const auto* assigned = rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(member));
    for (int p = 0; assigned && p < assigned->cnt; ++p) {
      view.owners[{assigned->elems[p].topic, assigned->elems[p].partition}] = row;
    }
    view.member_list.push_back(std::move(row));
  }
  return view;
}

GroupView describe_group(AdminClient& admin, const std::string& group) {
  GroupView view = describe_members(admin, group);
  {
    auto* request = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
    auto* options = admin.options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(admin.handle(), &request, 1, options, admin.queue());
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_ListConsumerGroupOffsets_destroy(request);
    auto event = admin.wait("OffsetFetch");
    size_t count = 0;
    auto** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
    for (const auto* offsets : checked_groups(results, count, "OffsetFetch", false)) {
      for (int p = 0; p < offsets->cnt; ++p) {
        if (offsets->elems[p].offset >= 0)
          view.committed[{offsets->elems[p].topic, offsets->elems[p].partition}] = offsets->elems[p].offset;
      }
    }
  }
  return view;
}

std::vector<GroupListing> list_groups(AdminClient& admin) {
  // ListGroups at every broker, each at the newest version both sides serve: v5 names each group's type.
  auto any = connect_any(admin.bootstrap());
  auto cluster = any->metadata();
  std::vector<GroupListing> listed;
  for (const auto& broker : cluster.brokers) {
    KafkaConnection connection(broker.host, broker.port);
    const int16_t version =
        connection.usable_version(protocol::ListGroupsRequest::kApiKey, protocol::ListGroupsRequest::kMaxVersion);
    if (version < 0) throw std::runtime_error("broker " + std::to_string(broker.node_id) + " does not list groups");
    auto answer = connection.call<protocol::ListGroupsResponse>(protocol::ListGroupsRequest{}, version);
    if (answer.error_code != 0) {
      throw std::runtime_error("ListGroups at broker " + std::to_string(broker.node_id) + ": error " +
                               std::to_string(answer.error_code));
    }
    for (const auto& g : answer.groups) {
      std::string protocol = g.group_type;
      std::transform(protocol.begin(), protocol.end(), protocol.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      listed.push_back({g.group_id, version >= 4 ? g.group_state : "", protocol});
    }
  }
  std::sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) { return a.group < b.group; });
  return listed;
}

}  // namespace fjord::cli
