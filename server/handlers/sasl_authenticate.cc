// SaslAuthenticate: one SASL token of the mechanism chosen in SaslHandshake, answered with the server's token.
// A failed authentication is answered (SASL_AUTHENTICATION_FAILED, with a message that names the mechanism and
// nothing the client sent) after connection.failed.authentication.delay.ms, and then the connection closes.
#include "protocol/messages/sasl_authenticate.h"

#include "server/handlers/registry.h"
#include "server/security/sasl_server.h"

namespace fjord::server {

void handle_sasl_authenticate(RequestContext context) {
  auto request = context.decode<protocol::SaslAuthenticateRequest>();
  protocol::SaslAuthenticateResponse response;
  auto* session = context.session();
  if (!session || session->raw_tokens) {
    response.error_code = wire(ErrorCode::kIllegalSaslState);
    response.error_message = "SaslAuthenticate is not expected now";
    if (session) session->end_after_answer = true;
    context.respond(response);
    return;
  }
  const auto& auth_bytes = request.auth_bytes;
  auto outcome = security::take_token(
      *session, std::string_view(reinterpret_cast<const char*>(auth_bytes.data()), auth_bytes.size()),
      context.server().partitions.metadata(), context.server().clock.monotonic_ms());
  security::report_authentication(context.server().probe, *session, outcome, context.client_host());
  if (outcome.error != ErrorCode::kNone) {
    response.error_code = wire(outcome.error);
    response.error_message = outcome.error_message;
    session->end_after_answer = true;
    const int64_t delay = context.server().failed_authentication_delay_ms;
    if (delay <= 0) return context.respond(response);
    // The timer holds itself until it fires (at most the delay, even when the client has gone meanwhile).
    auto timer = std::make_shared<std::unique_ptr<TimerHandle>>();
    *timer = context.server().scheduler.schedule_after(delay, [context, response, timer]() mutable {
      auto fired = std::move(*timer);
      context.respond(response);
    });
    return;
  }
  response.auth_bytes.assign(outcome.response.begin(), outcome.response.end());
  if (outcome.complete && session->expires_at_ms > 0) {
    // KIP-368: the client learns when to authenticate again.
    response.session_lifetime_ms = session->listener->max_reauth_ms;
  }
  context.respond(response);
}

}  // namespace fjord::server
