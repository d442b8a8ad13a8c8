#include "cli/group_view.h"

#include <algorithm>
#include <stdexcept>

namespace fjord::cli {

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
  GroupView view;
  const char* groups[] = {group.c_str()};
  auto* options = admin.options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
  rd_kafka_DescribeConsumerGroups(admin.handle(), groups, 1, options, admin.queue());
  rd_kafka_AdminOptions_destroy(options);
  auto event = admin.wait("DescribeGroups");
  size_t count = 0;
  auto** described =
      rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(event.get()), &count);
  if (count != 1) throw std::runtime_error("DescribeGroups: no answer for " + group);
  if (const auto* error = rd_kafka_ConsumerGroupDescription_error(described[0]))
    throw std::runtime_error("DescribeGroups: " + std::string(rd_kafka_error_string(error)));
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

std::vector<std::pair<std::string, std::string>> list_groups(AdminClient& admin) {
  auto* request_options = admin.options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
  rd_kafka_ListConsumerGroups(admin.handle(), request_options, admin.queue());
  rd_kafka_AdminOptions_destroy(request_options);
  auto event = admin.wait("ListGroups");
  const auto* result = rd_kafka_event_ListConsumerGroups_result(event.get());
  size_t count = 0;
  auto** groups = rd_kafka_ListConsumerGroups_result_valid(result, &count);
  std::vector<std::pair<std::string, std::string>> listed;
  for (size_t i = 0; i < count; ++i) {
    listed.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]),
                        rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(groups[i])));
  }
  std::sort(listed.begin(), listed.end());
  return listed;
}

}  // namespace fjord::cli
