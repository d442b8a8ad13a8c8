#include "chaos/journal.h"

#include <sqlite3.h>

#include <chrono>
#include <sstream>

namespace fjord::chaos {
namespace {

// A prepared statement for one call; finalized however the call ends.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) fail("step");
    return false;
  }
  int64_t integer(int column) { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) {
    const auto* t = sqlite3_column_text(stmt_, column);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw client::SinkError(std::string("chaos journal: ") + what + ": " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::string join(const std::vector<int32_t>& partitions) {
  std::string out;
  for (auto p : partitions) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out;
}

std::vector<int32_t> split(const std::string& text) {
  std::vector<int32_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(std::stoi(item));
  }
  return out;
}

}  // namespace

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Journal::Journal(const std::string& path) : sink_(path, "ledger") {
  sink_.execute(
      "CREATE TABLE IF NOT EXISTS deliveries (instance TEXT, partition INTEGER, offset INTEGER, seq INTEGER, "
      "at_ms INTEGER, absorbed INTEGER)");
  sink_.execute("CREATE TABLE IF NOT EXISTS commits (instance TEXT, partition INTEGER, offset INTEGER, at_ms INTEGER)");
  sink_.execute("CREATE TABLE IF NOT EXISTS rebalances (instance TEXT, kind TEXT, partitions TEXT, at_ms INTEGER)");
}

bool Journal::process(const std::string& instance, int32_t partition, int64_t offset, int64_t seq,
                      std::string_view value) {
  sink_.execute("BEGIN IMMEDIATE");
  try {
    bool absorbed = !sink_.upsert(std::to_string(seq), value);
    Statement(sink_.native(), "INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?)")
        .bind(1, instance)
        .bind(2, partition)
        .bind(3, offset)
        .bind(4, seq)
        .bind(5, wall_ms())
        .bind(6, absorbed ? 1 : 0)
        .step();
    sink_.execute("COMMIT");
    return absorbed;
  } catch (...) {
    sqlite3_exec(sink_.native(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Journal::committed(const std::string& instance, int32_t partition, int64_t offset) {
  Statement(sink_.native(), "INSERT INTO commits VALUES (?, ?, ?, ?)")
      .bind(1, instance)
      .bind(2, partition)
      .bind(3, offset)
      .bind(4, wall_ms())
      .step();
}

void Journal::rebalanced(const std::string& instance, const std::string& kind, const std::vector<int32_t>& partitions) {
  Statement(sink_.native(), "INSERT INTO rebalances VALUES (?, ?, ?, ?)")
      .bind(1, instance)
      .bind(2, kind)
      .bind(3, join(partitions))
      .bind(4, wall_ms())
      .step();
}

std::vector<Delivery> Journal::deliveries() {
  std::vector<Delivery> out;
  Statement s(sink_.native(),
              "SELECT instance, partition, offset, seq, at_ms, absorbed FROM deliveries ORDER BY rowid");
  while (s.step()) {
    out.push_back(
        {s.text(0), static_cast<int32_t>(s.integer(1)), s.integer(2), s.integer(3), s.integer(4), s.integer(5) != 0});
  }
  return out;
}

std::vector<CommitRecord> Journal::commits() {
  std::vector<CommitRecord> out;
  Statement s(sink_.native(), "SELECT instance, partition, offset, at_ms FROM commits ORDER BY rowid");
  while (s.step()) out.push_back({s.text(0), static_cast<int32_t>(s.integer(1)), s.integer(2), s.integer(3)});
  return out;
}

std::vector<RebalanceRecord> Journal::rebalances() {
  std::vector<RebalanceRecord> out;
  Statement s(sink_.native(), "SELECT instance, kind, partitions, at_ms FROM rebalances ORDER BY rowid");
  while (s.step()) out.push_back({s.text(0), s.text(1), split(s.text(2)), s.integer(3)});
  return out;
}

std::set<int64_t> Journal::processed_sequences() {
  std::set<int64_t> out;
  Statement s(sink_.native(), "SELECT DISTINCT seq FROM deliveries");
  while (s.step()) out.insert(s.integer(0));
  return out;
}

}  // namespace fjord::chaos
