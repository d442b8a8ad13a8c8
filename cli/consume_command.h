// `fjord consume TOPIC`: records to standard output, kcat-like, from any Kafka-compatible cluster. Without
// --group it reads partitions directly (all, or --partition) and commits nothing; with --group it joins that
// group and commits what it has printed (after printing: commit-after-process), at least every second and at exit.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fjord::cli {

struct ConsumeOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic;
  std::optional<std::string> group;
  std::optional<int32_t> partition;   // without --group: only this partition
  bool from_beginning = false;        // else only records produced from now on (a group's committed offsets win)
  long count = 0;                     // stop after this many records (0: no limit)
  bool exit_at_end = false;           // stop once every partition read has been read to its end
  std::string format = "{value}\\n";  // a template (cli/record_text.h) or "json": one document per record
  bool base64 = false;                // json: key, value and header values in base64
  std::string isolation = "read_committed";
  std::vector<std::string> properties;  // key=value librdkafka consumer properties
};

int run_consume(const ConsumeOptions& options);

}  // namespace fjord::cli
