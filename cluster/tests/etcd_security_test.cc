// etcd secured the two ways its JSON gateway (which Fjord speaks) allows, as an operator who keeps credentials and
// ACLs in it runs it: TLS with a user and password (`auth enable`), or TLS with client certificates
// (--client-cert-auth). etcd refuses the two together through the gateway, so that a certificate's common name
// cannot stand in for a user there (CVE-2018-16886): a request comes back "CommonName of client sending a request
// against gateway will be ignored". Either way a broker with its credentials is served, and what lacks one is
// refused.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "cluster/etcd/etcd_client.h"
#include "cluster/etcd/etcd_cluster.h"
#include "cluster/tests/test_loop.h"
#include "tests/support/etcd_process.h"
#include "tests/support/test_certificates.h"

namespace {

using fjord::cluster::etcd::EtcdClient;
using fjord::cluster::etcd::EtcdError;
using fjord::cluster::etcd::EtcdSecurity;
using fjord::cluster::testing::TestLoop;
using fjord::testing::CertificateFiles;
using fjord::testing::EtcdProcess;
using fjord::testing::TestCertificateAuthority;
using namespace std::chrono_literals;

constexpr const char* kBrokerUser = "fjord-broker";
constexpr const char* kBrokerPassword = "s3cret-broker-pw";
constexpr int kTokenTtlSeconds = 2;

class EtcdSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdProcess::available()) GTEST_SKIP() << "no etcd binary";
    if (!TestCertificateAuthority::openssl_available()) GTEST_SKIP() << "no openssl";
    ca_.emplace();
    server_ = ca_->server();
    client_ = ca_->client("fjord-client");
    etcd_.emplace();
    etcd_->start_secure(
        {ca_->ca_file(), server_.certificate, server_.key, client_.certificate, client_.key, client_cert_auth()},
        kTokenTtlSeconds);
    if (!client_cert_auth()) etcd_->enable_authentication(kBrokerUser, kBrokerPassword);
  }
  virtual bool client_cert_auth() const { return false; }

  EtcdSecurity broker_security() const {
    if (client_cert_auth()) return {ca_->ca_file(), client_.certificate, client_.key, "", ""};
    return {ca_->ca_file(), "", "", kBrokerUser, kBrokerPassword};
  }

  // The message of the EtcdError a put with `security` throws; fails the test when it does not throw.
  std::string refusal(const EtcdSecurity& security) {
    try {
      EtcdClient client(etcd_->endpoint(), 2000, security);
      client.put("/fjord/refused", "written");
    } catch (const EtcdError& e) {
      return e.what();
    }
    ADD_FAILURE() << "the put was not refused";
    return {};
  }

  std::optional<TestCertificateAuthority> ca_;
  CertificateFiles server_, client_;
  std::optional<EtcdProcess> etcd_;
};

// With its CA, certificate and user a broker reads and writes its keys, only under /fjord/, and keeps doing so
// after its token expires (etcd's --auth-token-ttl): it asks for a new one by itself.
TEST_F(EtcdSecurityTest, ABrokerWithItsCertificateAndUserReadsAndWritesItsKeys) {
  EtcdClient client(etcd_->endpoint(), 2000, broker_security());
  client.put("/fjord/probe", "first");
  EXPECT_EQ(client.get("/fjord/probe").kvs.at(0).value, "first");
  const int64_t lease = client.lease_grant(10);
  EXPECT_GT(client.lease_keepalive(lease), 0);
  EXPECT_THROW(client.put("/elsewhere", "v"), EtcdError) << "the broker's role grants /fjord/ only";

  EXPECT_EQ(client.authentications(), 1);
  // etcd drops expired tokens on a one-second tick: twice the time to live is past it on a loaded machine too.
  std::this_thread::sleep_for(std::chrono::seconds(2 * kTokenTtlSeconds + 1));
  client.put("/fjord/probe", "after the token expired");
  EXPECT_EQ(client.get("/fjord/probe").kvs.at(0).value, "after the token expired");
  EXPECT_EQ(client.authentications(), 2) << "the expired token was not replaced";
}

