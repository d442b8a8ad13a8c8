// What a listener asks of the clients that connect to it, and what one connection has shown so far.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/security/scram.h"
#include "server/security/tls.h"

namespace fjord::server::security {

// Kafka's security.protocol values, as listener.security.protocol.map names them.
enum class SecurityProtocol { kPlaintext, kSsl, kSaslPlaintext, kSaslSsl };

std::optional<SecurityProtocol> security_protocol_by_name(const std::string& name);
const char* security_protocol_name(SecurityProtocol protocol);
inline bool uses_tls(SecurityProtocol p) { return p == SecurityProtocol::kSsl || p == SecurityProtocol::kSaslSsl; }
inline bool uses_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::kSaslPlaintext || p == SecurityProtocol::kSaslSsl;
}

// The SASL mechanisms Fjord serves.
inline const std::vector<std::string>& supported_sasl_mechanisms() {
  static const std::vector<std::string> mechanisms{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
  return mechanisms;
}

struct ListenerSecurity {
  std::string name = "PLAINTEXT";  // the listener's name (PLAINTEXT, SASL_SSL, INTERNAL, ...)
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::shared_ptr<TlsContext> tls;           // set when the protocol uses TLS
  std::vector<std::string> sasl_mechanisms;  // sasl.enabled.mechanisms
  // sasl.server.max.receive.size: the largest request a connection may send before it has authenticated.
  size_t max_unauthenticated_request_bytes = 524288;
  // connections.max.reauth.ms: how long an authentication holds before the client must authenticate again
  // (0: for the connection's life).
  int64_t max_reauth_ms = 0;
  // connections.max.idle.ms: a connection with nothing in progress for this long is closed (<= 0: never).
  int64_t max_idle_ms = 600000;
};

// The principal of a connection that has not authenticated with SASL or a certificate.
inline const std::string kAnonymousPrincipal = "User:ANONYMOUS";

// One connection's authentication.
struct Session {
  const ListenerSecurity* listener = nullptr;
  bool authenticated = false;
  std::string principal = kAnonymousPrincipal;  // "User:alice"
  // The mechanism the client chose with SaslHandshake; empty before it did.
  std::string mechanism;
  // A SaslHandshake v0 client sends the SASL tokens as bare size-prefixed frames, not in SaslAuthenticate.
  bool raw_tokens = false;
  std::unique_ptr<ScramServerExchange> scram;
  // When the client must have authenticated again (connections.max.reauth.ms), in the clock's milliseconds; 0:
  // never.
  int64_t expires_at_ms = 0;
  // Authenticating again must name the same principal (KIP-368).
  bool reauthenticating = false;
  // A failed step: the connection ends once the answer to the request that failed has gone.
  bool end_after_answer = false;
};

}  // namespace fjord::server::security
