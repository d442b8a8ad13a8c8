#include "cli/demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/admin.h"
#include "client/shutdown.h"
#include "client/sinks/sqlite_sink.h"
#include "examples/payments/payments.h"

namespace fjord::cli {
namespace {

constexpr const char* kTopic = "fjord-demo";
constexpr int kRecords = 10;

bool create_topic(const std::string& bootstrap, int replication_factor,
                  const std::map<std::string, std::string>& client_settings) try {
  client::NewTopic topic{kTopic, 3, replication_factor, {}};
  if (replication_factor >= 3) topic.configs["min.insync.replicas"] = "2";
  client::AdminClient admin(bootstrap, client_settings);
  if (admin.create_topics({topic}, /*exist_ok=*/true).at(0)) {
    std::printf("  created topic %s with 3 partitions, %d replica(s) each%s\n", kTopic, replication_factor,
                replication_factor >= 3 ? ", min.insync.replicas=2" : "");
  } else {
    std::printf("  topic %s already exists (kept from an earlier run)\n", kTopic);
  }
  return true;
} catch (const std::exception& e) {
  std::printf("  %s\n", e.what());
  return false;
}

}  // namespace

bool run_demo(const std::string& bootstrap, int replication_factor,
              const std::map<std::string, std::string>& client_settings) {
  std::printf("demo: a librdkafka %s client against %s\n", RdKafka::version_str().c_str(), bootstrap.c_str());
  if (!create_topic(bootstrap, replication_factor, client_settings)) return false;
  std::string error;

  std::unique_ptr<RdKafka::Conf> producer_conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  producer_conf->set("bootstrap.servers", bootstrap, error);
  for (const auto& [key, value] : client_settings) producer_conf->set(key, value, error);
  producer_conf->set("acks", "all", error);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(producer_conf.get(), error));
  if (!producer) {
    std::printf("  cannot start a producer: %s\n", error.c_str());
    return false;
  }
  std::string run = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kRecords; ++i) {
    std::string key = "order-" + std::to_string(i);
    std::string value = "{\"run\":" + run + ",\"order\":" + std::to_string(i) + "}";
    producer->produce(kTopic, 0, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), key.data(), key.size(), 0,
                      nullptr);
  }
  // A new topic in a cluster has leaders once the controller has placed it: the producer waits for them.
  if (producer->flush(30000) != RdKafka::ERR_NO_ERROR) {
    std::printf("  producing timed out\n");
    return false;
  }
  auto produced_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::printf(
      "  produced %d records to %s partition 0 with acks=all in %lld ms (each fsynced%s before it was "
      "acknowledged)\n",
      kRecords, kTopic, static_cast<long long>(produced_ms.count()),
      replication_factor > 1 ? " and on every in-sync replica" : "");

  std::unique_ptr<RdKafka::Conf> consumer_conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  consumer_conf->set("bootstrap.servers", bootstrap, error);
  for (const auto& [key, value] : client_settings) consumer_conf->set(key, value, error);
  std::unique_ptr<RdKafka::Consumer> consumer(RdKafka::Consumer::create(consumer_conf.get(), error));
  std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(consumer.get(), kTopic, nullptr, error));
  consumer->start(topic.get(), 0, RdKafka::Topic::OFFSET_BEGINNING);
  std::vector<std::string> seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int64_t first_offset = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> message(consumer->consume(topic.get(), 0, 200));
    if (message->err() == RdKafka::ERR__TIMED_OUT || message->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (message->err()) {
      std::printf("  consume error: %s\n", message->errstr().c_str());
      break;
    }
    std::string value(static_cast<const char*>(message->payload()), message->len());
    if (value.find("\"run\":" + run + ",") == std::string::npos) continue;  // an earlier run's records
    if (first_offset < 0) first_offset = message->offset();
    seen.push_back(value);
    if (static_cast<int>(seen.size()) == kRecords) break;
  }
  consumer->stop(topic.get(), 0);
  bool complete = static_cast<int>(seen.size()) == kRecords;
  for (int i = 0; complete && i < kRecords; ++i) {
    complete = seen[static_cast<size_t>(i)].find("\"order\":" + std::to_string(i) + "}") != std::string::npos;
  }
  std::printf("  consumed %zu of %d records back from offset %lld, %s\n", seen.size(), kRecords,
              static_cast<long long>(first_offset), complete ? "in order: the demo worked" : "NOT all of them");
  return complete;
}

