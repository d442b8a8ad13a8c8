// A payments pipeline on the SDK: payment events keyed by account (so one account's payments stay in order), and a
// ledger service, a consumer group whose members book each batch into SQLite by event id and only then let the
// layer commit. A payment delivered twice (a producer retry the broker did not deduplicate, a member killed after
// booking and before committing) is booked once.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace fjord::examples {

struct Payment {
  std::string event_id;  // unique per payment: the ledger's key
  std::string account;
  int64_t amount_cents = 0;
};

std::string encode(const Payment& payment);  // "event_id,account,amount_cents"
std::optional<Payment> decode(std::string_view text);

// Sends `count` payments across `accounts` accounts, each payment sent `copies` times (as a retrying upstream
// would); returns how many sends the cluster acknowledged.
int64_t produce_payments(const std::string& bootstrap, const std::string& topic, int count, int accounts,
                         int copies = 1);

struct LedgerStats {
  int64_t booked = 0;    // new ledger rows
  int64_t absorbed = 0;  // events already booked
};

// One ledger member: books payments into the SQLite ledger at `ledger_path` until SIGTERM/SIGINT (or
// client::request_shutdown()), then commits what it booked and leaves.
LedgerStats run_ledger_member(const std::string& bootstrap, const std::string& topic, const std::string& group,
                              const std::string& ledger_path, const std::string& instance_id);

// Account -> balance in cents, from the ledger.
std::map<std::string, int64_t> balances(const std::string& ledger_path);

}  // namespace fjord::examples
