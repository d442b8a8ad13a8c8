#include "client/sinks/postgres_sink.h"

#include <pqxx/pqxx>

namespace fjord::client {
namespace {

constexpr const char* kInsert = "fjord_sink_insert";
constexpr const char* kSelect = "fjord_sink_select";

}  // namespace

PostgresSink::PostgresSink(const std::string& connection, const std::string& table) : table_(table) {
  try {
    connection_ = std::make_unique<pqxx::connection>(connection);
    pqxx::work tx(*connection_);
    // Members of one group start together, and concurrent CREATE TABLE IF NOT EXISTS can still collide in
    // PostgreSQL's catalog: creating the table is serialized under a transaction-scoped advisory lock.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "fjord sink " + table_);
    tx.exec0("CREATE TABLE IF NOT EXISTS " + tx.quote_name(table_) +
             " (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL, written_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    tx.commit();
    connection_->prepare(kInsert, "INSERT INTO " + connection_->quote_name(table_) +
                                      " (event_id, payload) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING");
    connection_->prepare(kSelect, "SELECT payload FROM " + connection_->quote_name(table_) + " WHERE event_id = $1");
  } catch (const std::exception& e) {
    throw SinkError(std::string("postgres sink: ") + e.what());
  }
}

PostgresSink::~PostgresSink() = default;

bool PostgresSink::upsert(std::string_view event_id, std::string_view payload) {
  return upsert_all({Event{std::string(event_id), std::string(payload)}}) == 1;
}

size_t PostgresSink::upsert_all(const std::vector<Event>& events) {
  try {
    pqxx::work tx(*connection_);
    size_t written = 0;
    for (const auto& e : events) written += tx.exec_prepared0(kInsert, e.id, e.payload).affected_rows();
    tx.commit();
    return written;
  } catch (const std::exception& e) {
    throw SinkError(std::string("postgres sink: ") + e.what());
  }
}

std::optional<std::string> PostgresSink::payload(std::string_view event_id) {
  try {
    pqxx::read_transaction tx(*connection_);
    pqxx::result rows = tx.exec_prepared(kSelect, std::string(event_id));
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<std::string>();
  } catch (const std::exception& e) {
    throw SinkError(std::string("postgres sink: ") + e.what());
  }
}

size_t PostgresSink::count() {
  try {
    pqxx::read_transaction tx(*connection_);
    return tx.exec1("SELECT COUNT(*) FROM " + tx.quote_name(table_))[0].as<size_t>();
  } catch (const std::exception& e) {
    throw SinkError(std::string("postgres sink: ") + e.what());
  }
}

}  // namespace fjord::client
