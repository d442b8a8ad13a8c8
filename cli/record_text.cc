#include "cli/record_text.h"

#include <array>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace fjord::cli {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::optional<std::string> optional_bytes(const nlohmann::json& field, bool base64, const char* what) {
  if (field.is_null()) return std::nullopt;
  if (!field.is_string()) throw std::invalid_argument(std::string(what) + " must be a string or null");
  const auto& text = field.get_ref<const std::string&>();
  return base64 ? base64_decode(text) : text;
}

nlohmann::json bytes_field(const std::optional<std::string>& bytes, bool base64) {
  if (!bytes) return nullptr;
  return base64 ? base64_encode(*bytes) : *bytes;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  std::array<int, 256> value{};
  value.fill(-1);
  for (size_t i = 0; i < kAlphabet.size(); ++i) value[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int>(i);
  if (text.size() % 4 != 0) throw std::invalid_argument("base64: the length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int padding = 0;
    uint32_t n = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
        n <<= 6;
        continue;
      }
      if (padding > 0 || value[static_cast<uint8_t>(c)] < 0)
        throw std::invalid_argument("base64: unexpected character at " + std::to_string(i + j));
      n = n << 6 | static_cast<uint32_t>(value[static_cast<uint8_t>(c)]);
    }
    out += static_cast<char>(n >> 16 & 255);
    if (padding < 2) out += static_cast<char>(n >> 8 & 255);
    if (padding < 1) out += static_cast<char>(n & 255);
  }
  return out;
}

TextRecord parse_line(std::string_view line, const std::string& key_separator) {
  TextRecord record;
  if (!key_separator.empty()) {
    if (auto at = line.find(key_separator); at != std::string_view::npos) {
      record.key = std::string(line.substr(0, at));
      line.remove_prefix(at + key_separator.size());
    }
  }
  record.value = std::string(line);
  return record;
}

TextRecord parse_json(std::string_view document, bool base64) {
  const auto json = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) throw std::invalid_argument("not a JSON object");
  TextRecord record;
  if (json.contains("key")) record.key = optional_bytes(json["key"], base64, "key");
  record.value = json.contains("value") ? optional_bytes(json["value"], base64, "value") : std::nullopt;
  if (json.contains("partition") && !json["partition"].is_null()) {
    if (!json["partition"].is_number_integer()) throw std::invalid_argument("partition must be an integer");
    record.partition = json["partition"].get<int32_t>();
  }
  if (json.contains("headers") && !json["headers"].is_null()) {
    const auto& headers = json["headers"];
    if (headers.is_object()) {
      for (const auto& [name, value] : headers.items())
        record.headers.emplace_back(name, optional_bytes(value, base64, "a header value"));
    } else if (headers.is_array()) {
      for (const auto& pair : headers) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
          throw std::invalid_argument("headers as an array take [\"name\", value] pairs");
        record.headers.emplace_back(pair[0].get<std::string>(), optional_bytes(pair[1], base64, "a header value"));
      }
    } else {
      throw std::invalid_argument("headers must be an object or an array of pairs");
    }
  }
  return record;
}

std::string to_json(const TextRecord& record, bool base64) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : record.headers) headers.push_back({name, bytes_field(value, base64)});
  nlohmann::json out = {{"topic", record.topic},
                        {"partition", record.partition.value_or(-1)},
                        {"offset", record.offset},
                        {"timestamp", record.timestamp},
                        {"key", bytes_field(record.key, base64)},
                        {"value", bytes_field(record.value, base64)},
                        {"headers", std::move(headers)}};
  // Bytes that are not UTF-8 are replaced rather than refused: --base64 carries them exactly.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string render(const std::string& format, const TextRecord& record) {
  std::string out;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c == '\\' && i + 1 < format.size() && (format[i + 1] == 'n' || format[i + 1] == 't')) {
      out += format[++i] == 'n' ? '\n' : '\t';
      continue;
    }
    if (c == '{') {
      const auto close = format.find('}', i);
      if (close != std::string::npos) {
        const std::string name = format.substr(i + 1, close - i - 1);
        bool known = true;
        if (name == "topic") {
          out += record.topic;
        } else if (name == "partition") {
          out += std::to_string(record.partition.value_or(-1));
        } else if (name == "offset") {
          out += std::to_string(record.offset);
        } else if (name == "timestamp") {
          out += std::to_string(record.timestamp);
        } else if (name == "key") {
          out += record.key.value_or("");
        } else if (name == "value") {
          out += record.value.value_or("");
        } else if (name == "headers") {
          for (size_t h = 0; h < record.headers.size(); ++h) {
            if (h > 0) out += ',';
            out += record.headers[h].first + "=" + record.headers[h].second.value_or("");
          }
        } else {
          known = false;
        }
        if (known) {
          i = close;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

}  // namespace fjord::cli
