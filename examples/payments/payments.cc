#include "examples/payments/payments.h"

#include <librdkafka/rdkafkacpp.h>
#include <sqlite3.h>

#include <atomic>
#include <charconv>
#include <set>
#include <vector>

#include "client/consumer.h"
#include "client/producer.h"
#include "client/sinks/sqlite_sink.h"

namespace fjord::examples {

std::string encode(const Payment& p) { return p.event_id + "," + p.account + "," + std::to_string(p.amount_cents); }

std::optional<Payment> decode(std::string_view text) {
  auto first = text.find(',');
  auto second = first == std::string_view::npos ? first : text.find(',', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  Payment p{std::string(text.substr(0, first)), std::string(text.substr(first + 1, second - first - 1)), 0};
  auto amount = text.substr(second + 1);
  auto [end, ec] = std::from_chars(amount.data(), amount.data() + amount.size(), p.amount_cents);
  if (ec != std::errc() || end != amount.data() + amount.size() || p.event_id.empty()) return std::nullopt;
  return p;
}

int64_t produce_payments(const std::string& bootstrap, const std::string& topic, int count, int accounts, int copies,
                         int first) {
  client::Producer producer({.bootstrap_servers = bootstrap});  // acks=all, idempotent: the defaults
  std::atomic<int64_t> acknowledged{0};
  for (int i = first; i < first + count; ++i) {
    Payment p{"pay-" + std::to_string(i), "acct-" + std::to_string(i % accounts), 100 + (i * 37) % 9900};
    for (int c = 0; c < copies; ++c) {
      producer.send(topic, p.account, encode(p), [&](const client::DeliveryReport& r) {
        if (r.ok()) ++acknowledged;
      });
    }
  }
  producer.flush(std::chrono::seconds(60));
  return acknowledged.load();
}

LedgerStats run_ledger_member(const std::string& bootstrap, const std::string& topic, const std::string& group,
                              const std::string& ledger_path, const std::string& instance_id) {
  client::SqliteSink ledger(ledger_path, "ledger");
  client::ConsumerSettings settings{.bootstrap_servers = bootstrap, .group_id = group, .topics = {topic}};
  settings.properties["group.instance.id"] = instance_id;  // static membership: a restart moves nothing
  client::Consumer consumer(settings);
  LedgerStats stats;
  consumer.run([&](const client::Batch& batch) {
    std::vector<client::Event> events;
    for (const auto& record : batch) {
      if (auto p = decode(record.value())) events.push_back({p->event_id, std::string(record.value())});
    }
    // One transaction per batch; the layer commits the batch's offsets only after this returned.
    const auto booked = static_cast<int64_t>(ledger.upsert_all(events));
    stats.booked += booked;
    stats.absorbed += static_cast<int64_t>(events.size()) - booked;
    return client::BatchResult::kDone;
  });
  return stats;
}

std::map<std::string, int64_t> balances(const std::string& ledger_path) {
  client::SqliteSink ledger(ledger_path, "ledger");
  std::map<std::string, int64_t> out;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(ledger.native(), "SELECT payload FROM ledger", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    if (auto p = decode(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)))) {
      out[p->account] += p->amount_cents;
    }
  }
  sqlite3_finalize(stmt);
  return out;
}

int64_t run_posting_member(const std::string& bootstrap, const std::string& topic, const std::string& group,
                           const std::string& postings_topic, const std::string& instance_id) {
  // The same transactional id for the same member across restarts: a restarted member fences its killed
  // predecessor and aborts the transaction it left open.
  client::Producer producer({.bootstrap_servers = bootstrap, .transactional_id = group + "-" + instance_id});
  client::ConsumerSettings settings{.bootstrap_servers = bootstrap, .group_id = group, .topics = {topic}};
  settings.properties["group.instance.id"] = instance_id;
  client::ConsumerOptions options;
  options.transactional_producer = &producer;
  client::Consumer consumer(settings, options);
  consumer.run([&](const client::Batch& batch) {
    for (const auto& record : batch) {
      if (auto p = decode(record.value())) producer.send(postings_topic, p->account, encode(*p), nullptr);
    }
    return client::BatchResult::kDone;  // the layer commits the postings and the batch's offsets together
  });
  return static_cast<int64_t>(consumer.metrics().records);
}

Postings read_postings(const std::string& bootstrap, const std::string& postings_topic,
                       std::chrono::milliseconds timeout) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("group.id", "postings-reader", error);  // never joins: partitions are assigned by hand
  conf->set("isolation.level", "read_committed", error);
  conf->set("enable.partition.eof", "true", error);
  conf->set("enable.auto.commit", "false", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!consumer) throw client::ClientError("postings reader: " + error);
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(consumer.get(), postings_topic, nullptr, error));
  if (consumer->metadata(false, handle.get(), &raw, 10000) != RdKafka::ERR_NO_ERROR) {
    throw client::ClientError("postings reader: no metadata for " + postings_topic);
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const auto* t : *metadata->topics()) {
    for (const auto* p : *t->partitions()) {
      partitions.push_back(RdKafka::TopicPartition::create(postings_topic, p->id(), RdKafka::Topic::OFFSET_BEGINNING));
    }
  }
  consumer->assign(partitions);
  std::set<int32_t> at_end;
  const size_t partition_count = partitions.size();
  RdKafka::TopicPartition::destroy(partitions);
  Postings out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (at_end.size() < partition_count && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end.insert(m->partition());
    } else if (m->err() == RdKafka::ERR_NO_ERROR) {
      at_end.erase(m->partition());
      if (auto p = decode(std::string_view(static_cast<const char*>(m->payload()), m->len()))) {
        ++out.records;
        ++out.per_payment[p->event_id];
        out.balances[p->account] += p->amount_cents;
      }
    }
  }
  consumer->close();
  return out;
}

}  // namespace fjord::examples