// A wrong password, no user, no TLS, and a server certificate from a CA the client does not trust: each refused
// with a clear error that never carries the password, and nothing written.
TEST_F(EtcdSecurityTest, WhatLacksACredentialIsRefusedAndWritesNothing) {
  EtcdSecurity wrong_password = broker_security();
  wrong_password.password = "not-the-password-42";
  const std::string bad_password = refusal(wrong_password);
  EXPECT_NE(bad_password.find("authentication failed"), std::string::npos) << bad_password;
  EXPECT_EQ(bad_password.find("not-the-password-42"), std::string::npos) << "the error shows the password";

  EtcdSecurity no_user = broker_security();
  no_user.username.clear();
  no_user.password.clear();
  const std::string without_user = refusal(no_user);
  EXPECT_NE(without_user.find("user name is empty"), std::string::npos) << without_user;

  EXPECT_FALSE(refusal(EtcdSecurity{}).empty()) << "plaintext to a TLS-only etcd";

  TestCertificateAuthority stranger("someone-else");
  EtcdSecurity untrusted = broker_security();
  untrusted.ca_file = stranger.ca_file();
  EXPECT_FALSE(refusal(untrusted).empty()) << "a server certificate from an untrusted CA";

  EtcdClient reader(etcd_->endpoint(), 2000, broker_security());
  EXPECT_TRUE(reader.get("/fjord/refused").kvs.empty()) << "a refused client wrote";
}

// The brokers' cluster service: registrations, the controller campaign, metadata changes in transactions and the
// watch that shows them to the other broker, twice a token's time to live apart.
void cluster_service_works(const EtcdProcess& etcd, const EtcdSecurity& security) {
  TestLoop loop;
  fjord::cluster::etcd::EtcdCluster first({.endpoint = etcd.endpoint(), .node_id = 1, .security = security}, loop);
  first.load();
  first.join({1, "127.0.0.1", 9092, std::nullopt});
  fjord::cluster::etcd::EtcdCluster second({.endpoint = etcd.endpoint(), .node_id = 2, .security = security}, loop);
  second.load();
  second.join({2, "127.0.0.1", 9093, std::nullopt});
  ASSERT_TRUE(loop.run_until([&] { return first.controller_id() >= 1 && second.live_brokers().size() == 2; }, 20s));

  for (const char* value : {"before", "after the token expired"}) {
    bool stored = false;
    first.update([value](fjord::cluster::ClusterMetadata& m) { m.broker_dynamic_configs["probe"] = value; },
                 [&](std::error_code error) {
                   EXPECT_FALSE(error) << error.message();
                   stored = true;
                 });
    ASSERT_TRUE(loop.run_until(
        [&] {
          auto it = second.current().broker_dynamic_configs.find("probe");
          return stored && it != second.current().broker_dynamic_configs.end() && it->second == value;
        },
        10s))
        << value;
    std::this_thread::sleep_for(std::chrono::seconds(2 * kTokenTtlSeconds + 1));
  }
  second.leave();
  first.leave();
}

TEST_F(EtcdSecurityTest, TheClusterServiceWorksOverTlsAsAUser) { cluster_service_works(*etcd_, broker_security()); }

class EtcdMutualTlsTest : public EtcdSecurityTest {
 protected:
  bool client_cert_auth() const override { return true; }
};

// With --client-cert-auth a broker showing a certificate from the trusted CA is served; one without a certificate,
// or with one from another CA, is refused at the handshake and writes nothing.
TEST_F(EtcdMutualTlsTest, ABrokerWithACertificateIsServedAndOneWithoutIsRefused) {
  EtcdClient client(etcd_->endpoint(), 2000, broker_security());
  client.put("/fjord/probe", "v");
  EXPECT_EQ(client.get("/fjord/probe").kvs.at(0).value, "v");

  EtcdSecurity no_certificate = broker_security();
  no_certificate.cert_file.clear();
  no_certificate.key_file.clear();
  EXPECT_FALSE(refusal(no_certificate).empty());
  TestCertificateAuthority stranger("someone-else");
  EtcdSecurity foreign_certificate = broker_security();
  const auto foreign = stranger.client("intruder");
  foreign_certificate.cert_file = foreign.certificate;
  foreign_certificate.key_file = foreign.key;
  EXPECT_FALSE(refusal(foreign_certificate).empty());
  EXPECT_TRUE(client.get("/fjord/refused").kvs.empty()) << "a refused client wrote";
}

TEST_F(EtcdMutualTlsTest, TheClusterServiceWorksWithACertificate) { cluster_service_works(*etcd_, broker_security()); }

}  // namespace
