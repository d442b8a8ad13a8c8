// Security with real clients: librdkafka (Debian's 2.0.2) over SASL_SSL with SCRAM and PLAIN, over mutual TLS,
// and refused with a wrong password, an unknown user, an untrusted certificate or none; raw connections for what
// no client sends: requests before authentication, a huge claimed size, PLAIN naming another user.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <optional>
#include <thread>

#include "protocol/messages/api_versions.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/sasl_authenticate.h"
#include "protocol/messages/sasl_handshake.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_certificates.h"

namespace fjord::testing {
namespace {

using namespace std::string_literals;

std::string concatenate(const std::string& directory, const std::string& name, const CertificateFiles& files) {
  const std::string path = directory + "/" + name;
  std::ofstream(path) << std::ifstream(files.key).rdbuf() << std::ifstream(files.certificate).rdbuf();
  return path;
}

class SecuredBrokerTest : public ::testing::Test {
 protected:
  static constexpr char kPassword[] = "alice-secret-5ee";

  void SetUp() override {
    if (!TestCertificateAuthority::openssl_available()) GTEST_SKIP() << "no openssl command";
    ca_ = std::make_unique<TestCertificateAuthority>();
    const std::string keystore = concatenate(ca_->directory(), "broker.pem", ca_->server());
    sasl_ssl_port_ = free_port();
    sasl_plaintext_port_ = free_port();
    ssl_port_ = free_port();
    broker_ = std::make_unique<BrokerProcess>();
    const std::string host = "127.0.0.1:";
    broker_->add_args({"--set",
                       "listeners=PLAINTEXT://" + host + std::to_string(broker_->port()) + ",SASL_SSL://" + host +
                           std::to_string(sasl_ssl_port_) + ",SASL_PLAINTEXT://" + host +
                           std::to_string(sasl_plaintext_port_) + ",SSL://" + host + std::to_string(ssl_port_),
                       "--set", "ssl.keystore.location=" + keystore, "--set",
                       "ssl.truststore.location=" + ca_->ca_file(), "--set",
                       "listener.name.ssl.ssl.client.auth=required", "--set",
                       "sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN",
                       // Only the raw tests' listener: an authentication there holds 1.5 s.
                       "--set", "listener.name.sasl_plaintext.connections.max.reauth.ms=1500"});
    broker_->start();
    const std::string password_file = ca_->directory() + "/password";
    std::ofstream(password_file) << kPassword << "\n";
    const auto created = run_command(std::string(FJORD_BINARY) + " user create alice --bootstrap-server " +
                                     broker_->bootstrap() + " --password-file " + password_file);
    ASSERT_EQ(created.find("exit status"), std::string::npos) << created;
    Admin admin(broker_->bootstrap());
    ASSERT_EQ(admin.create_topic("secured", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  std::map<std::string, std::string> sasl_ssl(const std::string& mechanism, const std::string& user,
                                              const std::string& password) const {
    return {{"security.protocol", "SASL_SSL"},
            {"sasl.mechanisms", mechanism},
            {"sasl.username", user},
            {"sasl.password", password},
            {"ssl.ca.location", ca_->ca_file()}};
  }
  std::string sasl_ssl_bootstrap() const { return "127.0.0.1:" + std::to_string(sasl_ssl_port_); }

  // Produces `count` records with `settings`; returns how many were acknowledged.
  size_t produce(const std::string& bootstrap, std::map<std::string, std::string> settings, int count,
                 int64_t first_index = 0) {
    settings["message.timeout.ms"] = "3000";
    TestProducer producer(bootstrap, settings);
    for (int i = 0; i < count; ++i) producer.produce("secured", 0, 19, first_index + i);
    producer.flush(15000);
    size_t acknowledged = 0;
    for (const auto& [index, delivery] : producer.deliveries) acknowledged += delivery.error == RdKafka::ERR_NO_ERROR;
    return acknowledged;
  }

  // Records in the topic, read over the plaintext listener: it waits for one more than `expected`, so that any
  // record beyond those is seen.
  size_t records_in_topic(size_t expected) {
    return consume(broker_->bootstrap(), "secured", {0}, 0, expected + 1, 4000).size();
  }

  std::unique_ptr<TestCertificateAuthority> ca_;
  std::unique_ptr<BrokerProcess> broker_;
  int sasl_ssl_port_ = 0;
  int sasl_plaintext_port_ = 0;
  int ssl_port_ = 0;
};

TEST_F(SecuredBrokerTest, LibrdkafkaProducesAndConsumesOverSaslSslWithEachMechanism) {
  int64_t index = 0;
  for (const std::string mechanism : {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"}) {
    SCOPED_TRACE(mechanism);
    EXPECT_EQ(produce(sasl_ssl_bootstrap(), sasl_ssl(mechanism, "alice", kPassword), 20, index), 20u);
    index += 20;
  }
  auto records =
      consume(sasl_ssl_bootstrap(), "secured", {0}, 0, 60, 20000, sasl_ssl("SCRAM-SHA-512", "alice", kPassword));
  ASSERT_EQ(records.size(), 60u);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].value, generate_record(19, static_cast<int64_t>(i)).value) << i;
  }
  EXPECT_GE(broker_->metric("fjord_authentications_total", {{"outcome", "succeeded"}, {"mechanism", "PLAIN"}}), 1);
  EXPECT_GE(broker_->metric("fjord_authentications_total", {{"outcome", "succeeded"}, {"mechanism", "SCRAM-SHA-512"}}),
            1);
  // TLS carries the records: none of them went by sendfile on this connection.
  EXPECT_GT(broker_->metric("fjord_fetch_copied_bytes_total"), 0);
}

TEST_F(SecuredBrokerTest, AWrongPasswordAnUnknownUserAndAnUntrustedCertificateWriteNothing) {
  EXPECT_EQ(produce(sasl_ssl_bootstrap(), sasl_ssl("SCRAM-SHA-512", "alice", "wrong-password"), 3), 0u);
  EXPECT_EQ(produce(sasl_ssl_bootstrap(), sasl_ssl("PLAIN", "alice", "wrong-password"), 3), 0u);
  EXPECT_EQ(produce(sasl_ssl_bootstrap(), sasl_ssl("SCRAM-SHA-256", "mallory", kPassword), 3), 0u);
  TestCertificateAuthority other("other-ca");
  auto untrusting = sasl_ssl("SCRAM-SHA-512", "alice", kPassword);
  untrusting["ssl.ca.location"] = other.ca_file();
  EXPECT_EQ(produce(sasl_ssl_bootstrap(), untrusting, 3), 0u);
  // A client speaking plaintext to the TLS listener gets nowhere either.
  auto plaintext = sasl_ssl("SCRAM-SHA-512", "alice", kPassword);
  plaintext["security.protocol"] = "SASL_PLAINTEXT";
  plaintext.erase("ssl.ca.location");
  EXPECT_EQ(produce(sasl_ssl_bootstrap(), plaintext, 3), 0u);

  EXPECT_EQ(records_in_topic(0), 0u);
  EXPECT_GE(broker_->metric("fjord_authentications_total", {{"outcome", "failed"}}), 3);
  EXPECT_GE(broker_->metric("fjord_connections_refused_total", {{"reason", "tls"}}), 1);
  const auto log = broker_->log();
  EXPECT_NE(log.find("failed authentication of user mallory"), std::string::npos);
  EXPECT_EQ(log.find("wrong-password"), std::string::npos);
  EXPECT_EQ(log.find(kPassword), std::string::npos);
}

TEST_F(SecuredBrokerTest, MutualTlsAdmitsACertificateFromTheTrustedAuthorityOnly) {
  const std::string bootstrap = "127.0.0.1:" + std::to_string(ssl_port_);
  auto client = ca_->client("writer");
  std::map<std::string, std::string> settings = {{"security.protocol", "SSL"},
                                                 {"ssl.ca.location", ca_->ca_file()},
                                                 {"ssl.certificate.location", client.certificate},
                                                 {"ssl.key.location", client.key}};
  EXPECT_EQ(produce(bootstrap, settings, 10), 10u);
  auto without = settings;
  without.erase("ssl.certificate.location");
  without.erase("ssl.key.location");
  EXPECT_EQ(produce(bootstrap, without, 3, 10), 0u);
  TestCertificateAuthority other("other-ca");
  auto foreign = other.client("intruder");
  auto intruder = settings;
  intruder["ssl.certificate.location"] = foreign.certificate;
  intruder["ssl.key.location"] = foreign.key;
  EXPECT_EQ(produce(bootstrap, intruder, 3, 10), 0u);
  EXPECT_EQ(records_in_topic(10), 10u);
}

TEST_F(SecuredBrokerTest, FjordsOwnToolsTakeKafkasClientSettingsFile) {
  // As Kafka's tools take them (--command-config): a JAAS line, a PEM trust store.
  auto settings_file = [&](const std::string& name, const std::string& mechanism, const std::string& password) {
    const std::string path = ca_->directory() + "/" + name + ".properties";
    std::ofstream(path) << "security.protocol=SASL_SSL\nsasl.mechanism=" << mechanism
                        << "\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                        << "username=\"alice\" password=\"" << password << "\";\nssl.truststore.type=PEM\n"
                        << "ssl.truststore.location=" << ca_->ca_file() << "\n";
    return path;
  };
  auto run = [&](const std::string& args, const std::string& settings) {
    return run_command(std::string(FJORD_BINARY) + " " + args + " --bootstrap-server " + sasl_ssl_bootstrap() +
                       " --command-config " + settings + " 2>&1");
  };
  for (const std::string mechanism : {"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"}) {
    auto listed = run("user list", settings_file("good-" + mechanism, mechanism, kPassword));
    EXPECT_NE(listed.find("alice"), std::string::npos) << mechanism << ": " << listed;
    EXPECT_EQ(listed.find("exit status"), std::string::npos) << mechanism << ": " << listed;
  }
  // The other tools with their own connection take the same file.
  auto transactions = run("txn list", settings_file("txn", "SCRAM-SHA-512", kPassword));
  EXPECT_NE(transactions.find("TRANSACTIONAL-ID"), std::string::npos) << transactions;
  EXPECT_EQ(transactions.find("exit status"), std::string::npos) << transactions;
  auto acls = run("acl list", settings_file("acl", "SCRAM-SHA-512", kPassword));
  EXPECT_NE(acls.find("SECURITY_DISABLED"), std::string::npos) << acls;  // reached the broker: no authorizer here
  auto refused = run("user list", settings_file("wrong", "SCRAM-SHA-512", "not-the-password"));
  EXPECT_NE(refused.find("exit status"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Authentication failed"), std::string::npos) << refused;
  // Without the settings, the tool cannot speak to a TLS listener at all.
  auto plain =
      run_command(std::string(FJORD_BINARY) + " user list --bootstrap-server " + sasl_ssl_bootstrap() + " 2>&1");
  EXPECT_NE(plain.find("exit status"), std::string::npos) << plain;
}

// The commands built on librdkafka take the same file: topics, produce, consume into a group, the group and its lag,
// the audit, each over SASL_SSL with SCRAM; over mutual TLS with a PEM key store; and refused without it.
TEST_F(SecuredBrokerTest, EveryClientCommandTakesTheSettingsFile) {
  const std::string scram = ca_->directory() + "/scram.properties";
  std::ofstream(scram) << "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                       << "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                       << "username=\"alice\" password=\"" << kPassword << "\";\n"
                       << "ssl.truststore.type=PEM\nssl.truststore.location=" << ca_->ca_file() << "\n";
  auto fjord = [&](const std::string& args, const std::string& settings, const std::string& bootstrap) {
    return run_command(std::string(FJORD_BINARY) + " " + args + " --bootstrap-server " + bootstrap +
                       (settings.empty() ? "" : " --command-config " + settings) + " 2>&1");
  };
  auto succeeded = [](const std::string& output) { return output.find("(exit status") == std::string::npos; };
  const std::string sasl = sasl_ssl_bootstrap();

  auto created = fjord("topic create tools --partitions 2", scram, sasl);
  ASSERT_TRUE(succeeded(created)) << created;
  auto listed = fjord("topic list", scram, sasl);
  EXPECT_NE(listed.find("tools"), std::string::npos) << listed;
  auto described = fjord("topic describe tools", scram, sasl);
  EXPECT_TRUE(succeeded(described)) << described;
  auto produced = run_command("printf 'a\\nb\\nc\\n' | " + std::string(FJORD_BINARY) +
                              " produce tools --bootstrap-server " + sasl + " --command-config " + scram + " 2>&1");
  ASSERT_TRUE(succeeded(produced)) << produced;
  auto consumed = fjord("consume tools --group readers --from-beginning --count 3", scram, sasl);
  ASSERT_TRUE(succeeded(consumed)) << consumed;
  for (const char* value : {"a", "b", "c"}) EXPECT_NE(consumed.find(value), std::string::npos) << consumed;
  auto groups = fjord("group list", scram, sasl);
  EXPECT_NE(groups.find("readers"), std::string::npos) << groups;
  auto group = fjord("group describe readers", scram, sasl);
  EXPECT_NE(group.find("tools"), std::string::npos) << group;
  auto lag = fjord("lag readers --format json", scram, sasl);
  EXPECT_NE(lag.find("\"readers\""), std::string::npos) << lag;
  auto chaos = fjord(
      "chaos --duration 4 --members 1 --partitions 1 --rate 50 --faults kill --fault-interval 2 "
      "--drain-timeout 20 --format json",
      scram, sasl);
  EXPECT_NE(chaos.find("\"passed\": true"), std::string::npos) << chaos;
  auto audit = fjord("audit --format json", scram, sasl);
  EXPECT_NE(audit.find("\"findings\""), std::string::npos) << audit;

  // Mutual TLS: Kafka's PEM key store, the key and its chain in one file.
  const std::string keystore = concatenate(ca_->directory(), "tools.pem", ca_->client("tools"));
  const std::string mtls = ca_->directory() + "/mtls.properties";
  std::ofstream(mtls) << "security.protocol=SSL\nssl.keystore.type=PEM\nssl.keystore.location=" << keystore
                      << "\nssl.truststore.type=PEM\nssl.truststore.location=" << ca_->ca_file() << "\n";
  const std::string ssl = "127.0.0.1:" + std::to_string(ssl_port_);
  listed = fjord("topic list", mtls, ssl);
  EXPECT_NE(listed.find("tools"), std::string::npos) << listed;

  // Without the settings, or with a wrong password, nothing is reached and nothing written; the refusal is said at
  // once, not after the request timeout.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(succeeded(fjord("group list", "", sasl)));
  const std::string wrong = ca_->directory() + "/wrong.properties";
  std::ofstream(wrong) << "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=alice\n"
                       << "sasl.password=not-it\nssl.ca.location=" << ca_->ca_file() << "\n";
  auto refused = fjord("topic create never --partitions 1", wrong, sasl);
  EXPECT_FALSE(succeeded(refused)) << refused;
  EXPECT_NE(refused.find("Authentication failed"), std::string::npos) << refused;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
  EXPECT_EQ(fjord("topic list", "", broker_->bootstrap()).find("never"), std::string::npos);
  EXPECT_EQ(consume(broker_->bootstrap(), "tools", {0, 1}, 0, 4, 3000).size(), 3u);
}

// The admin listener (metrics, /api, the console) secured: HTTPS with HTTP Basic checked against the SCRAM users,
// or with client certificates; open by default only on a loopback address.
class AdminListenerTest : public ::testing::Test {
 protected:
  static constexpr char kPassword[] = "admin-reader-7c1";

  void SetUp() override {
    if (!TestCertificateAuthority::openssl_available()) GTEST_SKIP() << "no openssl command";
    // The HTTPS client writes with OpenSSL's write(2): a handshake the listener refuses must fail the request, not
    // end the test process with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    ca_ = std::make_unique<TestCertificateAuthority>();
    keystore_ = concatenate(ca_->directory(), "admin.pem", ca_->server());
  }

  void start(const std::vector<std::string>& settings) {
    broker_ = std::make_unique<BrokerProcess>();
    for (const auto& setting : settings) broker_->add_args({"--set", setting});
    broker_->start();
    const std::string password_file = ca_->directory() + "/password";
    std::ofstream(password_file) << kPassword << "\n";
    const auto created = run_command(std::string(FJORD_BINARY) + " user create reader --bootstrap-server " +
                                     broker_->bootstrap() + " --password-file " + password_file + " 2>&1");
    ASSERT_EQ(created.find("exit status"), std::string::npos) << created;
  }

  // GET `path` over HTTPS, trusting the test authority; -1 when no HTTP answer came (a refused TLS handshake).
  int get(const std::string& path, const std::optional<std::pair<std::string, std::string>>& basic = std::nullopt,
          const CertificateFiles* client = nullptr, std::string* body = nullptr) {
    std::unique_ptr<httplib::SSLClient> https =
        client
            ? std::make_unique<httplib::SSLClient>("127.0.0.1", broker_->admin_port(), client->certificate, client->key)
            : std::make_unique<httplib::SSLClient>("127.0.0.1", broker_->admin_port());
    https->set_ca_cert_path(ca_->ca_file());
    https->enable_server_certificate_verification(true);
    if (basic) https->set_basic_auth(basic->first, basic->second);
    // The admin listener starts just after the Kafka listeners.
    for (int attempt = 0; attempt < 50; ++attempt) {
      auto response = https->Get(path);
      if (response) {
        if (body) *body = response->body;
        return response->status;
      }
      if (response.error() != httplib::Error::Connection) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return -1;
  }

  // Runs `fjord broker` with `settings` and the admin listener on `admin_host`; what it printed and its exit status.
  std::string refused_start(const std::string& admin_host, const std::vector<std::string>& settings) {
    std::string command = "timeout 10 " + std::string(FJORD_BINARY) + " broker --data-dir " + ca_->directory() +
                          "/refused --listen 127.0.0.1:" + std::to_string(free_port()) + " --admin-listen " +
                          admin_host + ":" + std::to_string(free_port());
    for (const auto& setting : settings) command += " --set " + setting;
    return run_command(command + " 2>&1");
  }

  std::unique_ptr<TestCertificateAuthority> ca_;
  std::unique_ptr<BrokerProcess> broker_;
  std::string keystore_;
};

TEST_F(AdminListenerTest, BasicAuthenticationChecksTheScramUsersOverHttps) {
  start({"admin.authentication=basic", "admin.ssl.keystore.location=" + keystore_});
  std::string body;
  EXPECT_EQ(get("/metrics", std::make_pair("reader", kPassword), nullptr, &body), 200);
  EXPECT_NE(body.find("fjord_"), std::string::npos);
  EXPECT_EQ(get("/api/cluster", std::make_pair("reader", kPassword)), 200);
  EXPECT_EQ(get("/metrics", std::make_pair("reader", "not-the-password")), 401);
  EXPECT_EQ(get("/metrics", std::make_pair("nobody", kPassword)), 401);
  EXPECT_EQ(get("/api/audit"), 401);
  EXPECT_EQ(get("/"), 401);
  // A liveness probe has no credentials: /health says only whether the broker is healthy.
  EXPECT_EQ(get("/health"), 200);
  // Plain HTTP to the HTTPS port gets no answer.
  httplib::Client plain("127.0.0.1", broker_->admin_port());
  auto response = plain.Get("/metrics");
  EXPECT_TRUE(!response || response->status == 400) << (response ? response->body : "");

  // `fjord audit --admin https://...` takes the authority and the credentials from its settings file.
  const std::string settings = ca_->directory() + "/audit.properties";
  std::ofstream(settings) << "sasl.username=reader\nsasl.password=" << kPassword
                          << "\nssl.truststore.location=" << ca_->ca_file() << "\n";
  const std::string admin = " --admin https://127.0.0.1:" + std::to_string(broker_->admin_port());
  auto audit = run_command(std::string(FJORD_BINARY) + " audit --format json --bootstrap-server " +
                           broker_->bootstrap() + admin + " --command-config " + settings + " 2>&1");
  EXPECT_NE(audit.find("\"findings\""), std::string::npos) << audit;
  EXPECT_EQ(audit.find("admin listener"), std::string::npos) << audit;
  auto without = run_command(std::string(FJORD_BINARY) + " audit --format json --bootstrap-server " +
                             broker_->bootstrap() + admin + " 2>&1");
  EXPECT_NE(without.find("admin listener"), std::string::npos) << without;
}

TEST_F(AdminListenerTest, MutualTlsAdmitsACertificateFromTheTrustedAuthorityOnly) {
  start({"admin.authentication=mtls", "admin.ssl.keystore.location=" + keystore_,
         "admin.ssl.truststore.location=" + ca_->ca_file()});
  const auto trusted = ca_->client("prometheus");
  EXPECT_EQ(get("/metrics", std::nullopt, &trusted), 200);
  EXPECT_EQ(get("/metrics"), -1);
  TestCertificateAuthority other("other-ca");
  const auto foreign = other.client("intruder");
  EXPECT_EQ(get("/metrics", std::nullopt, &foreign), -1);
}

TEST_F(AdminListenerTest, OffALoopbackAddressTheOperatorMustChoose) {
  auto open = refused_start("0.0.0.0", {});
  EXPECT_NE(open.find("not on a loopback address"), std::string::npos) << open;
  EXPECT_NE(open.find("exit status 2"), std::string::npos) << open;
  auto clear = refused_start("0.0.0.0", {"admin.authentication=basic"});
  EXPECT_NE(clear.find("needs HTTPS"), std::string::npos) << clear;
  auto ignored = refused_start("127.0.0.1", {"admin.authentication=basic", "admin.ssl.keystore.location=" + keystore_,
                                             "admin.ssl.truststore.location=" + ca_->ca_file()});
  EXPECT_NE(ignored.find("only with admin.authentication=mtls"), std::string::npos) << ignored;
  auto unknown = refused_start("127.0.0.1", {"admin.authentication=token"});
  EXPECT_NE(unknown.find("exit status 2"), std::string::npos) << unknown;
  auto unloadable = refused_start("127.0.0.1", {"admin.ssl.keystore.location=" + ca_->ca_file()});
  EXPECT_NE(unloadable.find("does not load"), std::string::npos) << unloadable;
}

// The SaslHandshake and SaslAuthenticate exchange, by hand.
class SaslRawTest : public SecuredBrokerTest {
 protected:
  void handshake(RawClient& client, const std::string& mechanism, int16_t version = 1) {
    ASSERT_EQ(sasl_handshake(client, mechanism, version), int16_t{0});
  }
  protocol::SaslAuthenticateResponse authenticate(RawClient& client, const std::string& token) {
    auto response = sasl_authenticate(client, token);
    EXPECT_TRUE(response);
    return response.value_or(protocol::SaslAuthenticateResponse{});
  }
  bool metadata_answered(RawClient& client) {
    client.send(protocol::MetadataRequest{}, 1, 3);
    return client.receive(std::chrono::seconds(5)).has_value();
  }
};

TEST_F(SaslRawTest, BeforeAuthenticationOnlyApiVersionsAndSaslAreServed) {
  {
    RawClient client(sasl_plaintext_port_);
    EXPECT_FALSE(metadata_answered(client));
    EXPECT_TRUE(client.closed_by_broker());
  }
  {
    RawClient client(sasl_plaintext_port_);
    protocol::ApiVersionsRequest versions;
    client.send(versions, 0, 7);
    EXPECT_TRUE(client.receive());
    handshake(client, "PLAIN");
    EXPECT_EQ(authenticate(client, "\0alice\0"s + kPassword).error_code, 0);
    EXPECT_TRUE(metadata_answered(client));
  }
  EXPECT_GE(broker_->metric("fjord_connections_refused_total", {{"reason", "unauthenticated_request"}}), 1);
}

TEST_F(SaslRawTest, AnAuthenticationLastsConnectionsMaxReauthMsUnlessRenewed) {
  using std::chrono::milliseconds;
  RawClient client(sasl_plaintext_port_);
  handshake(client, "PLAIN");
  auto first = authenticate(client, "\0alice\0"s + kPassword);
  ASSERT_EQ(first.error_code, 0);
  EXPECT_EQ(first.session_lifetime_ms, 1500);  // KIP-368: the client learns when to authenticate again
  // Time is what is tested here: the broker's clock runs on its own.
  std::this_thread::sleep_for(milliseconds(1000));
  handshake(client, "PLAIN");
  ASSERT_EQ(authenticate(client, "\0alice\0"s + kPassword).error_code, 0);
  std::this_thread::sleep_for(milliseconds(1000));  // past the first authentication's end, within the second's
  EXPECT_TRUE(metadata_answered(client));
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_FALSE(metadata_answered(client));
  EXPECT_TRUE(client.closed_by_broker());
  EXPECT_GE(broker_->metric("fjord_connections_refused_total", {{"reason", "expired"}}), 1);
}

TEST_F(SaslRawTest, AHugeClaimedSizeBeforeAuthenticationClosesAtOnce) {
  RawClient client(sasl_plaintext_port_);
  client.send_bytes({0x06, 0x00, 0x00, 0x00});  // 100 MB claimed, within socket.request.max.bytes
  EXPECT_TRUE(client.closed_by_broker());
  EXPECT_GE(broker_->metric("fjord_connections_refused_total", {{"reason", "oversized"}}), 1);
}

TEST_F(SaslRawTest, PlainNamingAnotherUserAsAuthorizationIdIsRefusedAndTheConnectionEnds) {
  RawClient client(sasl_plaintext_port_);
  handshake(client, "PLAIN");
  auto response = authenticate(client, "admin\0alice\0"s + kPassword);
  EXPECT_EQ(response.error_code, 58);  // SASL_AUTHENTICATION_FAILED
  ASSERT_TRUE(response.error_message);
  EXPECT_EQ(response.error_message->find(kPassword), std::string::npos);
  EXPECT_TRUE(client.closed_by_broker());
}

// connection.failed.authentication.delay.ms (100 by default): a wrong password is answered no sooner, so that
// passwords cannot be tried at the rate the network allows.
TEST_F(SaslRawTest, AFailedAuthenticationIsAnsweredOnlyAfterTheDelay) {
  RawClient client(sasl_plaintext_port_);
  handshake(client, "PLAIN");
  const auto sent = std::chrono::steady_clock::now();
  auto response = authenticate(client, "\0alice\0not-the-password"s);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(100));
  EXPECT_EQ(response.error_code, 58);  // SASL_AUTHENTICATION_FAILED
  EXPECT_TRUE(client.closed_by_broker());
}

TEST_F(SaslRawTest, AHandshakeV0ClientSendsBareTokens) {
  RawClient client(sasl_plaintext_port_);
  handshake(client, "PLAIN", 0);
  const std::string token = "\0alice\0"s + kPassword;
  client.send_frame(std::vector<uint8_t>(token.begin(), token.end()));
  auto answer = client.receive();
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->empty());  // PLAIN's server token is empty
  EXPECT_TRUE(metadata_answered(client));
}

TEST_F(SaslRawTest, AMechanismTheListenerDoesNotOfferIsRefused) {
  RawClient client(sasl_plaintext_port_);
  protocol::SaslHandshakeRequest request;
  request.mechanism = "GSSAPI";
  client.send(request, 1, 1);
  auto frame = client.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<protocol::SaslHandshakeResponse>(*frame, 1, false, nullptr);
  EXPECT_EQ(response.error_code, 33);  // UNSUPPORTED_SASL_MECHANISM
  EXPECT_EQ(response.mechanisms, (std::vector<std::string>{"SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"}));
  EXPECT_TRUE(client.closed_by_broker());
}

}  // namespace
}  // namespace fjord::testing
