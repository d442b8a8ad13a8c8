// SCRAM (RFC 5802, with the SHA-256 and SHA-512 hashes of RFC 7677) as Kafka uses it for SASL: the credential a
// broker keeps for a user, and the server's side of one authentication exchange.
//
// The broker never stores a password, nor the salted password a client sends to set one: only StoredKey (which
// checks a client's proof) and ServerKey (which proves the broker knows the credential), with the salt and the
// iteration count the client needs to compute its proof.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fjord::server::security {

enum class ScramHash { kSha256, kSha512 };

// "SCRAM-SHA-256" / "SCRAM-SHA-512", and Kafka's wire numbers for them (AlterUserScramCredentials: 1 and 2).
std::optional<ScramHash> scram_hash_by_name(std::string_view mechanism);
std::optional<ScramHash> scram_hash_by_wire(int8_t mechanism);
std::string_view scram_mechanism_name(ScramHash hash);
int8_t scram_wire_number(ScramHash hash);

// Kafka's bounds on a credential's iteration count.
constexpr int32_t kMinScramIterations = 4096;
constexpr int32_t kMaxScramIterations = 16384;

struct ScramKeys {
  std::string salt;
  int32_t iterations = 0;
  std::string stored_key;
  std::string server_key;
};

// Hi(password, salt, iterations): PBKDF2 with the hash's HMAC. What a client sends in AlterUserScramCredentials.
std::string scram_salted_password(ScramHash hash, std::string_view password, std::string_view salt, int32_t iterations);
// The keys kept for a salted password.
ScramKeys scram_keys_from_salted_password(ScramHash hash, std::string_view salted_password, std::string salt,
                                          int32_t iterations);
// Whether `password` is the one `keys` were made from (SASL/PLAIN checks passwords against the SCRAM credentials).
bool scram_password_matches(ScramHash hash, std::string_view password, const ScramKeys& keys);

std::string random_bytes(size_t count);
// Compares in time that depends only on the lengths, so that a mismatch's position is not measurable.
bool equal_in_constant_time(std::string_view a, std::string_view b);

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

// The server's side of one exchange: client-first → server-first, client-final → server-final. Any malformed or
// failed step ends the exchange; the error says why without repeating what the client sent.
class ScramServerExchange {
 public:
  using CredentialLookup = std::function<std::optional<ScramKeys>(const std::string& user)>;

  // `lookup` is called during the first step only, and dropped after it. `nonce_suffix` makes the server's part of the
  // nonce (random by default; a test fixes it to replay a published exchange).
  ScramServerExchange(ScramHash hash, CredentialLookup lookup, std::function<std::string()> nonce_suffix = {});

  struct Step {
    std::string response;              // to send back (empty on error)
    std::optional<std::string> error;  // authentication failed or the message was malformed
    bool complete = false;             // the client is authenticated
  };
  Step next(std::string_view client_message);
  // The authenticated user (valid once complete).
  const std::string& user() const { return user_; }

 private:
  Step on_client_first(std::string_view message);
  Step on_client_final(std::string_view message);

  enum class State { kExpectClientFirst, kExpectClientFinal, kDone };
  ScramHash hash_;
  CredentialLookup lookup_;
  State state_ = State::kExpectClientFirst;
  std::string user_;
  std::optional<ScramKeys> keys_;  // nullopt: unknown user, failed at the final step so that names do not leak
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  std::string gs2_header_;
  std::function<std::string()> nonce_suffix_;
};

// The client's side of one exchange, for Fjord's own clients (and the tests that play a client).
class ScramClientExchange {
 public:
  ScramClientExchange(ScramHash hash, std::string user, std::string password, std::string nonce = {});
  std::string first_message() const;
  // The client-final message for the server's first, or nullopt when that does not continue this exchange (an
  // unknown nonce, an iteration count below Kafka's minimum, a malformed message).
  std::optional<std::string> final_message(std::string_view server_first);
  // Whether the server proved it knows the credential.
  bool verify_server_final(std::string_view server_final) const;

 private:
  ScramHash hash_;
  std::string user_;
  std::string password_;
  std::string nonce_;
  std::string auth_message_;
  std::string salted_password_;
};

}  // namespace fjord::server::security
