#include "server/handlers/registry.h"

#include <algorithm>
#include <stdexcept>

#include "protocol/messages/all_messages.h"

namespace fjord::server {

namespace {

constexpr auto kOpen = Authorization::kOpen;
constexpr auto kPerResource = Authorization::kPerResource;
constexpr auto kClusterAction = Authorization::kClusterAction;

template <typename Request>
ServedApi served(Handler handler, Authorization authorization) {
  const auto* spec = protocol::find_api_spec(Request::kApiKey);
  if (!spec) throw std::logic_error("an API without a spec cannot be served");
  return {spec, handler, authorization};
}

}  // namespace

const HandlerRegistry& HandlerRegistry::standard() {
  static const HandlerRegistry registry = [] {
    using namespace protocol;
    HandlerRegistry r;
    r.apis_ = {
        served<ProduceRequest>(&handle_produce, kPerResource),
        served<FetchRequest>(&handle_fetch, kPerResource),
        served<ListOffsetsRequest>(&handle_list_offsets, kPerResource),
        served<MetadataRequest>(&handle_metadata, kPerResource),
        served<ApiVersionsRequest>(&handle_api_versions, kOpen),
        served<CreateTopicsRequest>(&handle_create_topics, kPerResource),
        served<DeleteTopicsRequest>(&handle_delete_topics, kPerResource),
        served<DeleteRecordsRequest>(&handle_delete_records, kPerResource),
        served<DescribeConfigsRequest>(&handle_describe_configs, kPerResource),
        served<AlterConfigsRequest>(&handle_alter_configs, kPerResource),
        served<CreatePartitionsRequest>(&handle_create_partitions, kPerResource),
        served<IncrementalAlterConfigsRequest>(&handle_incremental_alter_configs, kPerResource),
        served<DescribeClusterRequest>(&handle_describe_cluster, kOpen),
        served<DescribeLogDirsRequest>(&handle_describe_log_dirs, kPerResource),
        served<ElectLeadersRequest>(&handle_elect_leaders, kPerResource),
        served<AlterPartitionReassignmentsRequest>(&handle_alter_partition_reassignments, kPerResource),
        served<ListPartitionReassignmentsRequest>(&handle_list_partition_reassignments, kPerResource),
        served<InitProducerIdRequest>(&handle_init_producer_id, kPerResource),
        served<FindCoordinatorRequest>(&handle_find_coordinator, kPerResource),
        served<JoinGroupRequest>(&handle_join_group, kPerResource),
        served<SyncGroupRequest>(&handle_sync_group, kPerResource),
        served<HeartbeatRequest>(&handle_heartbeat, kPerResource),
        served<LeaveGroupRequest>(&handle_leave_group, kPerResource),
        served<OffsetCommitRequest>(&handle_offset_commit, kPerResource),
        served<OffsetFetchRequest>(&handle_offset_fetch, kPerResource),
        served<ListGroupsRequest>(&handle_list_groups, kPerResource),
        served<DescribeGroupsRequest>(&handle_describe_groups, kPerResource),
        served<DeleteGroupsRequest>(&handle_delete_groups, kPerResource),
        served<OffsetDeleteRequest>(&handle_offset_delete, kPerResource),
        served<OffsetForLeaderEpochRequest>(&handle_offset_for_leader_epoch, kPerResource),
        served<AddPartitionsToTxnRequest>(&handle_add_partitions_to_txn, kPerResource),
        served<AddOffsetsToTxnRequest>(&handle_add_offsets_to_txn, kPerResource),
        served<EndTxnRequest>(&handle_end_txn, kPerResource),
        served<TxnOffsetCommitRequest>(&handle_txn_offset_commit, kPerResource),
        served<WriteTxnMarkersRequest>(&handle_write_txn_markers, kClusterAction),
        served<ListTransactionsRequest>(&handle_list_transactions, kPerResource),
        served<DescribeTransactionsRequest>(&handle_describe_transactions, kPerResource),
        served<DescribeProducersRequest>(&handle_describe_producers, kPerResource),
        served<ConsumerGroupHeartbeatRequest>(&handle_consumer_group_heartbeat, kPerResource),
        served<ConsumerGroupDescribeRequest>(&handle_consumer_group_describe, kPerResource),
        served<SaslHandshakeRequest>(&handle_sasl_handshake, kOpen),
        served<SaslAuthenticateRequest>(&handle_sasl_authenticate, kOpen),
        served<DescribeUserScramCredentialsRequest>(&handle_describe_user_scram_credentials, kPerResource),
        served<AlterUserScramCredentialsRequest>(&handle_alter_user_scram_credentials, kPerResource),
        served<DescribeAclsRequest>(&handle_describe_acls, kPerResource),
        served<CreateAclsRequest>(&handle_create_acls, kPerResource),
        served<DeleteAclsRequest>(&handle_delete_acls, kPerResource),
        served<DescribeClientQuotasRequest>(&handle_describe_client_quotas, kPerResource),
        served<AlterClientQuotasRequest>(&handle_alter_client_quotas, kPerResource),
    };
    std::sort(r.apis_.begin(), r.apis_.end(), [](const auto& a, const auto& b) { return a.spec->key < b.spec->key; });
    return r;
  }();
  return registry;
}

const ServedApi* HandlerRegistry::find(int16_t api_key) const {
  for (const auto& api : apis_) {
    if (api.spec->key == api_key) return &api;
  }
  return nullptr;
}

}  // namespace fjord::server
