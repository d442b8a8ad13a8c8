// `broker_bench`: Fjord side by side with Apache Kafka and librdkafka's mock cluster, one client library
// (librdkafka) driving all of them, in one run on one machine. Writes OUT/latest.json; bench/render.py turns
// it into the tables in README and a chart.
//
//   broker_bench --fjord PATH [--kafka bench/kafka/run-kafka.sh]
//                [--suite foundation,idempotence,groups,replication,compare,sustained,scale]
//                [--out DIR] [--repeat N] [--scale F]
#include <sys/resource.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness.h"
#include "bench/machine.h"
#include "bench/workloads.h"

namespace fjord::bench {
namespace {

using nlohmann::json;

struct Options {
  std::string fjord;
  std::string kafka;
  std::vector<std::string> suites = {"foundation", "idempotence", "groups", "replication",
                                     "compare",    "sustained",   "scale"};
  std::string out = "bench/results";
  int repeat = 3;
  double scale = 1.0;
  std::string work_dir;
};

// Progress goes to stderr so that stdout stays clean for whoever pipes the results.
[[gnu::format(printf, 1, 2)]] void say(const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fflush(stderr);
}

std::unique_ptr<Broker> make_broker(const Options& o, const std::string& name) {
  static int instance = 0;
  std::string data = o.work_dir + "/" + name + "-" + std::to_string(instance++);
  std::string log = data + ".log";
  const std::string no_fsync = "log.flush.interval.messages=9223372036854775807";
  if (name == "fjord") {
    return std::make_unique<BrokerProcess>(
        name,
        "Fjord, default durability: fsync before every acknowledgement (flush.messages=1, group commit); "
        "group.initial.rebalance.delay.ms=0 as for Kafka",
        std::vector<std::string>{o.fjord, "broker", "--data-dir", "{DATA}", "--listen", "127.0.0.1:{PORT}",
                                 "--admin-listen", "127.0.0.1:{PORT2}", "--set", "group.initial.rebalance.delay.ms=0"},
        data, log);
  }
  if (name == "fjord-nosync") {
    return std::make_unique<BrokerProcess>(
        name, "Fjord with Kafka's default durability: no fsync per write (" + no_fsync + ")",
        std::vector<std::string>{o.fjord, "broker", "--data-dir", "{DATA}", "--listen", "127.0.0.1:{PORT}",
                                 "--admin-listen", "127.0.0.1:{PORT2}", "--set", no_fsync},
        data, log);
  }
  if (name == "kafka") {
    return std::make_unique<BrokerProcess>(
        name, "Apache Kafka (bench/kafka/pom.xml), KRaft combined mode, default durability: no fsync per write",
        std::vector<std::string>{o.kafka, "{DATA}", "{PORT}", "{PORT2}"}, data, log);
  }
  if (name == "kafka-fsync") {
    return std::make_unique<BrokerProcess>(
        name, "Apache Kafka with an fsync after every write (log.flush.interval.messages=1)",
        std::vector<std::string>{o.kafka, "{DATA}", "{PORT}", "{PORT2}", "log.flush.interval.messages=1"}, data, log);
  }
  return std::make_unique<MockBroker>();
}

json produce_json(const ProduceStats& s) {
  return {{"records_per_s", s.records_per_second},
          {"MBps", s.megabytes_per_second},
          {"p50_ms", s.p50_ms},
          {"p99_ms", s.p99_ms},
          {"p999_ms", s.p999_ms},
          {"e2e_p50_ms", s.end_to_end_p50_ms},
          {"e2e_p99_ms", s.end_to_end_p99_ms},
          {"failed", s.failed}};
}

// Median of each numeric field over repeated runs.
json median_of(const std::vector<json>& runs) {
  json out = runs.front();
  for (auto& [key, value] : out.items()) {
    if (!value.is_number()) continue;
    std::vector<double> values;
    for (const auto& r : runs) values.push_back(r[key].get<double>());
    value = median(values);
  }
  return out;
}

struct Workload {
  std::string name;
  size_t record_bytes;
  int partitions;
  size_t records;
};

// Fjord's own counters around a run: how many fsync rounds its acknowledged produce requests took.
struct FsyncCount {
  double fsyncs = -1;
  double produce_requests = -1;
};
FsyncCount fsync_count(Broker& broker) {
  auto* process = dynamic_cast<BrokerProcess*>(&broker);
  if (!process || broker.name().rfind("fjord", 0) != 0) return {};
  return {scrape_metric(process->admin_port(), "fjord_log_fsyncs_total"),
          scrape_metric(process->admin_port(), "fjord_requests_total{api=\"Produce\"}")};
}

// One produce at full speed and one read of everything back, on a fresh topic; the broker's CPU is counted
// over both. `warmup_share` of the record count goes first and is not measured.
json max_rate_run(Broker& broker, const Workload& w, const std::string& acks, const std::string& topic,
                  bool idempotent = false, double warmup_share = 0.25) {
  broker.create_topic(topic, w.partitions);
  ProcessStats before = broker.pid() > 0 ? process_stats(broker.pid()) : ProcessStats{};
  const FsyncCount syncs_before = fsync_count(broker);
  ProduceSpec spec{topic,
                   w.partitions,
                   w.record_bytes,
                   w.records,
                   static_cast<size_t>(static_cast<double>(w.records) * warmup_share),
                   acks};
  spec.idempotent = idempotent;
  auto produced = produce(broker.bootstrap(), spec);
  const FsyncCount syncs_after = fsync_count(broker);
  size_t stored = w.records + spec.warmup_records + static_cast<size_t>(w.partitions);
  double consumed = consume(broker.bootstrap(), topic, w.partitions, stored);
  json run = produce_json(produced);
  if (syncs_before.fsyncs >= 0 && syncs_after.fsyncs >= 0) {
    const double requests = syncs_after.produce_requests - syncs_before.produce_requests;
    run["fsyncs_per_produce_request"] = requests > 0 ? (syncs_after.fsyncs - syncs_before.fsyncs) / requests : 0.0;
  }
  run["consume_records_per_s"] = consumed;
  run["consume_MBps"] = consumed * static_cast<double>(w.record_bytes) / 1e6;
  if (broker.pid() > 0) {
    ProcessStats after = process_stats(broker.pid());
    double gigabytes = 2.0 * static_cast<double>(stored * w.record_bytes) / 1e9;  // in and out
    run["cpu_s_per_GB"] = (after.cpu_seconds - before.cpu_seconds) / gigabytes;
  }
  broker.delete_topic(topic);
  say("    %-12s %s acks=%-3s produce %10.0f rec/s %7.1f MB/s p99 %6.1f ms | consume %10.0f rec/s\n",
      broker.name().c_str(), w.name.c_str(), acks.c_str(), produced.records_per_second, produced.megabytes_per_second,
      produced.p99_ms, consumed);
  return run;
}

json paced_run(Broker& broker, const Workload& w, double rate, const std::string& topic,
               const std::string& acks = "all") {
  broker.create_topic(topic, w.partitions);
  // One second of warm-up, five measured.
  ProduceSpec spec{topic, w.partitions, w.record_bytes, static_cast<size_t>(rate * 5), static_cast<size_t>(rate), acks,
                   rate,  true};
  auto produced = produce(broker.bootstrap(), spec);
  broker.delete_topic(topic);
  say("    %-12s %s acks=%-3s at %.0f rec/s: produce p50 %.2f p99 %.2f p99.9 %.2f ms, end to end p50 %.2f p99 %.2f "
      "ms\n",
      broker.name().c_str(), w.name.c_str(), acks.c_str(), rate, produced.p50_ms, produced.p99_ms, produced.p999_ms,
      produced.end_to_end_p50_ms, produced.end_to_end_p99_ms);
  return produce_json(produced);
}

int topic_counter = 0;
std::string next_topic() { return "bench-" + std::to_string(topic_counter++); }

// Before any broker is measured: 512 MB through it (produced, read back, deleted), so that a JVM has compiled its
// hot paths and every broker has allocated its buffers and seen its page cache fill once.
void warm_up(Broker& broker) {
  if (broker.name() == "mock") return;
  const Workload w{"warm-up", 1024, 8, 512 * 1024};
  const auto started = Clock::now();
  max_rate_run(broker, w, "all", next_topic(), false, 0);
  say("  warmed up %s in %.1f s\n", broker.name().c_str(), seconds_since(started));
}

// `runs` of `run` for each broker, interleaved (every broker's first run, then every broker's second, ...) so that
// the machine's drift over time falls on all of them alike. Returns each broker's median.
std::map<std::string, json> interleaved(const std::vector<std::string>& names, int runs,
                                        const std::function<json(const std::string& name)>& run) {
  std::map<std::string, std::vector<json>> results;
  for (int r = 0; r < runs; ++r) {
    for (const auto& name : names) results[name].push_back(run(name));
  }
  std::map<std::string, json> medians;
  for (auto& [name, list] : results) {
    medians[name] = median_of(list);
    // Every run's throughput too, so that a report can show the spread behind a median.
    for (const auto& run : list) {
      if (run.contains("records_per_s")) medians[name]["runs_records_per_s"].push_back(run["records_per_s"]);
    }
  }
  return medians;
}

// Issue 2's question: how close does durable Fjord come to librdkafka's in-memory mock?
json suite_foundation(const Options& o) {
  say("foundation: Fjord (fsync) vs the mock cluster\n");
  json out;
  std::vector<Workload> workloads;
  for (size_t bytes : {size_t{100}, size_t{1024}}) {
    for (int partitions : {1, 8}) {
      size_t records = static_cast<size_t>((bytes == 100 ? 1'000'000 : 300'000) * o.scale);
      workloads.push_back(
          {std::to_string(bytes) + "B-" + std::to_string(partitions) + "p", bytes, partitions, records});
    }
  }
  std::map<std::string, std::unique_ptr<Broker>> brokers;
  for (const char* name : {"fjord", "mock"}) {
    brokers[name] = make_broker(o, name);
    brokers[name]->start();
  }
  json rows = json::array();
  for (const auto& w : workloads) {
    for (const char* acks : {"1", "all"}) {
      json row{{"workload", w.name},
               {"record_bytes", w.record_bytes},
               {"partitions", w.partitions},
               {"acks", acks},
               {"records", w.records}};
      for (auto& [name, broker] : brokers) {
        std::vector<json> runs;
        for (int r = 0; r < o.repeat; ++r) runs.push_back(max_rate_run(*broker, w, acks, next_topic()));
        row[name] = median_of(runs);
      }
      rows.push_back(row);
    }
  }
  out["workloads"] = rows;
  Workload paced{"1024B-1p", 1024, 1, 0};
  for (auto& [name, broker] : brokers) {
    std::vector<json> runs;
    for (int r = 0; r < o.repeat; ++r) runs.push_back(paced_run(*broker, paced, 5000, next_topic()));
    out["paced_5000"][name] = median_of(runs);
  }
  return out;
}

// Issue 3's question: Fjord against Apache Kafka, each at its own default durability and both at the same.
json suite_compare(const Options& o) {
  say("compare: Fjord vs Apache Kafka vs the mock cluster\n");
  const std::vector<std::string> names = {"fjord", "fjord-nosync", "kafka", "kafka-fsync", "mock"};
  std::vector<Workload> workloads = {
      {"omb-1KiB-8p", 1024, 8, static_cast<size_t>(400'000 * o.scale)},
      {"omb-1KiB-100p", 1024, 100, static_cast<size_t>(400'000 * o.scale)},
      {"classic-100B-1p", 100, 1, static_cast<size_t>(2'000'000 * o.scale)},
  };
  json out;
  std::map<std::string, std::unique_ptr<Broker>> brokers;
  for (const auto& name : names) {
    brokers[name] = make_broker(o, name);
    double ms = brokers[name]->start();
    out["brokers"][name] = brokers[name]->description();
    say("  started %s in %.0f ms\n", name.c_str(), ms);
    warm_up(*brokers[name]);
  }
  json rows = json::array();
  for (const auto& w : workloads) {
    for (const char* acks : {"1", "all"}) {
      say("  %s acks=%s\n", w.name.c_str(), acks);
      json row{{"workload", w.name},
               {"record_bytes", w.record_bytes},
               {"partitions", w.partitions},
               {"acks", acks},
               {"records", w.records}};
      for (auto& [name, result] : interleaved(names, o.repeat, [&](const std::string& name) {
             return max_rate_run(*brokers[name], w, acks, next_topic());
           })) {
        row[name] = result;
      }
      rows.push_back(row);
    }
  }
  out["max_rate"] = rows;
  // Latency under load: half of Kafka's maximum for the workload, acks=all.
  json paced = json::array();
  for (const auto& w : workloads) {
    double kafka_max = 0;
    for (const auto& row : rows) {
      if (row["workload"] == w.name && row["acks"] == "all") kafka_max = row["kafka"]["records_per_s"];
    }
    double rate = kafka_max / 2;
    say("  %s at half of Kafka's maximum: %.0f records/s\n", w.name.c_str(), rate);
    json row{{"workload", w.name}, {"rate", rate}};
    for (auto& [name, result] : interleaved(names, o.repeat, [&](const std::string& name) {
           return paced_run(*brokers[name], w, rate, next_topic());
         })) {
      row[name] = result;
    }
    paced.push_back(row);
  }
  out["half_of_kafka_max"] = paced;
  for (const auto& name : names) {
    if (brokers[name]->pid() > 0) out["peak_rss_MB"][name] = process_stats(brokers[name]->pid()).peak_resident_mb;
  }
  // How late Fjord's event loop ran what was due, over every run of this suite.
  for (const std::string name : {"fjord", "fjord-nosync"}) {
    auto& process = static_cast<BrokerProcess&>(*brokers[name]);
    for (double q : {0.5, 0.99, 0.999}) {
      out["loop_lag_ms"][name][std::to_string(q).substr(0, 5)] =
          scrape_histogram_quantile(process.admin_port(), "fjord_event_loop_lag_seconds", q) * 1000;
    }
  }
  return out;
}

// The regime a user who leaves a broker running sees: every broker warmed up first, then runs of at least 1 GB
// each (scale 1), interleaved across brokers and repeated, so that page-cache writeback, segment rolls and a
// JVM's garbage collection all happen inside the measurement. The short runs of the compare suite show a
// broker's first seconds; these its steady state.
json suite_sustained(const Options& o) {
  say("sustained: every broker warmed up, then 1 GB per run, interleaved\n");
  const std::vector<std::string> names = {"fjord", "fjord-nosync", "kafka"};
  const auto gigabyte_of = [&](size_t record_bytes) {
    return static_cast<size_t>(1e9 * o.scale / static_cast<double>(record_bytes));
  };
  struct SustainedWorkload {
    Workload workload;
    std::string acks;
  };
  const std::vector<SustainedWorkload> workloads = {
      {{"1KiB-1p", 1024, 1, gigabyte_of(1024)}, "all"},     {{"1KiB-8p", 1024, 8, gigabyte_of(1024)}, "all"},
      {{"1KiB-100p", 1024, 100, gigabyte_of(1024)}, "all"}, {{"1KiB-8p", 1024, 8, gigabyte_of(1024)}, "1"},
      {{"100B-1p", 100, 1, gigabyte_of(100)}, "all"},
  };
  json out;
  std::map<std::string, std::unique_ptr<Broker>> brokers;
  for (const auto& name : names) {
    brokers[name] = make_broker(o, name);
    brokers[name]->start();
    out["brokers"][name] = brokers[name]->description();
    warm_up(*brokers[name]);
  }
  json rows = json::array();
  for (const auto& sustained : workloads) {
    const Workload& w = sustained.workload;
    const std::string& acks = sustained.acks;
    say("  %s acks=%s, %.2f GB per run\n", w.name.c_str(), acks.c_str(),
        static_cast<double>(w.records * w.record_bytes) / 1e9);
    json row{{"workload", w.name}, {"record_bytes", w.record_bytes}, {"partitions", w.partitions},
             {"acks", acks},       {"records", w.records},           {"runs", o.repeat}};
    for (auto& [name, result] : interleaved(names, o.repeat, [&](const std::string& name) {
           return max_rate_run(*brokers[name], w, acks, next_topic(), false, 0);
         })) {
      row[name] = result;
    }
    row["fjord_over_kafka"] = row["fjord"]["records_per_s"].get<double>() / row["kafka"]["records_per_s"].get<double>();
    say("    fjord / kafka = %.2f\n", row["fjord_over_kafka"].get<double>());
    rows.push_back(row);
  }
  out["runs"] = rows;
  return out;
}

// Issue 4's question: what do idempotent producers cost? The same producer with enable.idempotence off and on,
// runs interleaved so that the machine's drift falls on both alike.
json suite_idempotence(const Options& o) {
  say("idempotence: the same producer with enable.idempotence off and on\n");
  std::vector<Workload> workloads = {
      {"1KiB-8p", 1024, 8, static_cast<size_t>(400'000 * o.scale)},
      {"100B-1p", 100, 1, static_cast<size_t>(2'000'000 * o.scale)},
  };
  auto broker = make_broker(o, "fjord");
  broker->start();
  json rows = json::array();
  for (const auto& w : workloads) {
    // An idempotent producer needs acks=all (clients refuse anything else).
    for (const char* acks : {"all"}) {
      std::vector<json> plain, idempotent;
      for (int r = 0; r < o.repeat; ++r) {
        plain.push_back(max_rate_run(*broker, w, acks, next_topic(), false));
        idempotent.push_back(max_rate_run(*broker, w, acks, next_topic(), true));
      }
      json row{{"workload", w.name}, {"record_bytes", w.record_bytes}, {"partitions", w.partitions},
               {"acks", acks},       {"plain", median_of(plain)},      {"idempotent", median_of(idempotent)}};
      row["ratio"] = row["idempotent"]["records_per_s"].get<double>() / row["plain"]["records_per_s"].get<double>();
      say("  %s acks=%s: idempotent / plain = %.2f\n", w.name.c_str(), acks, row["ratio"].get<double>());
      rows.push_back(row);
    }
  }
  return json{{"workloads", rows}};
}

// Issue 5's questions: how long a 10-member group takes from its joins to every member holding partitions, and
// how many offset commits per second the coordinator answers. Fjord at its default durability (a commit is
// answered once fsynced) and Kafka at its own (acks=all on __consumer_offsets, no fsync), same client.
json suite_groups(const Options& o) {
  say("groups: joining a 10-member group, offset commits per second\n");
  json out;
  for (const std::string name : {"fjord", "kafka"}) {
    auto broker = make_broker(o, name);
    broker->start();
    out["brokers"][name] = broker->description();
    const std::string topic = next_topic();
    broker->create_topic(topic, 20);
    std::vector<double> joins;
    for (int r = 0; r < o.repeat; ++r) joins.push_back(group_join_ms(broker->bootstrap(), topic, next_topic(), 10));
    out["join_10_members_ms"][name] = median(joins);
    say("  %s: 10 members joined and assigned in %.0f ms\n", name.c_str(), median(joins));
    for (int committers : {1, 16}) {
      std::vector<double> rates;
      for (int r = 0; r < o.repeat; ++r)
        rates.push_back(offset_commits_per_second(broker->bootstrap(), topic, 20, committers, 5 * o.scale + 1));
      out["commits_per_s"][std::to_string(committers)][name] = median(rates);
      say("  %s: %.0f offset commits/s with %d committing consumers\n", name.c_str(), median(rates), committers);
    }
    broker->stop();
  }
  return out;
}

// Issue 6's question: what acks=all costs when every write must reach the in-sync replicas. Three local brokers
// (each fsyncing), replication factor 3, min.insync.replicas=2; the same producer at acks=1 (the leader's durable
// write) and acks=all (every in-sync replica), runs interleaved so that the machine's drift falls on both alike.
json suite_replication(const Options& o) {
  say("replication: three local Fjord brokers, replication factor 3, acks=1 vs acks=all\n");
  const std::string dir = o.work_dir + "/cluster";
  std::filesystem::create_directories(dir);
  FjordCluster cluster(o.fjord, dir, 3);
  cluster.start();
  json out;
  out["brokers"]["fjord-rf3"] = cluster.description();
  const Workload w{"1KiB-8p", 1024, 8, static_cast<size_t>(200'000 * o.scale)};
  std::vector<json> leader_only, all_replicas;
  for (int r = 0; r < o.repeat; ++r) {
    leader_only.push_back(max_rate_run(cluster, w, "1", next_topic()));
    all_replicas.push_back(max_rate_run(cluster, w, "all", next_topic()));
  }
  json max_rate{{"workload", w.name}, {"acks_1", median_of(leader_only)}, {"acks_all", median_of(all_replicas)}};
  const double ceiling =
      std::min(max_rate["acks_1"]["records_per_s"].get<double>(), max_rate["acks_all"]["records_per_s"].get<double>());
  max_rate["ratio"] =
      max_rate["acks_all"]["records_per_s"].get<double>() / max_rate["acks_1"]["records_per_s"].get<double>();
  say("  max rate: acks=all / acks=1 = %.2f\n", max_rate["ratio"].get<double>());
  out["max_rate"] = max_rate;
  // Latency at a steady 20,000 records/s (20 MB/s, far from saturation) and at half of the lower maximum.
  const double half = std::max(1000.0, std::round(ceiling / 2 / 1000) * 1000);
  json paced = json::array();
  for (double rate : {20000.0, half}) {
    std::vector<json> paced_leader_only, paced_all;
    for (int r = 0; r < o.repeat; ++r) {
      paced_leader_only.push_back(paced_run(cluster, w, rate, next_topic(), "1"));
      paced_all.push_back(paced_run(cluster, w, rate, next_topic(), "all"));
    }
    paced.push_back({{"workload", w.name},
                     {"records_per_s", rate},
                     {"acks_1", median_of(paced_leader_only)},
                     {"acks_all", median_of(paced_all)}});
  }
  out["paced"] = paced;
  cluster.stop();
  return out;
}

// Milliseconds to the first answered request, median of five fresh starts.
double startup_ms(const Options& o, const std::string& name) {
  std::vector<double> times;
  for (int i = 0; i < 5; ++i) {
    auto broker = make_broker(o, name);
    times.push_back(broker->start());
  }
  return median(times);
}

// Writes about `gigabytes` of 1 KiB records into 8 partitions as fast as possible.
void fill(Broker& broker, double gigabytes) {
  const std::string topic = "fill";
  broker.create_topic(topic, 8);
  ProduceSpec spec{topic, 8, 1024, static_cast<size_t>(gigabytes * 1e9 / 1024), 0, "1"};
  produce(broker.bootstrap(), spec);
}

// How cost grows with the work.
json suite_scale(const Options& o) {
  say("scale: partitions, idle connections, restart with data\n");
  json out;
  for (const char* name : {"fjord", "kafka"}) {
    out["startup_ms"][name] = startup_ms(o, name);
    say("  %s starts in %.1f ms\n", name, out["startup_ms"][name].get<double>());
  }
  for (const char* name : {"fjord", "kafka"}) {
    for (int partitions : {8, 1000, 10000}) {
      auto& result = out["partitions"][name][std::to_string(partitions)];
      try {
        auto broker = make_broker(o, name);
        broker->start();
        auto topic = next_topic();
        auto created = Clock::now();
        broker->create_topic(topic, partitions);
        double create_s = seconds_since(created);
        size_t records = static_cast<size_t>(200'000 * o.scale);
        ProduceSpec spec{topic, partitions, 1024, records, records / 4, "all"};
        auto produced = produce(broker->bootstrap(), spec);
        auto stats = process_stats(broker->pid());
        result = {{"create_s", create_s},
                  {"produce", produce_json(produced)},
                  {"rss_MB", stats.resident_mb},
                  {"peak_rss_MB", stats.peak_resident_mb}};
        say("  %s, %d partitions: created in %.1f s, %.0f rec/s (%zu failed), RSS %.0f MB\n", name, partitions,
            create_s, produced.records_per_second, produced.failed, stats.resident_mb);
      } catch (const std::exception& e) {
        result = {{"error", e.what()}};
        say("  %s, %d partitions: %s\n", name, partitions, e.what());
      }
    }
    {
      auto broker = make_broker(o, name);
      broker->start();
      auto& process = static_cast<BrokerProcess&>(*broker);
      double before = process_stats(broker->pid()).resident_mb;
      auto sockets = open_idle_connections(process.port(), 10000);
      std::this_thread::sleep_for(std::chrono::seconds(2));
      double after = process_stats(broker->pid()).resident_mb;
      out["idle_connections"][name] = {{"connections", sockets.size()}, {"rss_before_MB", before}, {"rss_MB", after}};
      say("  %s with %zu idle connections: RSS %.0f MB (%.0f MB before)\n", name, sockets.size(), after, before);
      close_all(sockets);
    }
    for (double gigabytes : {1.0, 10.0}) {
      auto broker = make_broker(o, name);
      broker->start();
      fill(*broker, gigabytes * o.scale);
      auto& process = static_cast<BrokerProcess&>(*broker);
      process.stop();
      double clean = process.start();
      process.kill();
      double killed = process.start();
      std::string key = std::to_string(static_cast<int>(gigabytes)) + "GB";
      out["restart"][name][key] = {{"clean_ms", clean}, {"after_kill_ms", killed}};
      say("  %s with %s of log: restart %.0f ms clean, %.0f ms after kill -9\n", name, key.c_str(), clean, killed);
      process.stop();
      std::filesystem::remove_all(process.data_dir());
    }
  }
  return out;
}

}  // namespace
}  // namespace fjord::bench

int main(int argc, char** argv) {
  using namespace fjord::bench;
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--fjord") o.fjord = value;
    if (flag == "--kafka") o.kafka = value;
    if (flag == "--out") o.out = value;
    if (flag == "--repeat") o.repeat = std::stoi(value);
    if (flag == "--scale") o.scale = std::stod(value);
    if (flag == "--suite") {
      o.suites.clear();
      for (size_t start = 0; start <= value.size();) {
        size_t comma = value.find(',', start);
        if (comma == std::string::npos) comma = value.size();
        o.suites.push_back(value.substr(start, comma - start));
        start = comma + 1;
      }
    }
  }
  if (o.fjord.empty()) {
    std::fprintf(stderr, "usage: broker_bench --fjord PATH [--kafka SCRIPT] [--suite a,b] [--out DIR] [--repeat N]\n");
    return 2;
  }
  // 10,000 partitions and 10,000 connections need descriptors; children inherit the raised limit.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  o.work_dir = std::filesystem::temp_directory_path() / ("fjord-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(o.work_dir);
  std::filesystem::create_directories(o.out);
  nlohmann::json report;
  std::string previous = o.out + "/latest.json";
  if (std::filesystem::exists(previous)) {
    // Suites not run this time keep their last results.
    std::ifstream in(previous);
    report = nlohmann::json::parse(in, nullptr, false);
    if (report.is_discarded()) report = nlohmann::json::object();
  }
  report["machine"] = machine_report(o.work_dir, o.repeat);
  for (const auto& suite : o.suites) {
    if (suite == "foundation") report["foundation"] = suite_foundation(o);
    if (suite == "idempotence") report["idempotence"] = suite_idempotence(o);
    if (suite == "replication") report["replication"] = suite_replication(o);
    if (suite == "groups") {
      if (o.kafka.empty()) {
        std::fprintf(stderr, "--suite groups needs --kafka\n");
        return 2;
      }
      report["groups"] = suite_groups(o);
    }
    if (suite == "sustained") {
      if (o.kafka.empty()) {
        std::fprintf(stderr, "--suite sustained needs --kafka\n");
        return 2;
      }
      report["sustained"] = suite_sustained(o);
    }
    if (suite == "compare" || suite == "scale") {
      if (o.kafka.empty()) {
        std::fprintf(stderr, "--suite %s needs --kafka\n", suite.c_str());
        return 2;
      }
      report[suite] = suite == "compare" ? suite_compare(o) : suite_scale(o);
    }
  }
  std::filesystem::remove_all(o.work_dir);
  std::ofstream(o.out + "/latest.json") << report.dump(2) << "\n";
  return 0;
}
