#include "server/security/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace fjord::server::security {
namespace {

const EVP_MD* digest(ScramHash hash) { return hash == ScramHash::kSha256 ? EVP_sha256() : EVP_sha512(); }

std::string hmac(ScramHash hash, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(digest(hash), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &length)) {
    throw std::runtime_error("HMAC failed");
  }
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string hash_of(ScramHash hash, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!EVP_Digest(data.data(), data.size(), out, &length, digest(hash), nullptr)) {
    throw std::runtime_error("digest failed");
  }
  return std::string(reinterpret_cast<char*>(out), length);
}

// The attributes of a SCRAM message ("n=user,r=nonce,..."), in order; nullopt when malformed.
std::optional<std::vector<std::pair<char, std::string_view>>> attributes(std::string_view message) {
  std::vector<std::pair<char, std::string_view>> out;
  while (true) {
    auto comma = message.find(',');
    auto part = message.substr(0, comma);
    if (part.size() < 2 || part[1] != '=') return std::nullopt;
    out.emplace_back(part[0], part.substr(2));
    if (comma == std::string_view::npos) return out;
    message.remove_prefix(comma + 1);
  }
}

// saslname: "=2C" stands for ',' and "=3D" for '='; any other '=' is malformed.
std::optional<std::string> decode_sasl_name(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '=') {
      out.push_back(name[i]);
      continue;
    }
    auto escape = name.substr(i + 1, 2);
    if (escape == "2C") {
      out.push_back(',');
    } else if (escape == "3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

// A key that makes an unknown user's exchange look like a known one's until its last step.
const std::string& decoy_secret() {
  static const std::string secret = random_bytes(32);
  return secret;
}

ScramServerExchange::Step failure(std::string reason) {
  ScramServerExchange::Step step;
  step.error = std::move(reason);
  return step;
}

}  // namespace

std::optional<ScramHash> scram_hash_by_name(std::string_view mechanism) {
  if (mechanism == "SCRAM-SHA-256") return ScramHash::kSha256;
  if (mechanism == "SCRAM-SHA-512") return ScramHash::kSha512;
  return std::nullopt;
}

std::optional<ScramHash> scram_hash_by_wire(int8_t mechanism) {
  if (mechanism == 1) return ScramHash::kSha256;
  if (mechanism == 2) return ScramHash::kSha512;
  return std::nullopt;
}

std::string_view scram_mechanism_name(ScramHash hash) {
  return hash == ScramHash::kSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";
}

int8_t scram_wire_number(ScramHash hash) { return hash == ScramHash::kSha256 ? 1 : 2; }

std::string scram_salted_password(ScramHash hash, std::string_view password, std::string_view salt,
                                  int32_t iterations) {
  std::string out(static_cast<size_t>(EVP_MD_get_size(digest(hash))), '\0');
  if (!PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                         reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                         digest(hash), static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()))) {
    throw std::runtime_error("PBKDF2 failed");
  }
  return out;
}

ScramKeys scram_keys_from_salted_password(ScramHash hash, std::string_view salted_password, std::string salt,
                                          int32_t iterations) {
  ScramKeys keys;
  keys.salt = std::move(salt);
  keys.iterations = iterations;
  keys.stored_key = hash_of(hash, hmac(hash, salted_password, "Client Key"));
  keys.server_key = hmac(hash, salted_password, "Server Key");
  return keys;
}

bool scram_password_matches(ScramHash hash, std::string_view password, const ScramKeys& keys) {
  auto salted = scram_salted_password(hash, password, keys.salt, keys.iterations);
  auto computed = scram_keys_from_salted_password(hash, salted, keys.salt, keys.iterations);
  return equal_in_constant_time(computed.stored_key, keys.stored_key);
}

std::string random_bytes(size_t count) {
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("no random bytes");
  }
  return out;
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

ScramServerExchange::ScramServerExchange(ScramHash hash, CredentialLookup lookup,
                                         std::function<std::string()> nonce_suffix)
    : hash_(hash), lookup_(std::move(lookup)), nonce_suffix_(std::move(nonce_suffix)) {}

ScramServerExchange::Step ScramServerExchange::next(std::string_view client_message) {
  switch (state_) {
    case State::kExpectClientFirst: {
      auto step = on_client_first(client_message);
      state_ = step.error ? State::kDone : State::kExpectClientFinal;
      return step;
    }
    case State::kExpectClientFinal: {
      auto step = on_client_final(client_message);
      state_ = State::kDone;
      return step;
    }
    case State::kDone:
      break;
  }
  return failure("the SCRAM exchange has already ended");
}

