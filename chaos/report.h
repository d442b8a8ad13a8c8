// The chaos run's report: a table for people, JSON for scripts. Times in the JSON are milliseconds since the
// run started.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chaos/verify.h"

namespace fjord::chaos {

struct RunSettings {
  std::string bootstrap;
  std::string topic;
  std::string group;
  int partitions = 0;
  int members = 0;
  std::string group_protocol;
  std::string strategy;
  bool static_membership = true;
  bool auto_commit = false;
  int session_timeout_ms = 0;
  int64_t started_ms = 0;
  double duration_s = 0;
  std::string faults;
};

nlohmann::json report_json(const RunSettings& settings, const Verdict& verdict);
std::string report_text(const RunSettings& settings, const Verdict& verdict);

}  // namespace fjord::chaos
