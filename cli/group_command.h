// `fjord group list | describe | reset-offsets | delete`: the consumer-group tool, as a client of any
// Kafka-compatible cluster (it speaks only the Admin API, through librdkafka).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fjord::cli {

struct GroupOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";  // or "json"
  std::string group;
  // reset-offsets
  std::vector<std::string> topics;  // "topic" or "topic:0,2,5"
  bool all_topics = false;
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<std::string> to_datetime;  // ISO 8601, e.g. 2026-11-26T10:00:00Z (or .000)
  std::optional<int64_t> shift_by;
  std::optional<int64_t> to_offset;
  bool execute = false;
};

int run_group_list(const GroupOptions& options);
int run_group_describe(const GroupOptions& options);
int run_group_reset_offsets(const GroupOptions& options);
int run_group_delete(const GroupOptions& options);

// Parses "2026-11-26T10:00:00Z", "2026-11-26T10:00:00.123" (UTC) or "…+02:00" into epoch milliseconds.
std::optional<int64_t> parse_datetime_ms(const std::string& text);

}  // namespace fjord::cli
