// The demo `fjord dev` runs: creates a topic, produces records with acks=all, consumes them back, and reports
// what happened, using librdkafka exactly as an application would.
#pragma once

#include <string>

namespace fjord::cli {

// Returns true when every produced record came back, in order. Prints its progress to stdout. With a replication
// factor of 3 the topic also gets min.insync.replicas=2, so acks=all means two copies before an acknowledgement.
bool run_demo(const std::string& bootstrap_servers, int replication_factor = 1);

// The payments example (examples/payments): 1,000 payments, each sent twice as a retrying upstream would, booked by
// a two-member ledger group into SQLite at `ledger_path`. True when every payment is booked exactly once.
bool run_payments_example(const std::string& bootstrap_servers, int replication_factor, const std::string& ledger_path);

}  // namespace fjord::cli
