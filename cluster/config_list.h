// The items of a list-valued setting ("a, b,c" -> {"a", "b", "c"}): split at `separator`, each item trimmed of
// spaces and tabs, empty items dropped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fjord::cluster {

inline std::vector<std::string> config_list_items(std::string_view value, char separator = ',') {
  std::vector<std::string> items;
  for (size_t start = 0; start <= value.size();) {
    size_t end = value.find(separator, start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    start = end + 1;
  }
  return items;
}

}  // namespace fjord::cluster
