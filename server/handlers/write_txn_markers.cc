// WriteTxnMarkers: a transaction coordinator asks this broker to end transactions in the partitions it leads, by
// appending their commit or abort markers; each partition is answered once every in-sync replica has its marker
// (NOT_LEADER_OR_FOLLOWER where this broker does not lead it; the coordinator retries those).
#include "protocol/messages/write_txn_markers.h"

#include <memory>

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_write_txn_markers(RequestContext context) {
  auto request = context.decode<protocol::WriteTxnMarkersRequest>();
  using Response = protocol::WriteTxnMarkersResponse;
  struct Writing {
    RequestContext context;
    Response response;
    size_t outstanding = 1;
    void finish_one() {
      if (--outstanding == 0) context.respond(response);
    }
  };
  auto writing = std::make_shared<Writing>(Writing{context, {}, 1});
  writing->response.markers.resize(request.markers.size());
  for (size_t m = 0; m < request.markers.size(); ++m) {
    const auto& marker = request.markers[m];
    writing->response.markers[m].producer_id = marker.producer_id;
    std::vector<coordinator::TopicPartition> partitions;
    for (const auto& topic : marker.topics) {
      for (int32_t p : topic.partition_indexes) partitions.push_back({topic.name, p});
    }
    ++writing->outstanding;
    context.server().markers.write(
        {marker.producer_id, marker.producer_epoch, marker.coordinator_epoch, marker.transaction_result}, partitions,
        [writing, m](std::map<coordinator::TopicPartition, ErrorCode> results) {
          auto& topics = writing->response.markers[m].topics;
          for (const auto& [tp, error] : results) {
            if (topics.empty() || topics.back().name != tp.topic) topics.emplace_back().name = tp.topic;
            auto& p = topics.back().partitions.emplace_back();
            p.partition_index = tp.partition;
            p.error_code = wire(error);
          }
          writing->finish_one();
        });
  }
  writing->finish_one();
}

}  // namespace fjord::server
