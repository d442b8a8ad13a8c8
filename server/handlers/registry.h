// The one table of the APIs this broker serves: each API key with its handler. The versions come from the API's
// spec (protocol/specs), so ApiVersions advertises exactly what the codecs implement.
#pragma once

#include <vector>

#include "protocol/messages/api_catalog.h"
#include "server/request_context.h"

namespace fjord::server {

using Handler = void (*)(RequestContext context);

// Who may send an API while an authorizer is on (authorizer.class.name). The default is the strictest: an API
// whose handler does not check the ACLs of each resource it touches is served only to principals allowed ALTER
// on the cluster (super users among them); anyone else's request closes the connection, with nothing done.
enum class Authorization {
  kOpen,           // everyone: ApiVersions, the SASL exchange, DescribeCluster
  kPerResource,    // the handler checks each resource, answering Kafka's *_AUTHORIZATION_FAILED codes
  kClusterAction,  // broker to broker: CLUSTER_ACTION on the cluster
};

struct ServedApi {
  const protocol::ApiSpec* spec;
  Handler handler;
  Authorization authorization = Authorization::kPerResource;
};

class HandlerRegistry {
 public:
  // Every API Fjord serves, in key order.
  static const HandlerRegistry& standard();

  const ServedApi* find(int16_t api_key) const;
  const std::vector<ServedApi>& apis() const { return apis_; }

 private:
  std::vector<ServedApi> apis_;
};

// One function per API, in server/handlers/<api>.cc.
void handle_api_versions(RequestContext context);
void handle_metadata(RequestContext context);
void handle_produce(RequestContext context);
void handle_fetch(RequestContext context);
void handle_list_offsets(RequestContext context);
void handle_create_topics(RequestContext context);
void handle_delete_topics(RequestContext context);
void handle_create_partitions(RequestContext context);
void handle_delete_records(RequestContext context);
void handle_describe_configs(RequestContext context);
void handle_alter_configs(RequestContext context);
void handle_incremental_alter_configs(RequestContext context);
void handle_describe_cluster(RequestContext context);
void handle_describe_log_dirs(RequestContext context);
void handle_elect_leaders(RequestContext context);
void handle_alter_partition_reassignments(RequestContext context);
void handle_list_partition_reassignments(RequestContext context);
void handle_init_producer_id(RequestContext context);
void handle_find_coordinator(RequestContext context);
void handle_join_group(RequestContext context);
void handle_sync_group(RequestContext context);
void handle_heartbeat(RequestContext context);
void handle_consumer_group_heartbeat(RequestContext context);
void handle_consumer_group_describe(RequestContext context);
void handle_leave_group(RequestContext context);
void handle_offset_commit(RequestContext context);
void handle_offset_fetch(RequestContext context);
void handle_list_groups(RequestContext context);
void handle_describe_groups(RequestContext context);
void handle_delete_groups(RequestContext context);
void handle_offset_delete(RequestContext context);
void handle_offset_for_leader_epoch(RequestContext context);
void handle_add_partitions_to_txn(RequestContext context);
void handle_add_offsets_to_txn(RequestContext context);
void handle_end_txn(RequestContext context);
void handle_txn_offset_commit(RequestContext context);
void handle_write_txn_markers(RequestContext context);
void handle_list_transactions(RequestContext context);
void handle_describe_transactions(RequestContext context);
void handle_describe_producers(RequestContext context);
void handle_sasl_handshake(RequestContext context);
void handle_sasl_authenticate(RequestContext context);
void handle_describe_user_scram_credentials(RequestContext context);
void handle_alter_user_scram_credentials(RequestContext context);
void handle_describe_acls(RequestContext context);
void handle_create_acls(RequestContext context);
void handle_delete_acls(RequestContext context);
void handle_describe_client_quotas(RequestContext context);
void handle_alter_client_quotas(RequestContext context);

}  // namespace fjord::server
