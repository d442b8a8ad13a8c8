// Idempotent sink into PostgreSQL (libpqxx), for state several services share: upsert by event id, so a record
// delivered twice is written once. Same contract as SqliteSink: table (event_id TEXT PRIMARY KEY, payload TEXT,
// written_at TIMESTAMPTZ), the first write of an id wins, later ones are absorbed.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <string_view>
#include <vector>

#include "client/sinks/sqlite_sink.h"  // Event, SinkError

namespace fjord::client {

class PostgresSink {
 public:
  // `connection` is a libpq connection string ("host=127.0.0.1 port=5432 dbname=ledger user=app").
  PostgresSink(const std::string& connection, const std::string& table = "events");
  ~PostgresSink();
  PostgresSink(const PostgresSink&) = delete;
  PostgresSink& operator=(const PostgresSink&) = delete;

  bool upsert(std::string_view event_id, std::string_view payload);
  size_t upsert_all(const std::vector<Event>& events);  // one transaction
  std::optional<std::string> payload(std::string_view event_id);
  size_t count();

 private:
  std::unique_ptr<pqxx::connection> connection_;
  std::string table_;
};

}  // namespace fjord::client
