#include "cli/properties.h"

#include <fstream>
#include <stdexcept>

namespace fjord::cli {
namespace {

std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> split_assignment(const std::string& text) {
  auto at = text.find_first_of("=:");
  if (at == std::string::npos) return std::nullopt;
  auto key = trim(text.substr(0, at));
  if (key.empty()) return std::nullopt;
  return std::make_pair(key, trim(text.substr(at + 1)));
}

std::map<std::string, std::string> read_properties_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::map<std::string, std::string> out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == '!') continue;
    auto kv = split_assignment(text);
    if (!kv) throw std::runtime_error(path + ":" + std::to_string(number) + ": expected key=value");
    out[kv->first] = kv->second;
  }
  return out;
}

std::optional<std::pair<std::string, int>> split_host_port(const std::string& text) {
  auto colon = text.find_last_of(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  try {
    size_t used = 0;
    int port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port < 0 || port > 65535) return std::nullopt;
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return std::make_pair(host, port);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace fjord::cli
