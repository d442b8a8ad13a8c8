// Brokers that speak to each other over TLS and SASL: two brokers and etcd, their inter-broker listener SASL_SSL
// with SCRAM-SHA-512 (clients use a PLAINTEXT listener beside it). Replication (acks=all with min.insync.replicas=2
// can only be acknowledged once the follower has fetched over the secured listener) and transaction markers (a
// coordinator writing to the other broker's partition) cross it; a broker with a wrong password is not let in.
#include <gtest/gtest.h>
#include <librdkafka/rdkafkacpp.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/broker_process.h"
#include "tests/support/etcd_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/test_certificates.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

constexpr char kBrokerPassword[] = "broker-secret-41d";

class InterBrokerSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestCertificateAuthority::openssl_available()) GTEST_SKIP() << "no openssl command";
    ASSERT_TRUE(EtcdProcess::available()) << "etcd is not installed (Debian: etcd-server)";
    ca_ = std::make_unique<TestCertificateAuthority>();
    keystore_ = ca_->directory() + "/broker.pem";
    const auto server = ca_->server();
    std::ofstream(keystore_) << std::ifstream(server.key).rdbuf() << std::ifstream(server.certificate).rdbuf();
    etcd_.start();
  }

  // A broker whose inter-broker listener is SASL_SSL, authenticating to the others as `broker` with `password`.
  BrokerProcess& start_broker(int node_id, const std::string& password) {
    auto broker = std::make_unique<BrokerProcess>(std::vector<std::string>{
        "--node-id", std::to_string(node_id), "--metadata", "etcd://" + etcd_.endpoint(), "--set",
        "broker.session.timeout.ms=2000", "--set", "replica.lag.time.max.ms=3000", "--set",
        "transaction.state.log.replication.factor=2", "--set", "transaction.state.log.num.partitions=4"});
    const int internal = free_port();
    broker->add_args({"--set",
                      "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(broker->port()) +
                          ",INTERNAL://127.0.0.1:" + std::to_string(internal),
                      "--set", "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL", "--set",
                      "inter.broker.listener.name=INTERNAL", "--set", "sasl.enabled.mechanisms=SCRAM-SHA-512", "--set",
                      "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512", "--set",
                      "listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram."
                      "ScramLoginModule "
                      "required username=\"broker\" password=\"" +
                          password + "\";",
                      "--set", "ssl.keystore.location=" + keystore_, "--set",
                      "ssl.truststore.location=" + ca_->ca_file()});
    broker->start();
    brokers_.push_back(std::move(broker));
    return *brokers_.back();
  }

  void create_broker_user() {
    const std::string file = ca_->directory() + "/broker-password";
    std::ofstream(file) << kBrokerPassword << "\n";
    auto created = run_command(std::string(FJORD_BINARY) + " user create broker --bootstrap-server " +
                               brokers_.front()->bootstrap() + " --password-file " + file + " 2>&1");
    ASSERT_EQ(created.find("exit status"), std::string::npos) << created;
  }

  // Records produced with acks=all that were acknowledged.
  size_t produce_acknowledged(const std::string& topic, int count) {
    TestProducer producer(brokers_.front()->bootstrap(), {{"message.timeout.ms", "20000"}});
    for (int i = 0; i < count; ++i) producer.produce(topic, i % 2, 64, i);
    producer.flush(30000);
    size_t acknowledged = 0;
    for (const auto& [index, delivery] : producer.deliveries) acknowledged += delivery.error == RdKafka::ERR_NO_ERROR;
    return acknowledged;
  }

  // The leader of each partition of `topic`, as broker 1 tells a client.
  std::map<int32_t, int32_t> leaders(const std::string& topic) {
    auto conf = client_conf(brokers_.front()->bootstrap());
    std::string error;
    std::unique_ptr<RdKafka::Producer> client(RdKafka::Producer::create(conf.get(), error));
    std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(client.get(), topic, nullptr, error));
    RdKafka::Metadata* raw = nullptr;
    std::map<int32_t, int32_t> out;
    if (client->metadata(false, handle.get(), &raw, 5000) != RdKafka::ERR_NO_ERROR) return out;
    std::unique_ptr<RdKafka::Metadata> metadata(raw);
    for (const auto* t : *metadata->topics()) {
      for (const auto* p : *t->partitions()) out[p->id()] = p->leader();
    }
    return out;
  }

  double authentications(BrokerProcess& broker, const std::string& outcome) {
    return broker.metric("fjord_authentications_total", {{"listener", "INTERNAL"}, {"outcome", outcome}});
  }

  std::unique_ptr<TestCertificateAuthority> ca_;
  std::string keystore_;
  EtcdProcess etcd_;
  std::vector<std::unique_ptr<BrokerProcess>> brokers_;
};

