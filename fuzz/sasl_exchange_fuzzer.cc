// Any bytes as the SASL tokens of one connection, before authentication: the first byte picks the mechanism, the
// rest is split at 0xff bytes into the client's tokens. Each must be answered or refused without crashing, and
// only the user's own password may authenticate.
#include <cstdint>
#include <string>
#include <string_view>

#include "server/security/sasl_server.h"

namespace {

using namespace fjord::server::security;

const fjord::cluster::ClusterMetadata& metadata() {
  static const fjord::cluster::ClusterMetadata m = [] {
    fjord::cluster::ClusterMetadata out;
    for (auto hash : {ScramHash::kSha256, ScramHash::kSha512}) {
      const std::string salt = "fuzz-salt";
      auto keys = scram_keys_from_salted_password(hash, scram_salted_password(hash, "pw", salt, 4096), salt, 4096);
      out.scram_credentials["u"][std::string(scram_mechanism_name(hash))] = {keys.salt, keys.iterations,
                                                                             keys.stored_key, keys.server_key};
    }
    return out;
  }();
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const ListenerSecurity listener = [] {
    ListenerSecurity l;
    l.protocol = SecurityProtocol::kSaslPlaintext;
    l.sasl_mechanisms = supported_sasl_mechanisms();
    return l;
  }();
  Session session{&listener};
  const auto& mechanisms = supported_sasl_mechanisms();
  if (choose_mechanism(session, mechanisms[data[0] % mechanisms.size()])) __builtin_trap();
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  while (!rest.empty()) {
    auto end = rest.find('\xff');
    auto token = rest.substr(0, end);
    auto outcome = take_token(session, token, metadata(), 0);
    if (outcome.error != fjord::ErrorCode::kNone) break;
    // PLAIN can only succeed with the password; a SCRAM proof cannot be guessed by a fuzzer.
    if (outcome.complete && (session.mechanism != "PLAIN" || !token.ends_with(std::string_view("\0pw", 3)))) {
      __builtin_trap();
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return 0;
}
