// The chaos run's journal: what every consumer member processed, committed and was assigned, in one SQLite file
// that the members (separate processes, killed at will) write and the verifier reads at the end.
//
// Tables (times are wall-clock milliseconds, comparable across processes):
//   deliveries(instance, partition, offset, seq, at_ms, absorbed)  one row per time a record was processed;
//                                                                  absorbed: the ledger already had its event id
//   commits(instance, partition, offset, at_ms)                    offsets the broker accepted (next to read)
//   rebalances(instance, kind, partitions, at_ms)                  assigned / revoked / lost, "p,p,..."
//   ledger                                                         the idempotent sink (client/sinks/sqlite_sink.h)
// A record's processing and its journal row are one SQLite transaction, so a kill never leaves one without the
// other.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "client/sinks/sqlite_sink.h"

namespace fjord::chaos {

struct Delivery {
  std::string instance;  // "member-2#3": slot 2, third process started for it
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t seq = 0;
  int64_t at_ms = 0;
  bool absorbed = false;
};

struct CommitRecord {
  std::string instance;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t at_ms = 0;
};

struct RebalanceRecord {
  std::string instance;
  std::string kind;  // assigned, revoked, lost
  std::vector<int32_t> partitions;
  int64_t at_ms = 0;
};

int64_t wall_ms();

class Journal {
 public:
  explicit Journal(const std::string& path);

  // Processes one record: writes it to the ledger by event id and journals the delivery, in one transaction.
  // Returns true when the ledger already had it (the duplicate was absorbed).
  bool process(const std::string& instance, int32_t partition, int64_t offset, int64_t seq, std::string_view value);
  void committed(const std::string& instance, int32_t partition, int64_t offset);
  void rebalanced(const std::string& instance, const std::string& kind, const std::vector<int32_t>& partitions);

  std::vector<Delivery> deliveries();
  std::vector<CommitRecord> commits();
  std::vector<RebalanceRecord> rebalances();
  std::set<int64_t> processed_sequences();  // every record processed at least once
  size_t ledger_rows() { return sink_.count(); }

 private:
  client::SqliteSink sink_;  // owns the connection; the journal tables live in the same file
};

}  // namespace fjord::chaos
