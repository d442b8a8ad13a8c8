#include "server/security/sasl_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace fjord::server::security {
namespace {

TokenOutcome failed(std::string user, std::string log_reason, const std::string& mechanism) {
  TokenOutcome outcome;
  outcome.error = ErrorCode::kSaslAuthenticationFailed;
  outcome.error_message =
      "Authentication failed during authentication due to invalid credentials with SASL mechanism " + mechanism;
  outcome.user = std::move(user);
  outcome.log_reason = std::move(log_reason);
  return outcome;
}

// PLAIN (RFC 4616): [authzid] NUL authcid NUL password.
TokenOutcome take_plain(Session& session, std::string_view token, const cluster::ClusterMetadata& metadata) {
  auto first = token.find('\0');
  auto second = first == std::string_view::npos ? first : token.find('\0', first + 1);
  if (second == std::string_view::npos || token.find('\0', second + 1) != std::string_view::npos) {
    return failed("", "malformed PLAIN token", "PLAIN");
  }
  const std::string authzid(token.substr(0, first));
  const std::string user(token.substr(first + 1, second - first - 1));
  const auto password = token.substr(second + 1);
  if (user.empty()) return failed("", "PLAIN token without a user name", "PLAIN");
  // Naming someone else as the authorization id would act as them: only one's own name is accepted.
  if (!authzid.empty() && authzid != user) {
    return failed(user, "PLAIN authorization id names another user", "PLAIN");
  }
  // The password is checked against the user's SCRAM credential, so that one set of users serves both.
  const auto credential = credential_for_password(metadata, user);
  if (!password_matches(credential, password)) {
    return failed(user, credential ? "wrong password" : "unknown user", "PLAIN");
  }
  (void)session;
  TokenOutcome outcome;
  outcome.complete = true;
  outcome.user = user;
  return outcome;
}

}  // namespace

void report_authentication(ServerProbe& probe, const Session& session, const TokenOutcome& outcome,
                           const std::string& peer) {
  const std::string listener = session.listener ? session.listener->name : "";
  const std::string mechanism = session.mechanism.empty() ? "none" : session.mechanism;
  if (outcome.error != ErrorCode::kNone) {
    probe.authentications(listener, mechanism, false).Increment();
    spdlog::warn("failed authentication of {} from {} with {} on listener {}: {}",
                 outcome.user.empty() ? "(no user)" : "user " + outcome.user, peer, mechanism, listener,
                 outcome.log_reason);
  } else if (outcome.complete) {
    probe.authentications(listener, mechanism, true).Increment();
    spdlog::debug("{} authenticated from {} with {} on listener {}", outcome.user, peer, mechanism, listener);
  }
}

std::optional<PasswordCredential> credential_for_password(const cluster::ClusterMetadata& metadata,
                                                          const std::string& user) {
  for (auto hash : {ScramHash::kSha512, ScramHash::kSha256}) {
    if (auto keys = stored_scram_keys(metadata, user, hash)) return PasswordCredential{hash, std::move(*keys)};
  }
  return std::nullopt;
}

bool password_matches(const std::optional<PasswordCredential>& credential, std::string_view password) {
  if (credential) return scram_password_matches(credential->hash, password, credential->keys);
  // The same work as for a known user, so that the time taken does not tell which users exist.
  static const ScramKeys decoy = scram_keys_from_salted_password(
      ScramHash::kSha512, scram_salted_password(ScramHash::kSha512, random_bytes(16), random_bytes(16), 8192),
      random_bytes(32), 8192);
  scram_password_matches(ScramHash::kSha512, password, decoy);
  return false;
}

std::optional<ScramKeys> stored_scram_keys(const cluster::ClusterMetadata& metadata, const std::string& user,
                                           ScramHash hash) {
  auto it = metadata.scram_credentials.find(user);
  if (it == metadata.scram_credentials.end()) return std::nullopt;
  auto credential = it->second.find(std::string(scram_mechanism_name(hash)));
  if (credential == it->second.end()) return std::nullopt;
  const auto& c = credential->second;
  return ScramKeys{c.salt, c.iterations, c.stored_key, c.server_key};
}

std::optional<ErrorCode> choose_mechanism(Session& session, const std::string& mechanism) {
  if (!session.listener || !uses_sasl(session.listener->protocol)) return ErrorCode::kIllegalSaslState;
  if (!session.mechanism.empty() && !session.authenticated) return ErrorCode::kIllegalSaslState;
  const auto& enabled = session.listener->sasl_mechanisms;
  if (std::find(enabled.begin(), enabled.end(), mechanism) == enabled.end()) {
    return ErrorCode::kUnsupportedSaslMechanism;
  }
  session.reauthenticating = session.authenticated;
  session.mechanism = mechanism;
  session.scram.reset();
  return std::nullopt;
}

TokenOutcome take_token(Session& session, std::string_view token, const cluster::ClusterMetadata& metadata,
                        int64_t now_ms) {
  // Every exchange, re-authentication included (KIP-368), starts with a SaslHandshake.
  if (session.mechanism.empty() || (session.authenticated && !session.reauthenticating)) {
    TokenOutcome outcome;
    outcome.error = ErrorCode::kIllegalSaslState;
    outcome.error_message = "SaslAuthenticate without a SaslHandshake before it";
    outcome.log_reason = outcome.error_message;
    return outcome;
  }
  TokenOutcome outcome;
  if (session.mechanism == "PLAIN") {
    outcome = take_plain(session, token, metadata);
  } else if (auto hash = scram_hash_by_name(session.mechanism)) {
    if (!session.scram) {
      // The lookup runs during this call only (the exchange drops it after its first step), while `metadata` is
      // certainly alive.
      session.scram = std::make_unique<ScramServerExchange>(*hash, [&metadata, hash = *hash](const std::string& user) {
        return stored_scram_keys(metadata, user, hash);
      });
    }
    auto step = session.scram->next(token);
    if (step.error) {
      const std::string user = session.scram->user();
      session.scram.reset();
      return failed(user, *step.error, session.mechanism);
    }
    outcome.response = std::move(step.response);
    outcome.complete = step.complete;
    outcome.user = session.scram->user();
    if (step.complete) session.scram.reset();
  } else {
    return failed("", "mechanism not served", session.mechanism);
  }
  if (outcome.error != ErrorCode::kNone || !outcome.complete) return outcome;
  const std::string principal = "User:" + outcome.user;
  if (session.authenticated && principal != session.principal) {
    // KIP-368: a connection keeps its principal; authenticating again as someone else ends it.
    return failed(outcome.user, "re-authentication as a different user (" + session.principal + ")", session.mechanism);
  }
  session.authenticated = true;
  session.reauthenticating = false;
  session.principal = principal;
  session.expires_at_ms = session.listener->max_reauth_ms > 0 ? now_ms + session.listener->max_reauth_ms : 0;
  return outcome;
}

}  // namespace fjord::server::security
