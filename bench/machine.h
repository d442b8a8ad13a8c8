// What this machine can do at best, measured at the start of every benchmark run: the limits the brokers'
// numbers are read against.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace fjord::bench {

// Loopback bandwidth, disk bandwidth with an fdatasync per MiB, small-write fsync latency, cores, client.
nlohmann::json machine_report(const std::string& scratch_directory, int repeat);

}  // namespace fjord::bench
