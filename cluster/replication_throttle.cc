#include "cluster/replication_throttle.h"

#include <algorithm>
#include <charconv>

namespace fjord::cluster {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view text, int32_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty() && out >= 0;
}

// Calls `entry(partition, broker)` for each entry of a list other than "*"; false when one is malformed.
template <typename Entry>
bool for_each_entry(std::string_view list, Entry entry) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const size_t colon = item.find(':');
    int32_t partition = 0, broker = 0;
    if (colon == std::string_view::npos || !parse_int(trim(item.substr(0, colon)), partition) ||
        !parse_int(trim(item.substr(colon + 1)), broker)) {
      return false;
    }
    if (entry(partition, broker)) return true;
  }
  return true;
}

}  // namespace

bool names_replica(std::string_view list, int32_t partition, int32_t broker) {
  list = trim(list);
  if (list == "*") return true;
  bool named = false;
  for_each_entry(list, [&](int32_t p, int32_t b) { return named = (p == partition && b == broker); });
  return named;
}

std::optional<std::string> invalid_throttled_replicas(std::string_view list) {
  if (trim(list) == "*" || for_each_entry(trim(list), [](int32_t, int32_t) { return false; })) return std::nullopt;
  return "must be \"*\" or a list of PARTITION:BROKER entries, such as 0:101,0:102,1:101";
}

void RateBudget::refill(int64_t rate) {
  const int64_t now = clock_.monotonic_ms();
  if (refilled_at_ms_ < 0) {
    available_ = static_cast<double>(rate);
  } else {
    available_ += static_cast<double>(rate) * static_cast<double>(now - refilled_at_ms_) / 1000.0;
  }
  available_ = std::min(available_, static_cast<double>(rate));
  refilled_at_ms_ = now;
}

bool RateBudget::spent(int64_t rate) {
  if (rate == kUnlimited) return false;
  refill(rate);
  return available_ <= 0;
}

void RateBudget::record(int64_t bytes, int64_t rate) {
  if (rate == kUnlimited) return;
  refill(rate);
  available_ -= static_cast<double>(bytes);
}

}  // namespace fjord::cluster
