#include "server/handlers/registry.h"

#include <algorithm>
#include <stdexcept>

#include "protocol/messages/all_messages.h"

namespace fjord::server {

namespace {

template <typename Request>
ServedApi served(Handler handler) {
  const auto* spec = protocol::find_api_spec(Request::kApiKey);
  if (!spec) throw std::logic_error("an API without a spec cannot be served");
  return {spec, handler};
}

}  // namespace

const HandlerRegistry& HandlerRegistry::standard() {
  static const HandlerRegistry registry = [] {
    using namespace protocol;
    HandlerRegistry r;
    r.apis_ = {
        served<ProduceRequest>(&handle_produce),
        served<FetchRequest>(&handle_fetch),
        served<ListOffsetsRequest>(&handle_list_offsets),
        served<MetadataRequest>(&handle_metadata),
        served<ApiVersionsRequest>(&handle_api_versions),
        served<CreateTopicsRequest>(&handle_create_topics),
        served<DeleteTopicsRequest>(&handle_delete_topics),
        served<DeleteRecordsRequest>(&handle_delete_records),
        served<DescribeConfigsRequest>(&handle_describe_configs),
        served<AlterConfigsRequest>(&handle_alter_configs),
        served<CreatePartitionsRequest>(&handle_create_partitions),
        served<IncrementalAlterConfigsRequest>(&handle_incremental_alter_configs),
        served<DescribeClusterRequest>(&handle_describe_cluster),
        served<DescribeLogDirsRequest>(&handle_describe_log_dirs),
        served<ElectLeadersRequest>(&handle_elect_leaders),
        served<AlterPartitionReassignmentsRequest>(&handle_alter_partition_reassignments),
        served<ListPartitionReassignmentsRequest>(&handle_list_partition_reassignments),
        served<InitProducerIdRequest>(&handle_init_producer_id),
        served<FindCoordinatorRequest>(&handle_find_coordinator),
        served<JoinGroupRequest>(&handle_join_group),
        served<SyncGroupRequest>(&handle_sync_group),
        served<HeartbeatRequest>(&handle_heartbeat),
        served<LeaveGroupRequest>(&handle_leave_group),
        served<OffsetCommitRequest>(&handle_offset_commit),
        served<OffsetFetchRequest>(&handle_offset_fetch),
        served<ListGroupsRequest>(&handle_list_groups),
        served<DescribeGroupsRequest>(&handle_describe_groups),
        served<DeleteGroupsRequest>(&handle_delete_groups),
        served<OffsetDeleteRequest>(&handle_offset_delete),
        served<OffsetForLeaderEpochRequest>(&handle_offset_for_leader_epoch),
        served<AddPartitionsToTxnRequest>(&handle_add_partitions_to_txn),
        served<AddOffsetsToTxnRequest>(&handle_add_offsets_to_txn),
        served<EndTxnRequest>(&handle_end_txn),
        served<TxnOffsetCommitRequest>(&handle_txn_offset_commit),
        served<WriteTxnMarkersRequest>(&handle_write_txn_markers),
        served<ListTransactionsRequest>(&handle_list_transactions),
        served<DescribeTransactionsRequest>(&handle_describe_transactions),
        served<DescribeProducersRequest>(&handle_describe_producers),
        served<ConsumerGroupHeartbeatRequest>(&handle_consumer_group_heartbeat),
        served<ConsumerGroupDescribeRequest>(&handle_consumer_group_describe),
        served<SaslHandshakeRequest>(&handle_sasl_handshake),
        served<SaslAuthenticateRequest>(&handle_sasl_authenticate),
        served<DescribeUserScramCredentialsRequest>(&handle_describe_user_scram_credentials),
        served<AlterUserScramCredentialsRequest>(&handle_alter_user_scram_credentials),
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