bool run_payments_example(const std::string& bootstrap, int replication_factor, const std::string& ledger_path) try {
  constexpr int kPayments = 1000;
  std::printf("payments example: a producer of payment events and a ledger service (a consumer group of two)\n");
  client::NewTopic topic{"payments", 6, replication_factor, {}};
  if (replication_factor >= 3) topic.configs["min.insync.replicas"] = "2";
  client::AdminClient(bootstrap).create_topics({topic}, /*exist_ok=*/true);
  const int64_t acknowledged = examples::produce_payments(bootstrap, "payments", kPayments, 10, /*copies=*/2);
  std::printf("  sent %d payments twice each (a retrying upstream): %lld sends acknowledged\n", kPayments,
              static_cast<long long>(acknowledged));
  examples::LedgerStats stats[2];
  std::thread members[2];
  for (int i = 0; i < 2; ++i) {
    members[i] = std::thread([&, i] {
      stats[i] =
          examples::run_ledger_member(bootstrap, "payments", "ledger", ledger_path, "ledger-" + std::to_string(i + 1));
    });
  }
  // The service runs until stopped; the example stops it once every payment is in the ledger (or after a minute).
  {
    client::SqliteSink ledger(ledger_path, "ledger");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (ledger.count() < static_cast<size_t>(kPayments) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  client::request_shutdown();
  for (auto& m : members) m.join();
  client::reset_shutdown();
  const int64_t booked = stats[0].booked + stats[1].booked;
  const int64_t absorbed = stats[0].absorbed + stats[1].absorbed;
  int64_t total = 0;
  for (const auto& [account, cents] : examples::balances(ledger_path)) total += cents;
  std::printf("  ledger %s: %lld payments booked, %lld duplicates absorbed by event id, %.2f in total\n",
              ledger_path.c_str(), static_cast<long long>(booked), static_cast<long long>(absorbed), total / 100.0);
  const size_t rows = client::SqliteSink(ledger_path, "ledger").count();
  std::printf("  %s: the ledger holds %zu payments for %d sent\n", rows == kPayments ? "ok" : "FAILED", rows,
              kPayments);
  return rows == kPayments;
} catch (const std::exception& e) {
  std::printf("  payments example failed: %s\n", e.what());
  return false;
}

bool run_payments_exactly_once_example(const std::string& bootstrap, int replication_factor) try {
  constexpr int kPayments = 1000;
  const std::string input = "payments-once", postings = "ledger-postings", group = "ledger-exactly-once";
  std::printf(
      "payments example, exactly once: a ledger kept in a topic, written in transactions with its input "
      "offsets\n");
  std::vector<client::NewTopic> topics{{input, 6, replication_factor, {}}, {postings, 6, replication_factor, {}}};
  for (auto& topic : topics) {
    if (replication_factor >= 3) topic.configs["min.insync.replicas"] = "2";
  }
  client::AdminClient(bootstrap).create_topics(topics, /*exist_ok=*/true);
  const int64_t acknowledged = examples::produce_payments(bootstrap, input, kPayments, 10);
  std::printf("  sent %d payments (idempotent producer): %lld acknowledged\n", kPayments,
              static_cast<long long>(acknowledged));
  auto member = [&](const std::string& instance) {
    return std::thread([&, instance] {
      try {
        examples::run_posting_member(bootstrap, input, group, postings, instance);
      } catch (const std::exception& e) {
        std::printf("  member %s stopped: %s\n", instance.c_str(), e.what());
      }
    });
  };
  std::thread members[2] = {member("postings-1"), member("postings-2")};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto posted = [&] { return examples::read_postings(bootstrap, postings, std::chrono::seconds(10)).records; };
  while (posted() < kPayments && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  client::request_shutdown();
  for (auto& m : members) m.join();
  client::reset_shutdown();
  const auto result = examples::read_postings(bootstrap, postings);
  int twice = 0;
  for (const auto& [event, count] : result.per_payment) twice += count > 1 ? 1 : 0;
  int64_t total = 0;
  for (const auto& [account, cents] : result.balances) total += cents;
  std::printf("  %s: %lld postings for %zu distinct payments (%d posted more than once), %.2f in total\n",
              postings.c_str(), static_cast<long long>(result.records), result.per_payment.size(), twice,
              total / 100.0);
  const bool ok = result.records == kPayments && result.per_payment.size() == kPayments && twice == 0;
  std::printf("  %s: every payment posted exactly once\n", ok ? "ok" : "FAILED");
  return ok;
} catch (const std::exception& e) {
  std::printf("  payments example (exactly once) failed: %s\n", e.what());
  return false;
}

bool run_example(const std::string& name, const std::string& bootstrap, int replication_factor,
                 const std::string& data_dir) {
  if (name == "payments") return run_payments_example(bootstrap, replication_factor, data_dir + "/payments-ledger.db");
  if (name == "payments-exactly-once") return run_payments_exactly_once_example(bootstrap, replication_factor);
  return true;  // no example asked for
}

}  // namespace fjord::cli
