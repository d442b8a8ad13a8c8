// The "consumer" protocol's subscription and assignment bytes, which the broker otherwise relays untouched:
// OffsetDelete needs the topics an active group subscribes to, and `fjord group describe` shows which member owns
// which partition. Layouts (big-endian, classic strings):
//   Subscription: int16 version, [string topic], bytes user_data, (v1+) [topic, [int32 partition]] owned, ...
//   Assignment:   int16 version, [string topic, [int32 partition]], bytes user_data
// Only the leading fields are read; later versions add fields after them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace fjord::coordinator {

using NamedAssignment = std::vector<std::pair<std::string, std::vector<int32_t>>>;

// A classic member's subscription, whole: what a consumer-protocol group needs to take the member in (its topics,
// what it owns now: v1+, its rack: v3+).
struct Subscription {
  std::vector<std::string> topics;
  NamedAssignment owned;
  std::optional<std::string> rack_id;
};

// nullopt when the bytes are not a consumer subscription (another protocol type, or damaged).
std::optional<std::vector<std::string>> parse_subscription_topics(std::span<const uint8_t> bytes);
std::optional<Subscription> parse_subscription(std::span<const uint8_t> bytes);
std::optional<std::vector<std::pair<std::string, std::vector<int32_t>>>> parse_assignment(
    std::span<const uint8_t> bytes);
// An Assignment (version 0, no user data): how a consumer-protocol group's members are shown to the classic
// DescribeGroups, so tools that read assignments there see theirs.
std::vector<uint8_t> encode_assignment(const std::vector<std::pair<std::string, std::vector<int32_t>>>& assignment);

}  // namespace fjord::coordinator
