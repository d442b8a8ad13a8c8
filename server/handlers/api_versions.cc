// ApiVersions: the APIs and version ranges this broker serves, straight from the handler registry and the
// finalized features (server/features.h); v3+ also name the features. The response header is always v0 (the
// connection takes care of that); a request version above ours is answered by the connection itself in v0 form
// (KIP-511).
#include "protocol/messages/api_versions.h"

#include "server/features.h"
#include "server/handlers/registry.h"

namespace fjord::server {

namespace {
// v3 clients (KIP-584 as first written) refuse a supported feature whose minimum version is 0, so v3 answers
// leave such features out, as Kafka does; v4 names them.
constexpr int16_t kMinVersionZeroFeaturesVersion = 4;
constexpr const char* kTransactionVersion = "transaction.version";
}  // namespace

void handle_api_versions(RequestContext context) {
  // The v3+ body names the client software: the checklist audit names clients by it.
  auto request = context.decode<protocol::ApiVersionsRequest>();
  if (context.version() >= 3)
    context.set_client_software({request.client_software_name, request.client_software_version});
  const FinalizedFeatures& features = context.server().features;
  protocol::ApiVersionsResponse response;
  response.error_code = 0;
  for (const auto& api : context.registry().apis()) {
    protocol::ApiVersionsResponse::ApiVersion entry;
    entry.api_key = api.spec->key;
    entry.min_version = api.spec->min_version;
    entry.max_version = advertised_max_version(*api.spec, features);
    response.api_keys.push_back(entry);
  }
  response.throttle_time_ms = 0;
  if (context.version() >= kMinVersionZeroFeaturesVersion) {
    response.supported_features.push_back({kTransactionVersion, 0, kMaxTransactionVersion, {}});
  }
  response.finalized_features_epoch = features.epoch;
  if (features.transaction_version > 0) {
    response.finalized_features.push_back(
        {kTransactionVersion, features.transaction_version, features.transaction_version, {}});
  }
  context.respond(response);
}

}  // namespace fjord::server
