// DescribeCluster: this broker is the whole cluster and its controller.
#include "protocol/messages/describe_cluster.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_cluster(RequestContext context) {
  auto request = context.decode<protocol::DescribeClusterRequest>();
  const auto& identity = context.server().identity;
  protocol::DescribeClusterResponse response;
  response.endpoint_type = request.endpoint_type;
  if (request.endpoint_type != 1) {  // 1: brokers; 2: controllers
    response.error_code = wire(ErrorCode::kUnsupportedEndpointType);
    response.error_message = "Only the broker endpoint type is served";
    context.respond(response);
    return;
  }
  response.cluster_id = context.server().partitions.metadata().cluster_id;
  response.controller_id = identity.node_id;
  protocol::DescribeClusterResponse::DescribeClusterBroker broker;
  broker.broker_id = identity.node_id;
  broker.host = identity.advertised_host;
  broker.port = identity.advertised_port;
  broker.rack = identity.rack;
  response.brokers.push_back(broker);
  context.respond(response);
}

}  // namespace fjord::server
