// The checklist audit against real clients: librdkafka configured unsafely (acks=1 without idempotence; a consumer
// with its default eager strategies and no group.instance.id) is named by the right rules, with its client.id and
// the software it reported; the SDK's defaults (acks=all, idempotence, cooperative-sticky, static membership)
// produce no finding. Read back from /api/audit and fjord_checklist_violations, and through `fjord audit`,
// against Fjord and against Apache Kafka.
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/consumer.h"
#include "client/producer.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"
#include "tests/support/three_broker_cluster.h"

namespace fjord::testing {
namespace {

nlohmann::json api_audit(const BrokerProcess& broker) {
  httplib::Client client("127.0.0.1", broker.admin_port());
  auto response = client.Get("/api/audit");
  if (!response || response->status != 200) return nullptr;
  return nlohmann::json::parse(response->body);
}

// The rules the audit names a client by.
std::multiset<std::string> rules_for(const nlohmann::json& audit, const std::string& client_id) {
  std::multiset<std::string> out;
  for (const auto& f : audit["findings"]) {
    if (f["subject_kind"] == "client" && f["subject"].get<std::string>().starts_with("client.id=" + client_id + " ")) {
      out.insert(f["rule"].get<std::string>());
    }
  }
  return out;
}

// Joins `group` and consumes until the member has partitions, then leaves it running for `seconds`.
void join_with_librdkafka(const std::string& bootstrap, const std::string& group, const std::string& client_id) {
  auto conf = client_conf(bootstrap, {{"group.id", group}, {"client.id", client_id}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  ASSERT_EQ(consumer->subscribe({"orders"}), RdKafka::ERR_NO_ERROR);
  ASSERT_TRUE(wait_until(
      [&] {
        delete consumer->consume(100);
        std::vector<RdKafka::TopicPartition*> assigned;
        consumer->assignment(assigned);
        const bool owned = !assigned.empty();
        RdKafka::TopicPartition::destroy(assigned);
        return owned;
      },
      std::chrono::seconds(30)));
  consumer->close();
}

TEST(ChecklistAudit, UnsafeClientsAreNamedByTheirRuleAndTheSdkDefaultsAreNot) {
  BrokerProcess broker;
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(admin.create_topic("orders", 1), RD_KAFKA_RESP_ERR_NO_ERROR);

  // librdkafka, unsafe: acks=1 and no idempotence.
  {
    auto conf = client_conf(broker.bootstrap(),
                            {{"client.id", "legacy-producer"}, {"acks", "1"}, {"enable.idempotence", "false"}});
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    ASSERT_TRUE(producer) << error;
    ASSERT_EQ(producer->produce("orders", 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>("x"), 1, nullptr, 0, 0,
                                nullptr),
              RdKafka::ERR_NO_ERROR);
    ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
  }
  // The SDK's producer: acks=all with idempotence.
  {
    client::Producer producer(
        {.bootstrap_servers = broker.bootstrap(), .properties = {{"client.id", "safe-producer"}}});
    ASSERT_TRUE(producer.send("orders", "k", "v").get().ok());
  }
  // librdkafka's consumer with its defaults: range,roundrobin and no group.instance.id.
  join_with_librdkafka(broker.bootstrap(), "eager-group", "eager-consumer");
  // The SDK's consumer: cooperative-sticky and static membership.
  {
    client::Consumer consumer({.bootstrap_servers = broker.bootstrap(),
                               .group_id = "safe-group",
                               .topics = {"orders"},
                               .properties = {{"client.id", "safe-consumer"}, {"group.instance.id", "safe-1"}}});
    std::atomic<bool> got{false};
    std::thread stopper([&] {
      wait_until([&] { return got.load(); }, std::chrono::seconds(30));
      consumer.stop();
    });
    consumer.run([&](const client::Batch&) {
      got = true;
      return client::BatchResult::kDone;
    });
    stopper.join();
    ASSERT_TRUE(got);
  }

  nlohmann::json audit;
  ASSERT_TRUE(wait_until(
      [&] {
        audit = api_audit(broker);
        return !audit.is_null() && rules_for(audit, "eager-consumer").size() == 2 &&
               rules_for(audit, "legacy-producer").size() == 2;
      },
      std::chrono::seconds(15)))
      << audit.dump(2);
  EXPECT_EQ(rules_for(audit, "legacy-producer"),
            (std::multiset<std::string>{"producer-acks-all", "producer-idempotence"}));
  EXPECT_EQ(rules_for(audit, "eager-consumer"),
            (std::multiset<std::string>{"consumer-cooperative", "consumer-static-membership"}));
  EXPECT_TRUE(rules_for(audit, "safe-producer").empty()) << audit.dump(2);
  EXPECT_TRUE(rules_for(audit, "safe-consumer").empty()) << audit.dump(2);
  // Each finding says why and what to set; clients are named with the software they reported.
  bool named_software = false;
  for (const auto& f : audit["findings"]) {
    EXPECT_FALSE(f["reason"].get<std::string>().empty());
    EXPECT_FALSE(f["fix"].get<std::string>().empty());
    if (f["rule"] == "producer-acks-all") {
      EXPECT_EQ(f["fix"], "acks=all (with min.insync.replicas=2 on the topic)");
      named_software = f["subject"].get<std::string>().find("(librdkafka ") != std::string::npos;
    }
  }
  EXPECT_TRUE(named_software) << audit.dump(2);
  // The observed clients are listed too, with what they did.
  bool listed = false;
  for (const auto& c : audit["clients"]) {
    if (c["client_id"] != "safe-consumer") continue;
    listed = true;
    EXPECT_EQ(c["groups"]["safe-group"]["protocols"], nlohmann::json::array({"cooperative-sticky"}));
    EXPECT_EQ(c["groups"]["safe-group"]["group_instance_id"], "safe-1");
  }
  EXPECT_TRUE(listed) << audit.dump(2);
  EXPECT_EQ(broker.metric("fjord_checklist_violations", {{"rule", "producer-acks-all"}}), 1);
  EXPECT_EQ(broker.metric("fjord_checklist_violations", {{"rule", "consumer-cooperative"}}), 1);
  // The single broker's topics have one replica: named too.
  EXPECT_GE(broker.metric("fjord_checklist_violations", {{"rule", "topic-replication-factor"}}), 1);
}

struct AuditRun {
  int exit_status = 0;
  nlohmann::json report;
};

AuditRun run_audit(const std::string& bootstrap, const std::string& arguments) {
  std::string output =
      run_command(std::string(FJORD_BINARY) + " audit --format json --bootstrap-server " + bootstrap + " " + arguments);
  AuditRun run;
  auto status = output.rfind("(exit status ");
  if (status != std::string::npos) {
    run.exit_status = std::stoi(output.substr(status + 13));
    output.resize(status);
  }
  run.report = nlohmann::json::parse(output, nullptr, false);
  return run;
}

bool has_finding(const nlohmann::json& report, const std::string& rule, const std::string& subject_prefix) {
  for (const auto& f : report["findings"]) {
    if (f["rule"] == rule && f["subject"].get<std::string>().starts_with(subject_prefix)) return true;
  }
  return false;
}

// `fjord audit` against the cluster at `bootstrap`: topics and groups through the Admin API, with a member of an
// eager group running meanwhile.
void check_audit_command(const std::string& bootstrap) {
  Admin admin(bootstrap);
  ASSERT_EQ(admin.create_topic("audit-one-replica", 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto conf = client_conf(bootstrap, {{"group.id", "audit-eager"}, {"client.id", "audit-eager-member"}});
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  ASSERT_TRUE(consumer) << error;
  ASSERT_EQ(consumer->subscribe({"audit-one-replica"}), RdKafka::ERR_NO_ERROR);
  std::atomic<bool> joined{false}, done{false};
  std::thread poller([&] {
    while (!done) {
      delete consumer->consume(100);
      std::vector<RdKafka::TopicPartition*> assigned;
      consumer->assignment(assigned);
      if (!assigned.empty()) joined = true;
      RdKafka::TopicPartition::destroy(assigned);
    }
  });
  ASSERT_TRUE(wait_until([&] { return joined.load(); }, std::chrono::seconds(30)));
  auto run = run_audit(bootstrap, "");
  done = true;
  poller.join();
  consumer->close();
  ASSERT_FALSE(run.report.is_discarded());
  EXPECT_EQ(run.exit_status, 3) << run.report.dump(2);
  EXPECT_TRUE(has_finding(run.report, "topic-replication-factor", "audit-one-replica")) << run.report.dump(2);
  EXPECT_TRUE(has_finding(run.report, "topic-min-insync-replicas", "audit-one-replica") == false);
  EXPECT_TRUE(has_finding(run.report, "consumer-cooperative", "audit-eager")) << run.report.dump(2);
  EXPECT_TRUE(has_finding(run.report, "consumer-static-membership", "audit-eager")) << run.report.dump(2);
  EXPECT_FALSE(run.report["not_checked"].empty()) << "the client checks need a Fjord broker";
}

TEST(ChecklistAudit, TheAuditCommandChecksTopicsAndGroupsAndWithAdminTheBrokersClients) {
  BrokerProcess broker;
  broker.start();
  check_audit_command(broker.bootstrap());
  // With the broker's admin listener: what it saw its clients do.
  {
    auto conf = client_conf(broker.bootstrap(),
                            {{"client.id", "audit-legacy"}, {"acks", "1"}, {"enable.idempotence", "false"}});
    std::string error;
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    ASSERT_EQ(producer->produce("audit-one-replica", 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>("x"), 1,
                                nullptr, 0, 0, nullptr),
              RdKafka::ERR_NO_ERROR);
    ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);
  }
  AuditRun run;
  ASSERT_TRUE(wait_until(
      [&] {
        run = run_audit(broker.bootstrap(), "--admin 127.0.0.1:" + std::to_string(broker.admin_port()));
        return !run.report.is_discarded() && has_finding(run.report, "producer-acks-all", "client.id=audit-legacy ");
      },
      std::chrono::seconds(15)))
      << run.report.dump(2);
  EXPECT_EQ(run.exit_status, 3);
  EXPECT_TRUE(has_finding(run.report, "producer-idempotence", "client.id=audit-legacy ")) << run.report.dump(2);
  EXPECT_TRUE(run.report["not_checked"].empty());
}

// Enforcement per topic: with fjord.require.acks.all and fjord.require.idempotence set, librdkafka at acks=1 or
// without idempotence is refused with POLICY_VIOLATION and a message naming the setting to change (read raw, as
// librdkafka 2.0.2 does not show it), an acks=0 write closes its connection, and the SDK's producer is accepted.
TEST(ChecklistAudit, AnEnforcingTopicRefusesUnsafeProducersWithAMessageAndAcceptsSafeOnes) {
  BrokerProcess broker;
  broker.start();
  Admin admin(broker.bootstrap());
  ASSERT_EQ(
      admin.create_topic("guarded", 1, {{"fjord.require.acks.all", "true"}, {"fjord.require.idempotence", "true"}}),
      RD_KAFKA_RESP_ERR_NO_ERROR);
  auto delivery_error = [&](const std::map<std::string, std::string>& settings) {
    struct Report : RdKafka::DeliveryReportCb {
      RdKafka::ErrorCode error = RdKafka::ERR__TIMED_OUT;
      void dr_cb(RdKafka::Message& m) override { error = m.err(); }
    } report;
    auto conf = client_conf(broker.bootstrap(), settings);
    std::string error;
    conf->set("dr_cb", &report, error);
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), error));
    EXPECT_EQ(producer->produce("guarded", 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>("x"), 1, nullptr, 0, 0,
                                nullptr),
              RdKafka::ERR_NO_ERROR);
    producer->flush(10000);
    return report.error;
  };
  EXPECT_EQ(delivery_error({{"acks", "1"}, {"enable.idempotence", "false"}}), RdKafka::ERR_POLICY_VIOLATION);
  EXPECT_EQ(delivery_error({{"acks", "all"}, {"enable.idempotence", "false"}}), RdKafka::ERR_POLICY_VIOLATION);
  EXPECT_EQ(delivery_error({{"acks", "all"}, {"enable.idempotence", "true"}}), RdKafka::ERR_NO_ERROR);
  {
    client::Producer producer({.bootstrap_servers = broker.bootstrap()});
    EXPECT_TRUE(producer.send("guarded", "k", "v").get().ok()) << "the SDK's defaults are what the topic asks";
  }
  // The message says what to change.
  protocol::Record record;
  record.timestamp = 1'700'000'000'000;
  record.value = protocol::Bytes{'x'};
  protocol::ProduceRequest request;
  request.acks = 1;
  request.timeout_ms = 5000;
  auto& t = request.topic_data.emplace_back();
  t.name = "guarded";
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  p.records = protocol::Records::own(protocol::build_batch({record}, {}));
  {
    RawClient raw(broker.port());
    raw.send(request, 9, 1);
    auto frame = raw.receive();
    ASSERT_TRUE(frame);
    auto response = RawClient::decode<protocol::ProduceResponse>(*frame, 9, true, nullptr);
    const auto& answer = response.responses.at(0).partition_responses.at(0);
    EXPECT_EQ(answer.error_code, 44);
    ASSERT_TRUE(answer.error_message);
    EXPECT_NE(answer.error_message->find("set acks=all on the producer"), std::string::npos) << *answer.error_message;
  }
  // acks=0 cannot be answered: its connection is closed.
  {
    RawClient raw(broker.port());
    request.acks = 0;
    raw.send(request, 9, 2);
    EXPECT_TRUE(raw.closed_by_broker());
  }
  EXPECT_NE(broker.log().find("acks=0 produce refused"), std::string::npos);
}

// The same against Apache Kafka: run by the audit_command_kafka test under tests/with_kafka.sh, skipped elsewhere.
TEST(ChecklistAudit, TheAuditCommandChecksApacheKafkaThroughItsAdminApi) {
  const char* kafka = std::getenv("FJORD_KAFKA_BOOTSTRAP");
  if (!kafka || !*kafka) GTEST_SKIP() << "FJORD_KAFKA_BOOTSTRAP is not set: run under tests/with_kafka.sh";
  check_audit_command(kafka);
}

}  // namespace
}  // namespace fjord::testing
