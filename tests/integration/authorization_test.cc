// ACLs with real clients (librdkafka 2.0.2 over SASL_PLAINTEXT as two users) and raw requests: every refusal is
// Kafka's error code and has no effect; prefixed and wildcard bindings, DENY over ALLOW, a super user; a client
// claiming a replica id is refused; an API without per-resource checks is served to cluster administrators only.
#include <gtest/gtest.h>

#include <fstream>

#include "model/error_codes.h"
#include "protocol/messages/alter_client_quotas.h"
#include "protocol/messages/consumer_group_heartbeat.h"
#include "protocol/messages/describe_client_quotas.h"
#include "protocol/messages/describe_log_dirs.h"
#include "protocol/messages/describe_producers.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/write_txn_markers.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"

namespace fjord::testing {
namespace {

using namespace std::string_literals;

class AuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sasl_port_ = free_port();
    broker_.add_args({"--set",
                      "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(broker_.port()) +
                          ",SASL_PLAINTEXT://127.0.0.1:" + std::to_string(sasl_port_),
                      "--set", "sasl.enabled.mechanisms=SCRAM-SHA-256,PLAIN", "--set",
                      "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer", "--set",
                      // The plaintext listener is the operator's (and the tests' admin): its clients are ANONYMOUS.
                      "super.users=User:ANONYMOUS;User:root"});
    broker_.start();
    for (const auto& user : {"alice", "bob", "root"}) {
      const std::string file = broker_.data_dir() + "-" + user + ".password";
      std::ofstream(file) << user << "-password\n";
      ASSERT_EQ(fjord("user create "s + user + " --password-file " + file).find("exit status"), std::string::npos);
    }
    Admin admin(broker_.bootstrap());
    for (const auto& topic : {"orders-eu", "orders-secret", "payments"}) {
      ASSERT_EQ(admin.create_topic(topic, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    // alice: everything on orders-* but reading orders-secret, the billing group, transactional id tx-alice.
    grant("--principal User:alice --operation WRITE --topic orders- --prefixed");
    grant("--principal User:alice --operation READ --topic orders- --prefixed");
    grant("--principal User:alice --operation READ --topic orders-secret --deny");
    grant("--principal User:alice --operation READ --group billing");
    grant("--principal User:alice --operation WRITE --transactional-id tx-alice");
  }

  std::string fjord(const std::string& args) {
    return run_command(std::string(FJORD_BINARY) + " " + args + " --bootstrap-server " + broker_.bootstrap());
  }
  void grant(const std::string& args) {
    auto out = fjord("acl create " + args);
    ASSERT_EQ(out.find("exit status"), std::string::npos) << out;
  }
  std::map<std::string, std::string> as(const std::string& user) const {
    return {{"security.protocol", "SASL_PLAINTEXT"},
            {"sasl.mechanisms", "SCRAM-SHA-256"},
            {"sasl.username", user},
            {"sasl.password", user + "-password"}};
  }
  std::string sasl_bootstrap() const { return "127.0.0.1:" + std::to_string(sasl_port_); }
  // Authenticates a raw connection to the SASL listener as `user` (PLAIN).
  static void authenticate_raw(RawClient& client, const std::string& user) {
    ASSERT_TRUE(sasl_plain_login(client, user, user + "-password"));
  }

  // The delivery error of one record produced as `user` to `topic`.
  RdKafka::ErrorCode produce_one(const std::string& user, const std::string& topic,
                                 std::map<std::string, std::string> extra = {}) {
    auto settings = as(user);
    settings["message.timeout.ms"] = "5000";
    settings.insert(extra.begin(), extra.end());
    TestProducer producer(sasl_bootstrap(), settings);
    producer.produce(topic, 0, 5, 0);
    producer.flush(10000);
    return producer.deliveries.empty() ? RdKafka::ERR__TIMED_OUT : producer.deliveries.begin()->second.error;
  }
  int64_t end_offset(const std::string& topic) {
    return static_cast<int64_t>(consume(broker_.bootstrap(), topic, {0}, 0, 100, 2000).size());
  }
  // The error a consumer in `group` meets, subscribed to `topic` as `user`: NO_ERROR once it read a record.
  RdKafka::ErrorCode group_consume(const std::string& user, const std::string& group, const std::string& topic) {
    auto conf = client_conf(sasl_bootstrap(), as(user));
    std::string error;
    conf->set("group.id", group, error);
    conf->set("auto.offset.reset", "earliest", error);
    std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
    consumer->subscribe({topic});
    RdKafka::ErrorCode seen = RdKafka::ERR__TIMED_OUT;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
      if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) continue;
      seen = m->err();
      if (seen == RdKafka::ERR_NO_ERROR) consumer->commitSync();
      break;
    }
    consumer->close();
    return seen;
  }

