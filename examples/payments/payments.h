// A payments pipeline on the SDK: payment events keyed by account (so one account's payments stay in order), and a
// ledger service, a consumer group whose members book each batch into SQLite by event id and only then let the
// layer commit. A payment delivered twice (a producer retry the broker did not deduplicate, a member killed after
// booking and before committing) is booked once. Its exactly-once variant keeps the ledger in a topic instead:
// postings written in the same transaction as the input offsets.
#pragma once

#include <chrono>
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

// Sends `count` payments (pay-FIRST, pay-FIRST+1, ...) across `accounts` accounts, each payment sent `copies`
// times (as a retrying upstream would); returns how many sends the cluster acknowledged.
int64_t produce_payments(const std::string& bootstrap, const std::string& topic, int count, int accounts,
                         int copies = 1, int first = 0);

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

// The exactly-once variant: a ledger member that turns each payment into a posting on `postings_topic` (keyed by
// account), writing a batch's postings and committing the batch's input offsets in one transaction (the SDK's
// exactly-once processing). A member killed at any moment leaves no posting twice and none missing: its open
// transaction is aborted when it (or another member) starts again, and the input is read again from the offsets
// committed with the last transaction. Input duplicates are not removed: upstream sends must be idempotent
// (produce_payments with copies=1). Runs until SIGTERM/SIGINT (or client::request_shutdown()); returns the
// postings it committed.
int64_t run_posting_member(const std::string& bootstrap, const std::string& topic, const std::string& group,
                           const std::string& postings_topic, const std::string& instance_id);

struct Postings {
  int64_t records = 0;                      // committed postings
  std::map<std::string, int> per_payment;   // event id -> postings of it
  std::map<std::string, int64_t> balances;  // account -> cents
};

// What a read_committed reader finds on `postings_topic` (read to its end, or for at most `timeout`).
Postings read_postings(const std::string& bootstrap, const std::string& postings_topic,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace fjord::examples
