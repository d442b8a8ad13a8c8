// ApiVersions: the APIs and version ranges this broker serves, straight from the handler registry. The response
// header is always v0 (the connection takes care of that); a request version above ours is answered by the
// connection itself in v0 form (KIP-511).
#include "protocol/messages/api_versions.h"

#include "server/handlers/registry.h"

namespace fjord::server {

void handle_api_versions(RequestContext context) {
  // The v3+ body names the client software; nothing here needs it, but it must decode.
  (void)context.decode<protocol::ApiVersionsRequest>();
  protocol::ApiVersionsResponse response;
  response.error_code = 0;
  for (const auto& api : context.registry().apis()) {
    protocol::ApiVersionsResponse::ApiVersion entry;
    entry.api_key = api.spec->key;
    entry.min_version = api.spec->min_version;
    entry.max_version = api.spec->max_version;
    response.api_keys.push_back(entry);
  }
  response.throttle_time_ms = 0;
  context.respond(response);
}

}  // namespace fjord::server