  BrokerProcess broker_;
  int sasl_port_ = 0;
};

TEST_F(AuthorizationTest, ProduceIsRefusedWithoutWriteAndWritesNothing) {
  EXPECT_EQ(produce_one("alice", "orders-eu"), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(produce_one("alice", "payments"), RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);
  EXPECT_EQ(produce_one("bob", "orders-eu"), RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);
  EXPECT_EQ(end_offset("payments"), 0);
  EXPECT_EQ(end_offset("orders-eu"), 1);
  // A super user writes anywhere.
  EXPECT_EQ(produce_one("root", "payments"), RdKafka::ERR_NO_ERROR);
}

TEST_F(AuthorizationTest, FetchAndGroupsNeedReadAndDenyWins) {
  ASSERT_EQ(produce_one("alice", "orders-eu"), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(produce_one("alice", "orders-secret"), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(group_consume("alice", "billing", "orders-eu"), RdKafka::ERR_NO_ERROR);
  EXPECT_EQ(group_consume("alice", "other", "orders-eu"), RdKafka::ERR_GROUP_AUTHORIZATION_FAILED);
  // Refused reads return nothing (librdkafka reports the error, or keeps retrying in silence).
  auto readable = [&](const std::string& topic, const std::string& user) {
    try {
      return consume(sasl_bootstrap(), topic, {0}, 0, 1, 5000, as(user)).size();
    } catch (const std::runtime_error&) {
      return size_t{0};
    }
  };
  EXPECT_EQ(readable("orders-secret", "alice"), 0u);
  EXPECT_EQ(readable("orders-eu", "bob"), 0u);
  EXPECT_EQ(readable("orders-eu", "alice"), 1u);
  EXPECT_GE(broker_.metric("fjord_requests_total", {{"api", "Fetch"}}), 3);
  // The committed offset is there for billing only.
  auto listed = fjord("group describe billing --format json");
  EXPECT_NE(listed.find("orders-eu"), std::string::npos) << listed;
}

TEST_F(AuthorizationTest, TopicCreationNeedsCreateAndMetadataHidesWhatCannotBeDescribed) {
  Admin alice(sasl_bootstrap(), as("alice"));
  EXPECT_EQ(alice.create_topic("orders-us", 1), RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  grant("--principal User:alice --operation CREATE --topic orders- --prefixed");
  EXPECT_EQ(alice.create_topic("orders-us", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  EXPECT_EQ(alice.create_topic("elsewhere", 1), RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  auto topics = alice.list_topics();
  EXPECT_NE(std::find(topics.begin(), topics.end(), "orders-us"), topics.end());
  EXPECT_EQ(std::find(topics.begin(), topics.end(), "payments"), topics.end());
  EXPECT_EQ(alice.delete_topic("orders-us"), RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

TEST_F(AuthorizationTest, ATransactionalProducerNeedsWriteOnItsTransactionalId) {
  auto settings = as("alice");
  settings["transactional.id"] = "tx-mallory";
  auto conf = client_conf(sasl_bootstrap(), settings);
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
  std::unique_ptr<RdKafka::Error> failure(producer->init_transactions(10000));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->code(), RdKafka::ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED) << failure->str();

  settings["transactional.id"] = "tx-alice";
  auto allowed_conf = client_conf(sasl_bootstrap(), settings);
  std::unique_ptr<RdKafka::Producer> allowed(RdKafka::Producer::create(allowed_conf.get(), error));
  std::unique_ptr<RdKafka::Error> none(allowed->init_transactions(10000));
  EXPECT_FALSE(none) << none->str();
}

TEST_F(AuthorizationTest, AClientClaimingAReplicaIdIsRefused) {
  ASSERT_EQ(produce_one("alice", "orders-eu"), RdKafka::ERR_NO_ERROR);
  RawClient client(broker_.port());
  protocol::FetchRequest fetch;
  fetch.replica_id = 1;  // as if it were a follower: it would read past the high watermark
  fetch.max_wait_ms = 0;
  fetch.max_bytes = 1 << 20;
  auto& topic = fetch.topics.emplace_back();
  topic.topic = "orders-eu";
  auto& partition = topic.partitions.emplace_back();
  partition.partition = 0;
  partition.partition_max_bytes = 1 << 20;
  client.send(fetch, 11, 1);
  auto frame = client.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<protocol::FetchResponse>(*frame, 11, false, nullptr);
  EXPECT_EQ(response.error_code, 31);  // CLUSTER_AUTHORIZATION_FAILED
  EXPECT_TRUE(response.responses.empty());
}

// The administrative APIs check what Kafka checks, and answer its error codes: configs (DESCRIBE_CONFIGS and
// ALTER_CONFIGS on the topic), partitions (ALTER on the topic), group deletion (DELETE on the group), log
// directories and reassignments (DESCRIBE on the cluster), a partition's producers (READ on the topic). Fjord's own
// tools, librdkafka underneath, run as alice with Kafka's client settings file.
TEST_F(AuthorizationTest, AdminApisCheckEachResourceWithKafkasErrors) {
  const std::string settings = broker_.data_dir() + "-alice.properties";
  std::ofstream(settings) << "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.username=alice\n"
                          << "sasl.password=alice-password\n";
  auto as_alice = [&](const std::string& args) {
    return run_command(std::string(FJORD_BINARY) + " " + args + " --bootstrap-server " + sasl_bootstrap() +
                       " --command-config " + settings + " 2>&1");
  };
  auto refused = [](const std::string& output) { return output.find("(exit status") != std::string::npos; };

  auto altered = as_alice("topic alter orders-eu --config retention.ms=3600000");
  EXPECT_TRUE(refused(altered)) << altered;
  EXPECT_NE(altered.find("uthoriz"), std::string::npos) << altered;
  EXPECT_EQ(fjord("topic describe orders-eu --format json").find("3600000"), std::string::npos) << "nothing changed";
  grant("--principal User:alice --operation ALTER_CONFIGS --topic orders-eu");
  altered = as_alice("topic alter orders-eu --config retention.ms=3600000");
  EXPECT_FALSE(refused(altered)) << altered;

  auto grown = as_alice("topic alter orders-eu --partitions 2");
  EXPECT_TRUE(refused(grown)) << grown;
  grant("--principal User:alice --operation ALTER --topic orders-eu");
  grown = as_alice("topic alter orders-eu --partitions 2");
  EXPECT_FALSE(refused(grown)) << grown;

  ASSERT_EQ(produce_one("alice", "orders-eu"), RdKafka::ERR_NO_ERROR);
  ASSERT_EQ(group_consume("alice", "billing", "orders-eu"), RdKafka::ERR_NO_ERROR);
  auto deleted = as_alice("group delete billing");
  EXPECT_TRUE(refused(deleted)) << deleted;
  EXPECT_NE(fjord("group list").find("billing"), std::string::npos) << "the group is still there";
  grant("--principal User:alice --operation DELETE --group billing");
  deleted = as_alice("group delete billing");
  EXPECT_FALSE(refused(deleted)) << deleted;

  // Raw requests for what the tools do not send.
  RawClient alice(sasl_port_);
  authenticate_raw(alice, "alice");
  RawClient administrator(broker_.port());
  auto log_dirs = [](RawClient& client) {
    client.send(protocol::DescribeLogDirsRequest{}, 3, 9);
    auto frame = client.receive(std::chrono::seconds(5));
    EXPECT_TRUE(frame);
    return frame ? RawClient::decode<protocol::DescribeLogDirsResponse>(*frame, 3, true, nullptr)
                 : protocol::DescribeLogDirsResponse{};
  };
  auto refused_dirs = log_dirs(alice);
  EXPECT_EQ(refused_dirs.error_code, wire(ErrorCode::kClusterAuthorizationFailed));
  EXPECT_TRUE(refused_dirs.results.empty());
  auto dirs = log_dirs(administrator);
  EXPECT_EQ(dirs.error_code, 0);
  EXPECT_EQ(dirs.results.size(), 1u);

  auto producers = [](RawClient& client, const std::string& topic) {
    protocol::DescribeProducersRequest request;
    auto& t = request.topics.emplace_back();
    t.name = topic;
    t.partition_indexes = {0};
    client.send(request, 0, 10);
    auto frame = client.receive(std::chrono::seconds(5));
    EXPECT_TRUE(frame);
    return frame ? RawClient::decode<protocol::DescribeProducersResponse>(*frame, 0, true, nullptr)
                       .topics.at(0)
                       .partitions.at(0)
                       .error_code
                 : int16_t{-1};
  };
  EXPECT_EQ(producers(alice, "orders-eu"), 0);
  EXPECT_EQ(producers(alice, "payments"), wire(ErrorCode::kTopicAuthorizationFailed));

  // A consumer-protocol member needs READ on its group and DESCRIBE on the topics it names.
  auto heartbeat = [](RawClient& client, const std::string& group, const std::string& topic) {
    protocol::ConsumerGroupHeartbeatRequest request;
    request.group_id = group;
    request.member_id = "m-1";
    request.rebalance_timeout_ms = 30000;
    request.subscribed_topic_names = std::vector<std::string>{topic};
    request.topic_partitions.emplace();
    client.send(request, 1, 11);
    auto frame = client.receive(std::chrono::seconds(5));
    EXPECT_TRUE(frame);
    return frame ? RawClient::decode<protocol::ConsumerGroupHeartbeatResponse>(*frame, 1, true, nullptr).error_code
                 : int16_t{-1};
  };
  EXPECT_EQ(heartbeat(alice, "strangers", "orders-eu"), wire(ErrorCode::kGroupAuthorizationFailed));
  grant("--principal User:alice --operation READ --group consumers");
  EXPECT_EQ(heartbeat(alice, "consumers", "payments"), wire(ErrorCode::kTopicAuthorizationFailed));
  EXPECT_EQ(heartbeat(alice, "consumers", "orders-eu"), 0);

  // WriteTxnMarkers is for brokers: from a client without CLUSTER_ACTION it ends the connection.
  protocol::WriteTxnMarkersRequest markers;
  alice.send(markers, 1, 12);
  EXPECT_FALSE(alice.receive(std::chrono::seconds(5)).has_value());
  EXPECT_TRUE(alice.closed_by_broker());
  EXPECT_GE(broker_.metric("fjord_connections_refused_total", {{"reason", "unauthorized_api"}}), 1);
}

TEST_F(AuthorizationTest, AnEmptyOffsetCommitWithoutReadOnTheGroupCreatesNothing) {
  RawClient bob(sasl_port_);
  authenticate_raw(bob, "bob");
  protocol::OffsetCommitRequest commit;
  commit.group_id = "sneaky";
  commit.generation_id_or_member_epoch = -1;
  bob.send(commit, 2, 3);
  ASSERT_TRUE(bob.receive());
  RawClient administrator(broker_.port());
  administrator.send(protocol::ListGroupsRequest{}, 3, 4);
  auto frame = administrator.receive();
  ASSERT_TRUE(frame);
  auto groups = RawClient::decode<protocol::ListGroupsResponse>(*frame, 3, true, nullptr);
  for (const auto& g : groups.groups) EXPECT_NE(g.group_id, "sneaky");
}

TEST_F(AuthorizationTest, QuotasAreChangedOnlyWithAlterConfigsAndReadOnlyWithDescribeConfigsOnTheCluster) {
  auto alter = [](RawClient& client) {
    protocol::AlterClientQuotasRequest request;
    auto& entry = request.entries.emplace_back();
    entry.entity.push_back({"user", std::string("alice"), {}});
    entry.ops.push_back({"producer_byte_rate", 1e12, false, {}});
    client.send(request, 1, 5);
    auto frame = client.receive();
    EXPECT_TRUE(frame);
    return frame ? RawClient::decode<protocol::AlterClientQuotasResponse>(*frame, 1, true, nullptr)
                       .entries.at(0)
                       .error_code
                 : int16_t{-1};
  };
  auto describe = [](RawClient& client) {
    client.send(protocol::DescribeClientQuotasRequest{}, 1, 6);
    auto frame = client.receive();
    EXPECT_TRUE(frame);
    return frame ? RawClient::decode<protocol::DescribeClientQuotasResponse>(*frame, 1, true, nullptr).error_code
                 : int16_t{-1};
  };
  RawClient alice(sasl_port_);
  authenticate_raw(alice, "alice");
  EXPECT_EQ(alter(alice), wire(ErrorCode::kClusterAuthorizationFailed)) << "no raising one's own quota";
  EXPECT_EQ(describe(alice), wire(ErrorCode::kClusterAuthorizationFailed));
  EXPECT_EQ(fjord("quota list --format json"), "[]\n") << "nothing was stored";
  grant("--principal User:alice --operation DESCRIBE_CONFIGS --cluster");
  EXPECT_EQ(describe(alice), 0);
  EXPECT_EQ(alter(alice), wire(ErrorCode::kClusterAuthorizationFailed)) << "describing is not altering";
  RawClient administrator(broker_.port());
  EXPECT_EQ(alter(administrator), 0);
}

TEST_F(AuthorizationTest, AclsAreListedAndDeletedWithTheTool) {
  auto listed = fjord("acl list --principal User:alice --format json");
  EXPECT_NE(listed.find("\"orders-\""), std::string::npos) << listed;
  EXPECT_NE(listed.find("PREFIXED"), std::string::npos);
  EXPECT_NE(listed.find("\"DENY\""), std::string::npos);
  auto deleted = fjord("acl delete --principal User:alice --topic orders- --prefixed");
  EXPECT_NE(deleted.find("deleted 2 ACL(s)"), std::string::npos) << deleted;
  EXPECT_EQ(produce_one("alice", "orders-eu"), RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED);
}

}  // namespace
}  // namespace fjord::testing
