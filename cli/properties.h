// Java-style .properties files (key=value, # comments), as Kafka's server.properties, and key=value overrides.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace fjord::cli {

// Throws std::runtime_error naming the line when the file cannot be read or a line has no '='.
std::map<std::string, std::string> read_properties_file(const std::string& path);

// "key=value" -> (key, value); nullopt when there is no '='.
std::optional<std::pair<std::string, std::string>> split_assignment(const std::string& text);

// "host:port" -> (host, port); nullopt when malformed.
std::optional<std::pair<std::string, int>> split_host_port(const std::string& text);

}  // namespace fjord::cli
