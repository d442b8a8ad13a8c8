// DescribeCluster: the registered brokers and the controller (on a single node, this broker is both).
#include "protocol/messages/describe_cluster.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_describe_cluster(RequestContext context) {
  auto request = context.decode<protocol::DescribeClusterRequest>();
  protocol::DescribeClusterResponse response;
  response.endpoint_type = request.endpoint_type;
  if (request.endpoint_type != 1) {  // 1: brokers; 2: controllers
    response.error_code = wire(ErrorCode::kUnsupportedEndpointType);
    response.error_message = "Only the broker endpoint type is served";
    context.respond(response);
    return;
  }
  response.cluster_id = context.server().partitions.metadata().cluster_id;
  response.controller_id = context.server().controller_id();
  for (const auto& b : context.brokers()) {
    protocol::DescribeClusterResponse::DescribeClusterBroker broker;
    broker.broker_id = b.node_id;
    broker.host = b.host;
    broker.port = b.port;
    broker.rack = b.rack;
    response.brokers.push_back(broker);
  }
  context.respond(response);
}

}  // namespace fjord::server
