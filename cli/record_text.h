// How `fjord produce` reads records from text and `fjord consume` writes them: lines with an optional key
// separator, JSON documents (one per line), base64 for bytes that are not text, and output templates with
// placeholders. Pure, so every case is tested without a broker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fjord::cli {

struct TextRecord {
  std::optional<std::string> key;    // nullopt: no key (null)
  std::optional<std::string> value;  // nullopt: a tombstone (null value)
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  std::optional<int32_t> partition;
  // Only in what consume writes:
  std::string topic;
  int64_t offset = -1;
  int64_t timestamp = -1;
};

std::string base64_encode(std::string_view bytes);
// Throws std::invalid_argument on a character outside the alphabet or a bad length.
std::string base64_decode(std::string_view text);

// One line of input: with a separator, the key is what precedes its first occurrence (a line without it has no
// key); without one, the whole line is the value.
TextRecord parse_line(std::string_view line, const std::string& key_separator);

// One JSON document: {"key": …, "value": …, "headers": {"name": "value", …} or [["name", "value"], …],
// "partition": N}; every field optional, null allowed for key, value and header values. With `base64`, key,
// value and header values are base64 (binary data). Throws std::invalid_argument naming what is wrong.
TextRecord parse_json(std::string_view document, bool base64);

// A consumed record as one JSON document, with the fields above plus topic, partition, offset and timestamp.
std::string to_json(const TextRecord& record, bool base64);

// A consumed record through a template: {topic} {partition} {offset} {timestamp} {key} {value} {headers}
// (name=value pairs joined by ','), and \n \t escapes. A null key or value prints as empty.
std::string render(const std::string& format, const TextRecord& record);

}  // namespace fjord::cli
