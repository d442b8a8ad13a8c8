// SCRAM, PLAIN, TLS sessions and listener settings, without a network: the exchanges run in memory.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "server/security/listener_config.h"
#include "server/security/sasl_server.h"
#include "server/security/scram.h"
#include "server/security/tls.h"
#include "tests/support/test_certificates.h"

namespace fjord::server::security {
namespace {

cluster::ScramCredential credential_for(ScramHash hash, const std::string& password) {
  const std::string salt = random_bytes(16);
  auto keys = scram_keys_from_salted_password(hash, scram_salted_password(hash, password, salt, 4096), salt, 4096);
  return {keys.salt, keys.iterations, keys.stored_key, keys.server_key};
}

cluster::ClusterMetadata metadata_with_user(const std::string& user, const std::string& password) {
  cluster::ClusterMetadata metadata;
  for (auto hash : {ScramHash::kSha256, ScramHash::kSha512}) {
    metadata.scram_credentials[user][std::string(scram_mechanism_name(hash))] = credential_for(hash, password);
  }
  return metadata;
}

ListenerSecurity sasl_listener(std::vector<std::string> mechanisms) {
  ListenerSecurity listener;
  listener.name = "SASL_PLAINTEXT";
  listener.protocol = SecurityProtocol::kSaslPlaintext;
  listener.sasl_mechanisms = std::move(mechanisms);
  return listener;
}

// Runs a whole SCRAM exchange through take_token as a client would; returns the last outcome.
TokenOutcome scram_login(Session& session, const cluster::ClusterMetadata& metadata, ScramHash hash,
                         const std::string& user, const std::string& password) {
  EXPECT_FALSE(choose_mechanism(session, std::string(scram_mechanism_name(hash))));
  ScramClientExchange client(hash, user, password);
  auto first = take_token(session, client.first_message(), metadata, 0);
  if (first.error != ErrorCode::kNone) return first;
  auto final_message = client.final_message(first.response);
  EXPECT_TRUE(final_message);
  auto last = take_token(session, *final_message, metadata, 0);
  if (last.complete) {
    EXPECT_TRUE(client.verify_server_final(last.response));
  }
  return last;
}

TEST(Scram, ReplaysThePublishedSha256Exchange) {
  // RFC 7677, section 3: user "user", password "pencil".
  const auto salt = *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  auto keys = scram_keys_from_salted_password(
      ScramHash::kSha256, scram_salted_password(ScramHash::kSha256, "pencil", salt, 4096), salt, 4096);
  ScramServerExchange server(
      ScramHash::kSha256, [&](const std::string& user) { return user == "user" ? std::optional(keys) : std::nullopt; },
      [] { return std::string("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"); });
  auto first = server.next("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_FALSE(first.error);
  EXPECT_EQ(first.response, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  auto last = server.next(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  ASSERT_FALSE(last.error) << *last.error;
  EXPECT_TRUE(last.complete);
  EXPECT_EQ(last.response, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_EQ(server.user(), "user");
}

TEST(Scram, ClientAndServerAgreeWithEitherHashAndOnlyWithThePassword) {
  const auto metadata = metadata_with_user("alice", "s3cret");
  const auto listener = sasl_listener({"SCRAM-SHA-256", "SCRAM-SHA-512"});
  for (auto hash : {ScramHash::kSha256, ScramHash::kSha512}) {
    Session good{&listener};
    auto outcome = scram_login(good, metadata, hash, "alice", "s3cret");
    EXPECT_TRUE(outcome.complete);
    EXPECT_TRUE(good.authenticated);
    EXPECT_EQ(good.principal, "User:alice");

    Session wrong{&listener};
    outcome = scram_login(wrong, metadata, hash, "alice", "s3cret!");
    EXPECT_EQ(outcome.error, ErrorCode::kSaslAuthenticationFailed);
    EXPECT_FALSE(wrong.authenticated);
    EXPECT_EQ(wrong.principal, kAnonymousPrincipal);
    EXPECT_EQ(outcome.error_message.find("s3cret"), std::string::npos);
  }
}

TEST(Scram, AnUnknownUserLooksLikeAKnownOneUntilTheLastStep) {
  const auto metadata = metadata_with_user("alice", "s3cret");
  const auto listener = sasl_listener({"SCRAM-SHA-512"});
  Session session{&listener};
  ASSERT_FALSE(choose_mechanism(session, "SCRAM-SHA-512"));
  ScramClientExchange client(ScramHash::kSha512, "mallory", "guess");
  auto first = take_token(session, client.first_message(), metadata, 0);
  ASSERT_EQ(first.error, ErrorCode::kNone);
  // Shaped like a credential `fjord user create` makes: 8,192 iterations, a 32-byte salt.
  EXPECT_NE(first.response.find(",i=8192"), std::string::npos) << first.response;
  const auto salt_at = first.response.find(",s=") + 3;
  EXPECT_EQ(base64_decode(first.response.substr(salt_at, first.response.find(",i=") - salt_at))->size(), 32u);
  auto final_message = client.final_message(first.response);
  ASSERT_TRUE(final_message);
  auto last = take_token(session, *final_message, metadata, 0);
  EXPECT_EQ(last.error, ErrorCode::kSaslAuthenticationFailed);
  EXPECT_EQ(last.user, "mallory");
}

TEST(Scram, RefusesAnotherUsersAuthorizationIdAndChannelBinding) {
  const auto metadata = metadata_with_user("alice", "s3cret");
  const auto listener = sasl_listener({"SCRAM-SHA-256"});
  for (const std::string message : {"n,a=admin,n=alice,r=abc", "p=tls-unique,,n=alice,r=abc", "n,,r=abc", "n,,n=alice",
                                    "n,,n=al=ice,r=abc", "garbage"}) {
    Session session{&listener};
    ASSERT_FALSE(choose_mechanism(session, "SCRAM-SHA-256"));
    auto outcome = take_token(session, message, metadata, 0);
    EXPECT_EQ(outcome.error, ErrorCode::kSaslAuthenticationFailed) << message;
  }
  Session own{&listener};
  ASSERT_FALSE(choose_mechanism(own, "SCRAM-SHA-256"));
  EXPECT_EQ(take_token(own, "n,a=alice,n=alice,r=abc", metadata, 0).error, ErrorCode::kNone);
}

TEST(Scram, AcceptsTheClientNonceRepeatedInFrontOfTheWholeNonceAsLibrdkafkaSendsIt) {
  const auto metadata = metadata_with_user("alice", "s3cret");
  const auto salt = metadata.scram_credentials.at("alice").at("SCRAM-SHA-256").salt;
  ScramServerExchange server(ScramHash::kSha256, [&](const std::string&) {
    const auto& c = metadata.scram_credentials.at("alice").at("SCRAM-SHA-256");
    return std::optional(ScramKeys{c.salt, c.iterations, c.stored_key, c.server_key});
  });
  auto first = server.next("n,,n=alice,r=clientnonce");
  ASSERT_FALSE(first.error);
  const std::string nonce = first.response.substr(2, first.response.find(',') - 2);
  // The proof over this client-final-message-without-proof, as a client computes it.
  const std::string without_proof = "c=biws,r=clientnonce" + nonce;
  const std::string auth_message = "n=alice,r=clientnonce," + first.response + "," + without_proof;
  const std::string salted = scram_salted_password(ScramHash::kSha256, "s3cret", salt, 4096);
  // The proof, computed by hand over the longer nonce.
  auto keys = scram_keys_from_salted_password(ScramHash::kSha256, salted, salt, 4096);
  unsigned char signature[64];
  unsigned int length = 0;
  HMAC(EVP_sha256(), keys.stored_key.data(), static_cast<int>(keys.stored_key.size()),
       reinterpret_cast<const unsigned char*>(auth_message.data()), auth_message.size(), signature, &length);
  unsigned char client_key[64];
  unsigned int key_length = 0;
  HMAC(EVP_sha256(), salted.data(), static_cast<int>(salted.size()),
       reinterpret_cast<const unsigned char*>("Client Key"), 10, client_key, &key_length);
  std::string proof(length, '\0');
  for (unsigned int i = 0; i < length; ++i) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  auto last = server.next(without_proof + ",p=" + base64_encode(proof));
  EXPECT_FALSE(last.error) << *last.error;
  EXPECT_TRUE(last.complete);
}

TEST(Scram, AProofForAnotherNonceFails) {
  const auto metadata = metadata_with_user("alice", "s3cret");
  const auto listener = sasl_listener({"SCRAM-SHA-256"});
  Session session{&listener};
  ASSERT_FALSE(choose_mechanism(session, "SCRAM-SHA-256"));
  ScramClientExchange client(ScramHash::kSha256, "alice", "s3cret");
  auto first = take_token(session, client.first_message(), metadata, 0);
  auto final_message = *client.final_message(first.response);
  // Replayed against a second exchange (a new server nonce), the same final message must not authenticate.
  Session replay{&listener};
  ASSERT_FALSE(choose_mechanism(replay, "SCRAM-SHA-256"));
  ASSERT_EQ(take_token(replay, client.first_message(), metadata, 0).error, ErrorCode::kNone);
  EXPECT_EQ(take_token(replay, final_message, metadata, 0).error, ErrorCode::kSaslAuthenticationFailed);
}

TEST(SaslPlain, ChecksThePasswordAgainstTheScramCredentialAndRefusesImpersonation) {
  const auto metadata = metadata_with_user("alice", "s3cret");
  const auto listener = sasl_listener({"PLAIN"});
  auto login = [&](const std::string& token) {
    Session session{&listener};
    EXPECT_FALSE(choose_mechanism(session, "PLAIN"));
    auto outcome = take_token(session, token, metadata, 0);
    return std::make_pair(outcome, session.principal);
  };
  using namespace std::string_literals;
  auto [ok, principal] = login("\0alice\0s3cret"s);
  EXPECT_TRUE(ok.complete);
  EXPECT_EQ(principal, "User:alice");
  EXPECT_TRUE(login("alice\0alice\0s3cret"s).first.complete);
  EXPECT_EQ(login("admin\0alice\0s3cret"s).first.error, ErrorCode::kSaslAuthenticationFailed);
  EXPECT_EQ(login("\0alice\0wrong"s).first.error, ErrorCode::kSaslAuthenticationFailed);
  EXPECT_EQ(login("\0bob\0s3cret"s).first.error, ErrorCode::kSaslAuthenticationFailed);
  EXPECT_EQ(login("\0alice\0s3cret\0extra"s).first.error, ErrorCode::kSaslAuthenticationFailed);
  EXPECT_EQ(login("alice"s).first.error, ErrorCode::kSaslAuthenticationFailed);
}

TEST(SaslSession, MechanismsAreTheListenersAndReauthenticationKeepsThePrincipal) {
  auto metadata = metadata_with_user("alice", "s3cret");
  metadata.scram_credentials["bob"] = metadata.scram_credentials["alice"];
  const auto listener = sasl_listener({"SCRAM-SHA-512"});
  Session session{&listener};
  EXPECT_EQ(choose_mechanism(session, "PLAIN"), ErrorCode::kUnsupportedSaslMechanism);
  EXPECT_EQ(take_token(session, "n,,n=alice,r=x", metadata, 0).error, ErrorCode::kIllegalSaslState);
  ASSERT_TRUE(scram_login(session, metadata, ScramHash::kSha512, "alice", "s3cret").complete);
  // KIP-368: the same user again is fine; another user ends the connection.
  EXPECT_TRUE(scram_login(session, metadata, ScramHash::kSha512, "alice", "s3cret").complete);
  EXPECT_EQ(scram_login(session, metadata, ScramHash::kSha512, "bob", "s3cret").error,
            ErrorCode::kSaslAuthenticationFailed);
  EXPECT_EQ(session.principal, "User:alice");

  ListenerSecurity plaintext;
  Session unsecured{&plaintext};
  EXPECT_EQ(choose_mechanism(unsecured, "SCRAM-SHA-512"), ErrorCode::kIllegalSaslState);
}

TEST(SaslSession, AnAuthenticatedConnectionCannotStartAnExchangeWithoutAHandshake) {
  auto metadata = metadata_with_user("alice", "s3cret");
  metadata.scram_credentials["bob"] = metadata.scram_credentials["alice"];
  const auto listener = sasl_listener({"PLAIN"});
  Session session{&listener};
  ASSERT_FALSE(choose_mechanism(session, "PLAIN"));
  using namespace std::string_literals;
  ASSERT_TRUE(take_token(session, "\0alice\0s3cret"s, metadata, 0).complete);
  // Straight to SaslAuthenticate as someone else: refused, and the principal stays.
  EXPECT_EQ(take_token(session, "\0bob\0s3cret"s, metadata, 0).error, ErrorCode::kIllegalSaslState);
  EXPECT_EQ(session.principal, "User:alice");
  ASSERT_FALSE(choose_mechanism(session, "PLAIN"));
  EXPECT_EQ(take_token(session, "\0bob\0s3cret"s, metadata, 0).error, ErrorCode::kSaslAuthenticationFailed);
  EXPECT_EQ(session.principal, "User:alice");
}

TEST(SaslSession, AnAuthenticationExpiresAfterConnectionsMaxReauthMs) {
  const auto metadata = metadata_with_user("alice", "s3cret");
  auto listener = sasl_listener({"PLAIN"});
  listener.max_reauth_ms = 1000;
  Session session{&listener};
  ASSERT_FALSE(choose_mechanism(session, "PLAIN"));
  using namespace std::string_literals;
  ASSERT_TRUE(take_token(session, "\0alice\0s3cret"s, metadata, 5000).complete);
  EXPECT_EQ(session.expires_at_ms, 6000);
}

TEST(Base64, RoundTripsAndRefusesWhatIsNotBase64) {
  for (std::string bytes :
       {std::string(), std::string("a"), std::string("ab"), std::string("abc"), std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  }
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!d"));
}

// A client and a server session joined in memory: what one produces, the other receives.
struct TlsPair {
  TlsSession client;
  TlsSession server;
  std::vector<uint8_t> to_client, to_server;
  std::optional<std::string> client_error, server_error;

  TlsPair(std::shared_ptr<TlsContext> client_context, std::shared_ptr<TlsContext> server_context)
      : client(client_context->current(), false, "localhost"), server(server_context->current(), true) {}

  // Moves bytes both ways until neither side has more to say; what each decrypted goes to its `received`.
  void pump(std::vector<uint8_t>& client_received, std::vector<uint8_t>& server_received) {
    for (int round = 0; round < 20 && !client_error && !server_error; ++round) {
      std::vector<uint8_t> a, b;
      client.take_output(a);
      server.take_output(b);
      if (a.empty() && b.empty()) return;
      if (!a.empty()) server_error = server.receive(a, server_received);
      if (!b.empty() && !server_error) client_error = client.receive(b, client_received);
    }
  }
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fjord::testing::TestCertificateAuthority::openssl_available()) GTEST_SKIP() << "no openssl command";
    ca_ = std::make_unique<fjord::testing::TestCertificateAuthority>();
    auto server = ca_->server();
    keystore_ = ca_->directory() + "/server-keystore.pem";
    std::ofstream(keystore_) << std::ifstream(server.key).rdbuf() << std::ifstream(server.certificate).rdbuf();
  }
  std::shared_ptr<TlsContext> server_context(ClientAuth auth = ClientAuth::kNone) {
    TlsSettings settings;
    settings.keystore_location = keystore_;
    settings.truststore_location = ca_->ca_file();
    settings.client_auth = auth;
    return TlsContext::server(settings);
  }
  std::shared_ptr<TlsContext> client_context(const std::string& common_name = "", bool trust = true) {
    TlsSettings settings;
    if (trust) settings.truststore_location = ca_->ca_file();
    if (!common_name.empty()) {
      auto files = ca_->client(common_name);
      settings.keystore_location = ca_->directory() + "/" + common_name + "-keystore.pem";
      std::ofstream(settings.keystore_location)
          << std::ifstream(files.key).rdbuf() << std::ifstream(files.certificate).rdbuf();
    }
    return TlsContext::client(settings);
  }

  std::unique_ptr<fjord::testing::TestCertificateAuthority> ca_;
  std::string keystore_;
};

TEST_F(TlsTest, ASessionCarriesBytesBothWaysAndNamesTheClientsCertificate) {
  TlsPair pair(client_context("writer"), server_context(ClientAuth::kRequired));
  std::vector<uint8_t> at_client, at_server;
  pair.pump(at_client, at_server);
  ASSERT_FALSE(pair.client_error) << *pair.client_error;
  ASSERT_FALSE(pair.server_error) << *pair.server_error;
  ASSERT_TRUE(pair.server.established());
  EXPECT_EQ(pair.server.peer_subject(), "CN=writer");

  std::vector<uint8_t> request(100000);
  for (size_t i = 0; i < request.size(); ++i) request[i] = static_cast<uint8_t>(i * 7);
  ASSERT_FALSE(pair.client.send(request));
  pair.pump(at_client, at_server);
  EXPECT_EQ(at_server, request);
  ASSERT_FALSE(pair.server.send(std::vector<uint8_t>{1, 2, 3}));
  pair.pump(at_client, at_server);
  EXPECT_EQ(at_client, (std::vector<uint8_t>{1, 2, 3}));
}

TEST_F(TlsTest, AMissingOrUntrustedCertificateEndsTheHandshake) {
  {
    TlsPair pair(client_context(), server_context(ClientAuth::kRequired));
    std::vector<uint8_t> a, b;
    pair.pump(a, b);
    EXPECT_TRUE(pair.server_error || pair.client_error);
    EXPECT_TRUE(b.empty());
  }
  {
    // A client that does not trust the server's authority refuses it.
    TlsPair pair(client_context("", false), server_context());
    std::vector<uint8_t> a, b;
    pair.pump(a, b);
    EXPECT_TRUE(pair.client_error);
  }
  {
    // A certificate from another authority is not a client certificate this server trusts.
    fjord::testing::TestCertificateAuthority other("other-ca");
    auto files = other.client("intruder");
    TlsSettings settings;
    settings.truststore_location = ca_->ca_file();
    settings.keystore_location = other.directory() + "/intruder-keystore.pem";
    std::ofstream(settings.keystore_location)
        << std::ifstream(files.key).rdbuf() << std::ifstream(files.certificate).rdbuf();
    TlsPair pair(TlsContext::client(settings), server_context(ClientAuth::kRequired));
    std::vector<uint8_t> a, b;
    pair.pump(a, b);
    EXPECT_TRUE(pair.server_error);
    EXPECT_FALSE(pair.server.peer_subject());
  }
}

TEST_F(TlsTest, ARenewedKeyStoreAppliesToNewConnectionsWithoutARestart) {
  auto context = server_context();
  auto before = context->current();
  EXPECT_EQ(context->current(), before);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a later modification time
  auto renewed = ca_->server("renewed");
  std::ofstream(keystore_) << std::ifstream(renewed.key).rdbuf() << std::ifstream(renewed.certificate).rdbuf();
  auto after = context->current();
  EXPECT_NE(after, before);
  EXPECT_EQ(context->reloads(), 1u);
  // A file that no longer loads keeps the keys in use.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::ofstream(keystore_) << "not a key store";
  EXPECT_EQ(context->current(), after);
  TlsPair pair(client_context(), context);
  std::vector<uint8_t> a, b;
  pair.pump(a, b);
  EXPECT_TRUE(pair.server.established());
}

TEST_F(TlsTest, ListenersComeFromKafkasSettings) {
  cluster::BrokerSettings settings;
  settings.static_configs["listeners"] = "PLAINTEXT://127.0.0.1:9092,SECURE://:9093,INTERNAL://127.0.0.1:0";
  settings.static_configs["listener.security.protocol.map"] = "PLAINTEXT:PLAINTEXT,SECURE:SASL_SSL,INTERNAL:SSL";
  settings.static_configs["advertised.listeners"] = "SECURE://broker.example:19093";
  settings.static_configs["inter.broker.listener.name"] = "internal";
  settings.static_configs["ssl.keystore.location"] = keystore_;
  settings.static_configs["listener.name.internal.ssl.client.auth"] = "required";
  settings.static_configs["listener.name.internal.ssl.truststore.location"] = ca_->ca_file();
  settings.static_configs["listener.name.secure.sasl.enabled.mechanisms"] = "SCRAM-SHA-512,PLAIN";
  auto planned = plan_listeners(settings);
  ASSERT_TRUE(std::holds_alternative<ListenersPlan>(planned)) << std::get<std::string>(planned);
  const auto& plan = std::get<ListenersPlan>(planned);
  ASSERT_EQ(plan.listeners.size(), 3u);
  EXPECT_EQ(plan.inter_broker_listener, "INTERNAL");
  const auto& secure = plan.listeners[1];
  EXPECT_EQ(secure.security.protocol, SecurityProtocol::kSaslSsl);
  EXPECT_EQ(secure.host, "");
  EXPECT_EQ(secure.port, 9093);
  EXPECT_EQ(secure.advertised, std::make_pair(std::string("broker.example"), 19093));
  EXPECT_EQ(secure.security.sasl_mechanisms, (std::vector<std::string>{"SCRAM-SHA-512", "PLAIN"}));
  EXPECT_TRUE(secure.security.tls);
  EXPECT_EQ(plan.listeners[2].security.tls->settings().client_auth, ClientAuth::kRequired);
  EXPECT_EQ(plan.listeners[1].security.tls->settings().client_auth, ClientAuth::kNone);
  EXPECT_FALSE(plan.listeners[0].security.tls);

  auto refused = [&](const std::string& key, const std::string& value) {
    auto changed = settings;
    changed.static_configs[key] = value;
    auto result = plan_listeners(changed);
    return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : std::string();
  };
  EXPECT_NE(refused("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SECURE:SASL_SSL"), "");
  EXPECT_NE(refused("listener.name.secure.sasl.enabled.mechanisms", "GSSAPI"), "");
  EXPECT_NE(refused("advertised.listeners", "OTHER://x:1"), "");
  EXPECT_NE(refused("inter.broker.listener.name", "NOPE"), "");
  EXPECT_NE(refused("listeners", "PLAINTEXT://127.0.0.1:9092,SECURE://:9092,INTERNAL://:0"), "");
  EXPECT_NE(refused("ssl.keystore.location", "/nonexistent.pem"), "");
  EXPECT_NE(refused("ssl.keystore.type", "JKS"), "");
  EXPECT_NE(refused("listener.name.internal.ssl.client.auth", "sometimes"), "");
  EXPECT_EQ(per_listener_base_key("listener.name.secure.ssl.keystore.location"), "ssl.keystore.location");
  EXPECT_FALSE(per_listener_base_key("ssl.keystore.location"));
}

}  // namespace
}  // namespace fjord::server::security
