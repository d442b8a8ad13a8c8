// Idempotent sink into SQLite, the embedded default: upsert by event id, so a record delivered twice (a batch
// processed again after a crash before its commit) is written once.
//
// The table: event_id TEXT PRIMARY KEY, payload TEXT, written_at_ms INTEGER. The first write of an id wins and
// later ones are absorbed (the same event carries the same payload). Several processes may share one file: WAL
// journal, waits up to busy_timeout for the write lock. synchronous=NORMAL survives a process crash (what a
// consumer kill is); durable=true (synchronous=FULL) also survives power loss.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace fjord::client {

class SinkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Event {
  std::string id;
  std::string payload;
};

class SqliteSink {
 public:
  explicit SqliteSink(const std::string& path, const std::string& table = "events", bool durable = false);
  ~SqliteSink();
  SqliteSink(const SqliteSink&) = delete;
  SqliteSink& operator=(const SqliteSink&) = delete;

  // True when the event was written, false when one with this id was already there (absorbed).
  bool upsert(std::string_view event_id, std::string_view payload);
  // All in one transaction; returns how many were new.
  size_t upsert_all(const std::vector<Event>& events);

  std::optional<std::string> payload(std::string_view event_id);
  size_t count();
  // Runs a statement with no result (schema of the application's own tables, for example).
  void execute(const std::string& sql);
  sqlite3* native() { return db_; }

 private:
  void check(int rc, const char* what);

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  std::string table_;
};

}  // namespace fjord::client
