// SaslHandshake: the client names the SASL mechanism it will authenticate with. v0 clients then send the tokens
// bare; v1 clients in SaslAuthenticate requests.
#include "protocol/messages/sasl_handshake.h"

#include "server/handlers/registry.h"
#include "server/security/sasl_server.h"

namespace fjord::server {

void handle_sasl_handshake(RequestContext context) {
  auto request = context.decode<protocol::SaslHandshakeRequest>();
  protocol::SaslHandshakeResponse response;
  auto* session = context.session();
  if (session && session->listener && security::uses_sasl(session->listener->protocol)) {
    response.mechanisms = session->listener->sasl_mechanisms;
  }
  auto error = session ? security::choose_mechanism(*session, request.mechanism)
                       : std::optional<ErrorCode>(ErrorCode::kIllegalSaslState);
  if (error) {
    response.error_code = wire(*error);
    // Before authenticating, a refused handshake leaves the client nothing more to do on this connection.
    if (session && !session->authenticated) session->end_after_answer = true;
  } else if (context.version() == 0) {
    session->raw_tokens = true;
  }
  context.respond(response);
}

}  // namespace fjord::server
