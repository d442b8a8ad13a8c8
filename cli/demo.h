// The demo `fjord dev` runs: creates a topic, produces records with acks=all, consumes them back, and reports
// what happened, using librdkafka exactly as an application would.
#pragma once

#include <map>
#include <string>

namespace fjord::cli {

// Returns true when every produced record came back, in order. Prints its progress to stdout. With a replication
// factor of 3 the topic also gets min.insync.replicas=2, so acks=all means two copies before an acknowledgement.
// `client_settings` are librdkafka's security settings (security.protocol, sasl.*, ssl.*), for a secured broker.
bool run_demo(const std::string& bootstrap_servers, int replication_factor = 1,
              const std::map<std::string, std::string>& client_settings = {});

// The payments example (examples/payments): 1,000 payments, each sent twice as a retrying upstream would, booked by
// a two-member ledger group into SQLite at `ledger_path`. True when every payment is booked exactly once.
bool run_payments_example(const std::string& bootstrap_servers, int replication_factor, const std::string& ledger_path);

// Its exactly-once variant: 1,000 payments (an idempotent producer), turned into postings on a ledger topic by a
// two-member group writing each batch's postings and input offsets in one transaction. True when a read_committed
// reader finds every payment posted exactly once.
bool run_payments_exactly_once_example(const std::string& bootstrap_servers, int replication_factor);

// The examples `fjord dev --example NAME` runs: "payments" and "payments-exactly-once".
bool run_example(const std::string& name, const std::string& bootstrap_servers, int replication_factor,
                 const std::string& data_dir);

}  // namespace fjord::cli
