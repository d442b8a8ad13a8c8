// What the benchmark does to a broker, through librdkafka as any application would.
#pragma once

#include <string>
#include <vector>

namespace fjord::bench {

struct ProduceSpec {
  std::string topic;
  int partitions = 1;
  size_t record_bytes = 1024;
  size_t records = 0;
  // Produced first at the same rate and not measured: brokers (the JVM's compiler, a new partition's files)
  // need a moment before they run at their steady speed, as OpenMessaging Benchmark's warm-up phase allows.
  size_t warmup_records = 0;
  std::string acks = "all";
  double rate = 0;                  // records per second; 0: as fast as the client can
  bool measure_end_to_end = false;  // a consumer tails the topic while producing
  bool idempotent = false;          // enable.idempotence: producer id, epoch and sequence numbers on every batch
};

struct ProduceStats {
  double records_per_second = 0;
  double megabytes_per_second = 0;
  // From produce() to the delivery report: what an application waits for an acknowledgement.
  double p50_ms = 0, p99_ms = 0, p999_ms = 0;
  // From produce() to the record reaching a consumer (only with measure_end_to_end).
  double end_to_end_p50_ms = 0, end_to_end_p99_ms = 0;
  size_t failed = 0;
};

// Records round-robin over the partitions; each carries its send time in its first 8 bytes. One warm-up record
// per partition goes first, then the warm-up records, outside the measurement (so a topic holds records +
// warmup_records + partitions afterwards).
ProduceStats produce(const std::string& bootstrap, const ProduceSpec& spec);

// Reads every partition from the beginning until `records` arrived (or 30 s passed): records per second from
// the first record on.
double consume(const std::string& bootstrap, const std::string& topic, int partitions, size_t records);

// Starts `members` subscribing consumers (librdkafka, cooperative-sticky) in one group at once; milliseconds until
// every one of them has been given its partitions.
double group_join_ms(const std::string& bootstrap, const std::string& topic, const std::string& group, int members);

// `committers` threads, each a consumer without membership, commit offsets with commitSync back to back for
// `seconds`: offset commits per second the coordinator answered (each one durable by the broker's policy).
double offset_commits_per_second(const std::string& bootstrap, const std::string& topic, int partitions, int committers,
                                 double seconds);

// Opens `count` connections that each complete an ApiVersions exchange and then stay idle. Returns the open
// sockets (the caller closes them with close_all).
std::vector<int> open_idle_connections(int port, int count);
void close_all(std::vector<int>& sockets);

}  // namespace fjord::bench