ScramServerExchange::Step ScramServerExchange::on_client_first(std::string_view message) {
  // gs2-header: a channel-binding flag ("n": none, "y": the client could but thinks we cannot), an optional
  // authorization id, then the bare message.
  if (message.size() < 3 || (message[0] != 'n' && message[0] != 'y') || message[1] != ',') {
    return failure("malformed SCRAM client-first message (channel binding is not supported)");
  }
  auto second_comma = message.find(',', 2);
  if (second_comma == std::string_view::npos) return failure("malformed SCRAM client-first message");
  auto authzid = message.substr(2, second_comma - 2);
  gs2_header_ = std::string(message.substr(0, second_comma + 1));
  client_first_bare_ = std::string(message.substr(second_comma + 1));
  auto parts = attributes(client_first_bare_);
  if (!parts || parts->size() < 2 || (*parts)[0].first != 'n' || (*parts)[1].first != 'r' ||
      (*parts)[1].second.empty()) {
    return failure("malformed SCRAM client-first message");
  }
  auto user = decode_sasl_name((*parts)[0].second);
  if (!user || user->empty()) return failure("malformed SCRAM user name");
  for (size_t i = 2; i < parts->size(); ++i) {
    // Kafka's one extension asks for delegation-token authentication, which Fjord does not issue.
    if ((*parts)[i].first == 't' || (*parts)[i].first == 'm') return failure("SCRAM extensions are not supported");
  }
  if (!authzid.empty()) {
    // An authorization id may only repeat the user's own name: acting as another user is not offered.
    auto name = authzid.substr(0, 2) == "a=" ? decode_sasl_name(authzid.substr(2)) : std::nullopt;
    if (!name || *name != *user) return failure("the authorization id must be the authenticated user");
  }
  user_ = *user;
  keys_ = lookup_(user_);
  lookup_ = nullptr;  // what it refers to need not outlive this step
  ScramKeys shown;
  if (keys_) {
    shown = *keys_;
  } else {
    // Shaped like the credentials Fjord's tools make: a 32-byte salt, 8,192 iterations.
    shown.salt = hmac(hash_, decoy_secret(), user_).substr(0, 32);
    shown.iterations = 8192;
  }
  nonce_ = std::string((*parts)[1].second) + (nonce_suffix_ ? nonce_suffix_() : base64_encode(random_bytes(18)));
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(shown.salt) + ",i=" + std::to_string(shown.iterations);
  Step step;
  step.response = server_first_;
  return step;
}

ScramServerExchange::Step ScramServerExchange::on_client_final(std::string_view message) {
  auto proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return failure("malformed SCRAM client-final message");
  auto without_proof = message.substr(0, proof_at);
  auto parts = attributes(without_proof);
  if (!parts || parts->size() < 2 || (*parts)[0].first != 'c' || (*parts)[1].first != 'r') {
    return failure("malformed SCRAM client-final message");
  }
  if (base64_decode((*parts)[0].second) != gs2_header_) return failure("SCRAM channel binding does not match");
  // The nonce must end with the whole nonce this exchange sent: librdkafka repeats its own part in front of it, and
  // Kafka accepts that, so Fjord does too. The server's fresh part is in it either way.
  if (!(*parts)[1].second.ends_with(nonce_)) return failure("SCRAM nonce does not match");
  auto proof = base64_decode(message.substr(proof_at + 3));
  if (!proof) return failure("malformed SCRAM proof");
  if (!keys_) return failure("invalid credentials");
  const std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string client_signature = hmac(hash_, keys_->stored_key, auth_message);
  if (proof->size() != client_signature.size()) return failure("invalid credentials");
  std::string client_key(proof->size(), '\0');
  for (size_t i = 0; i < client_key.size(); ++i) client_key[i] = static_cast<char>((*proof)[i] ^ client_signature[i]);
  if (!equal_in_constant_time(hash_of(hash_, client_key), keys_->stored_key)) return failure("invalid credentials");
  Step step;
  step.response = "v=" + base64_encode(hmac(hash_, keys_->server_key, auth_message));
  step.complete = true;
  return step;
}

namespace {

std::string encode_sasl_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

ScramClientExchange::ScramClientExchange(ScramHash hash, std::string user, std::string password, std::string nonce)
    : hash_(hash),
      user_(std::move(user)),
      password_(std::move(password)),
      nonce_(nonce.empty() ? base64_encode(random_bytes(18)) : std::move(nonce)) {}

std::string ScramClientExchange::first_message() const { return "n,,n=" + encode_sasl_name(user_) + ",r=" + nonce_; }

std::optional<std::string> ScramClientExchange::final_message(std::string_view server_first) {
  auto parts = attributes(server_first);
  if (!parts || parts->size() < 3 || (*parts)[0].first != 'r' || (*parts)[1].first != 's' || (*parts)[2].first != 'i') {
    return std::nullopt;
  }
  const std::string nonce((*parts)[0].second);
  if (nonce.size() <= nonce_.size() || nonce.compare(0, nonce_.size(), nonce_) != 0) return std::nullopt;
  auto salt = base64_decode((*parts)[1].second);
  int32_t iterations = 0;
  try {
    iterations = std::stoi(std::string((*parts)[2].second));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!salt || iterations < kMinScramIterations) return std::nullopt;
  salted_password_ = scram_salted_password(hash_, password_, *salt, iterations);
  const std::string without_proof = "c=biws,r=" + nonce;
  auth_message_ = first_message().substr(3) + "," + std::string(server_first) + "," + without_proof;
  const std::string client_key = hmac(hash_, salted_password_, "Client Key");
  const std::string signature = hmac(hash_, hash_of(hash_, client_key), auth_message_);
  std::string proof(client_key.size(), '\0');
  for (size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  return without_proof + ",p=" + base64_encode(proof);
}

bool ScramClientExchange::verify_server_final(std::string_view server_final) const {
  if (auth_message_.empty() || server_final.substr(0, 2) != "v=") return false;
  const std::string expected = hmac(hash_, hmac(hash_, salted_password_, "Server Key"), auth_message_);
  auto shown = base64_decode(server_final.substr(2));
  return shown && equal_in_constant_time(*shown, expected);
}

}  // namespace fjord::server::security
