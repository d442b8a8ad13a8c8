// The demo `fjord dev` runs: creates a topic, produces records with acks=all, consumes them back, and reports
// what happened, using librdkafka exactly as an application would.
#pragma once

#include <string>

namespace fjord::cli {

// Returns true when every produced record came back, in order. Prints its progress to stdout.
bool run_demo(const std::string& bootstrap_servers);

}  // namespace fjord::cli
