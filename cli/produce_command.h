// `fjord produce TOPIC`: records from standard input (one per line, or one JSON document per line), kcat-like,
// to any Kafka-compatible cluster. Idempotent with acks=all by default (the SDK's safe producer settings);
// weaker acks are allowed when asked for, with a warning. Exits non-zero unless every record was acknowledged.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fjord::cli {

struct ProduceOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic;
  std::string key_separator;            // empty: lines are values only
  std::vector<std::string> headers;     // name=value, added to every record
  std::optional<int32_t> partition;     // default: the partitioner (by key)
  std::string acks = "all";             // all, 1 or 0
  std::string input = "text";           // or "json" (key, value, headers, partition per line)
  bool base64 = false;                  // json input: key, value and header values are base64
  std::string format = "text";          // the delivery report: text (a summary on stderr) or json (one per record)
  std::vector<std::string> properties;  // key=value librdkafka producer properties
};

int run_produce(const ProduceOptions& options);

}  // namespace fjord::cli