TEST_F(InterBrokerSecurityTest, BrokersReplicateAndWriteTransactionMarkersOverSaslSsl) {
  auto& first = start_broker(1, kBrokerPassword);
  auto& second = start_broker(2, kBrokerPassword);
  ASSERT_TRUE(wait_until([&] { return brokers_seen_by(first) == 2 && brokers_seen_by(second) == 2; },
                         std::chrono::seconds(20)));
  create_broker_user();
  Admin admin(first.bootstrap());
  ASSERT_EQ(admin.create_topic("replicated", 2, {{"min.insync.replicas", "2"}}, 2), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(produce_acknowledged("replicated", 200), 200u);
  EXPECT_GE(authentications(first, "succeeded") + authentications(second, "succeeded"), 1);

  // A transaction over both partitions, whose leaders are the two brokers: one of them gets its commit marker
  // from the other (the coordinator) over the secured listener, and only then do read_committed readers see it.
  auto conf = client_conf(first.bootstrap());
  std::string error;
  conf->set("transactional.id", "secured-txn", error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  ASSERT_TRUE(producer) << error;
  std::unique_ptr<RdKafka::Error> failure(producer->init_transactions(20000));
  ASSERT_FALSE(failure) << failure->str();
  failure.reset(producer->begin_transaction());
  ASSERT_FALSE(failure) << failure->str();
  for (int i = 0; i < 10; ++i) {
    std::string value = "committed-" + std::to_string(i);
    ASSERT_EQ(producer->produce("replicated", i % 2, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(),
                                nullptr, 0, 0, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  failure.reset(producer->commit_transaction(30000));
  ASSERT_FALSE(failure) << failure->str();
  auto read = consume(first.bootstrap(), "replicated", {0, 1}, 0, 210, 20000, {{"isolation.level", "read_committed"}});
  EXPECT_EQ(read.size(), 210u);
}

TEST_F(InterBrokerSecurityTest, ABrokerWithAWrongPasswordIsNotLetIn) {
  auto& first = start_broker(1, kBrokerPassword);
  auto& second = start_broker(2, "not-the-password");
  ASSERT_TRUE(wait_until([&] { return brokers_seen_by(first) == 2; }, std::chrono::seconds(20)));
  create_broker_user();
  Admin admin(first.bootstrap());
  ASSERT_EQ(admin.create_topic("replicated", 2, {{"min.insync.replicas", "2"}}, 2), RD_KAFKA_RESP_ERR_NO_ERROR);
  // What broker 1 leads cannot be acknowledged (broker 2 never fetches it); what broker 2 leads can (broker 1,
  // with the right password, does).
  std::map<int32_t, int32_t> led;
  ASSERT_TRUE(wait_until(
      [&] {
        led = leaders("replicated");
        return led.size() == 2 && led[0] > 0 && led[1] > 0;
      },
      std::chrono::seconds(10)));
  ASSERT_NE(led[0], led[1]) << "both partitions have one leader: the test would show one direction only";
  TestProducer producer(first.bootstrap(), {{"message.timeout.ms", "6000"}});
  for (int i = 0; i < 20; ++i) producer.produce("replicated", i % 2, 64, i);
  producer.flush(15000);
  ASSERT_EQ(producer.deliveries.size(), 20u);
  for (const auto& [index, delivery] : producer.deliveries) {
    const auto partition = static_cast<int32_t>(index % 2);
    EXPECT_EQ(delivery.error == RdKafka::ERR_NO_ERROR, led[partition] == 2)
        << "record " << index << " to partition " << partition << " led by " << led[partition];
  }
  EXPECT_TRUE(wait_until([&] { return authentications(first, "failed") >= 1; }, std::chrono::seconds(10)));
  EXPECT_NE(first.log().find("failed authentication of user broker"), std::string::npos);
  EXPECT_EQ(first.log().find("not-the-password"), std::string::npos);
  (void)second;
}

// Without its own credentials a broker could not reach the others: in a cluster it does not start (a single node,
// which never connects to another broker, does: `fjord dev --secure` is one).
TEST_F(InterBrokerSecurityTest, ABrokerInAClusterWithoutItsCredentialsDoesNotStart) {
  const int port = free_port();
  const std::string command =
      "timeout 20 " + std::string(FJORD_BINARY) + " broker --data-dir " + ca_->directory() + "/lone --node-id 1" +
      " --metadata etcd://" + etcd_.endpoint() + " --listen 127.0.0.1:" + std::to_string(port) +
      " --admin-listen 127.0.0.1:" + std::to_string(free_port()) +
      " --set listeners=SASL_SSL://127.0.0.1:" + std::to_string(port) +
      " --set sasl.enabled.mechanisms=SCRAM-SHA-512 --set sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512" +
      " --set ssl.keystore.location=" + keystore_ + " 2>&1";
  const auto output = run_command(command);
  EXPECT_NE(
      output.find("give this broker's user and password as listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"),
      std::string::npos)
      << output;
  EXPECT_NE(output.find("(exit status 1)"), std::string::npos) << output;
}

}  // namespace
}  // namespace fjord::testing
