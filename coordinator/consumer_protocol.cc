#include "coordinator/consumer_protocol.h"

#include <exception>

#include "protocol/codec_runtime.h"

namespace fjord::coordinator {

namespace {

protocol::Reader reader_over(std::span<const uint8_t> bytes) {
  return protocol::Reader(std::span<uint8_t>(const_cast<uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace

std::optional<std::vector<std::string>> parse_subscription_topics(std::span<const uint8_t> bytes) {
  try {
    auto r = reader_over(bytes);
    if (r.read_int16() < 0) return std::nullopt;
    std::vector<std::string> topics;
    size_t count = r.read_array_length(false, 2);
    for (size_t i = 0; i < count; ++i) topics.push_back(r.read_string(false));
    return topics;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<Subscription> parse_subscription(std::span<const uint8_t> bytes) {
  try {
    auto r = reader_over(bytes);
    const int16_t version = r.read_int16();
    if (version < 0) return std::nullopt;
    Subscription out;
    size_t count = r.read_array_length(false, 2);
    for (size_t i = 0; i < count; ++i) out.topics.push_back(r.read_string(false));
    if (r.remaining() == 0) return out;  // user data may be left out entirely by some clients
    // User data: the client-side assignor's, unused by a server-side one (often null).
    if (!r.next_bytes_is_null(false)) r.read_bytes(false);
    if (version >= 1 && r.remaining() > 0) {
      size_t topics = r.read_array_length(false, 2 + 4);
      for (size_t i = 0; i < topics; ++i) {
        auto& [topic, partitions] = out.owned.emplace_back();
        topic = r.read_string(false);
        size_t n = r.read_array_length(false, 4);
        for (size_t p = 0; p < n; ++p) partitions.push_back(r.read_int32());
      }
    }
    if (version >= 2 && r.remaining() >= 4) r.read_int32();  // generation
    if (version >= 3 && r.remaining() >= 2 && !r.next_string_is_null(false)) out.rack_id = r.read_string(false);
    return out;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> parse_assignment(
    std::span<const uint8_t> bytes) {
  if (bytes.empty()) return std::vector<std::pair<std::string, std::vector<int32_t>>>{};
  try {
    auto r = reader_over(bytes);
    if (r.read_int16() < 0) return std::nullopt;
    std::vector<std::pair<std::string, std::vector<int32_t>>> assignment;
    size_t topics = r.read_array_length(false, 2 + 4);
    for (size_t i = 0; i < topics; ++i) {
      auto& [topic, partitions] = assignment.emplace_back();
      topic = r.read_string(false);
      size_t count = r.read_array_length(false, 4);
      for (size_t p = 0; p < count; ++p) partitions.push_back(r.read_int32());
    }
    return assignment;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<uint8_t> encode_assignment(const std::vector<std::pair<std::string, std::vector<int32_t>>>& assignment) {
  protocol::Writer w;
  w.write_int16(0);
  w.write_array_length(assignment.size(), false);
  for (const auto& [topic, partitions] : assignment) {
    w.write_string(topic, false);
    w.write_array_length(partitions.size(), false);
    for (int32_t p : partitions) w.write_int32(p);
  }
  w.write_null_bytes(false);
  return std::move(w.take().bytes);
}

}  // namespace fjord::coordinator
