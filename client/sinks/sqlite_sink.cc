#include "client/sinks/sqlite_sink.h"

#include <sqlite3.h>

#include <chrono>
#include <thread>

namespace fjord::client {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool valid_identifier(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

SqliteSink::SqliteSink(const std::string& path, const std::string& table, bool durable) : table_(table) {
  if (!valid_identifier(table)) throw SinkError("sqlite sink: table name must be letters, digits and _: " + table);
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw SinkError("sqlite sink: open " + path + ": " + message);
  }
  sqlite3_busy_timeout(db_, 30000);
  // Switching to WAL takes an exclusive lock. When two processes open the same new file at once (the ledger's
  // members), SQLite may answer BUSY at once, without waiting in the busy handler, to avoid a deadlock: ask
  // again for as long as the busy timeout would have waited.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) == SQLITE_BUSY &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  execute("PRAGMA journal_mode=WAL");  // done by now, or says why not
  execute(durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  execute("CREATE TABLE IF NOT EXISTS " + table_ +
          " (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL, written_at_ms INTEGER NOT NULL)");
  check(sqlite3_prepare_v2(db_,
                           ("INSERT INTO " + table_ +
                            " (event_id, payload, written_at_ms) VALUES (?, ?, ?) ON CONFLICT(event_id) DO NOTHING")
                               .c_str(),
                           -1, &insert_, nullptr),
        "prepare insert");
  check(
      sqlite3_prepare_v2(db_, ("SELECT payload FROM " + table_ + " WHERE event_id = ?").c_str(), -1, &select_, nullptr),
      "prepare select");
}

SqliteSink::~SqliteSink() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(select_);
  sqlite3_close(db_);
}

void SqliteSink::check(int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw SinkError(std::string("sqlite sink: ") + what + ": " + sqlite3_errmsg(db_));
  }
}

void SqliteSink::execute(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw SinkError("sqlite sink: " + sql + ": " + message);
  }
}

bool SqliteSink::upsert(std::string_view event_id, std::string_view payload) {
  sqlite3_reset(insert_);
  sqlite3_bind_text(insert_, 1, event_id.data(), static_cast<int>(event_id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(insert_, 2, payload.data(), static_cast<int>(payload.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert_, 3, wall_ms());
  check(sqlite3_step(insert_), "insert");
  return sqlite3_changes(db_) == 1;
}

size_t SqliteSink::upsert_all(const std::vector<Event>& events) {
  execute("BEGIN IMMEDIATE");
  size_t written = 0;
  try {
    for (const auto& e : events) written += upsert(e.id, e.payload) ? 1 : 0;
    execute("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return written;
}

std::optional<std::string> SqliteSink::payload(std::string_view event_id) {
  sqlite3_reset(select_);
  sqlite3_bind_text(select_, 1, event_id.data(), static_cast<int>(event_id.size()), SQLITE_TRANSIENT);
  int rc = sqlite3_step(select_);
  check(rc, "select");
  if (rc != SQLITE_ROW) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(sqlite3_column_text(select_, 0)));
}

size_t SqliteSink::count() {
  sqlite3_stmt* stmt = nullptr;
  check(sqlite3_prepare_v2(db_, ("SELECT COUNT(*) FROM " + table_).c_str(), -1, &stmt, nullptr), "prepare count");
  check(sqlite3_step(stmt), "count");
  size_t n = static_cast<size_t>(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  return n;
}

}  // namespace fjord::client
