// The server's side of SASL, shared by SaslHandshake / SaslAuthenticate and by the bare tokens of a SaslHandshake
// v0 client: choosing a mechanism, checking each token against the SCRAM credentials in the cluster metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/metadata_store.h"
#include "model/error_codes.h"
#include "server/probe.h"
#include "server/security/listener_security.h"

namespace fjord::server::security {

// SaslHandshake: records the mechanism when the listener enables it; otherwise the error to answer with.
std::optional<ErrorCode> choose_mechanism(Session& session, const std::string& mechanism);

struct TokenOutcome {
  ErrorCode error = ErrorCode::kNone;
  std::string error_message;  // for the client: says what failed, never what was sent
  std::string response;       // the token to send back
  bool complete = false;      // the session is now authenticated
  std::string user;           // who tried (empty when the token named nobody)
  // Why it failed, for the broker's log (never a secret).
  std::string log_reason;
};

// One client token of the chosen mechanism. On completion the session is authenticated (and its principal set);
// on failure the connection must close once the answer has gone.
TokenOutcome take_token(Session& session, std::string_view token, const cluster::ClusterMetadata& metadata,
                        int64_t now_ms);

// Counts the outcome of a step that ended the exchange in /metrics, and logs a failure (who tried, from where,
// why; never what they sent).
void report_authentication(ServerProbe& probe, const Session& session, const TokenOutcome& outcome,
                           const std::string& peer);

// A user's password is checked against the SCRAM credential kept for it (SASL/PLAIN, the admin listener's HTTP
// Basic): one set of users serves every mechanism.
struct PasswordCredential {
  ScramHash hash;
  ScramKeys keys;
};
// The strongest credential stored for `user`, if any.
std::optional<PasswordCredential> credential_for_password(const cluster::ClusterMetadata& metadata,
                                                          const std::string& user);
// Whether `password` is the one `credential` was made from. For an unknown user (nullopt) it does the same work
// and answers false, so that the time taken does not tell which users exist.
bool password_matches(const std::optional<PasswordCredential>& credential, std::string_view password);

// The SCRAM keys stored for `user` and `hash`, if any.
std::optional<ScramKeys> stored_scram_keys(const cluster::ClusterMetadata& metadata, const std::string& user,
                                           ScramHash hash);

}  // namespace fjord::server::security
