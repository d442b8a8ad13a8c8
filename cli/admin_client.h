// What the operator subcommands (`fjord group`, `fjord topic`) share: the Admin API over one librdkafka handle,
// and the way they print tables and report errors. These subcommands are clients of any Kafka-compatible cluster.
#pragma once

#include <librdkafka/rdkafka.h>

#include <compare>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fjord::cli {

inline constexpr int kAdminTimeoutMs = 30000;

struct PartitionKey {
  std::string topic;
  int32_t partition;
  auto operator<=>(const PartitionKey&) const = default;
};

using AdminEvent = std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)>;

class AdminClient {
 public:
  // `bootstrap` is HOST:PORT[,HOST:PORT...].
  explicit AdminClient(const std::string& bootstrap);
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  rd_kafka_t* handle() { return handle_; }
  rd_kafka_queue_t* queue() { return queue_; }
  // Waits for the result of the operation just started; throws on a request-level error.
  AdminEvent wait(const char* what);
  // Options with the request timeout set; the caller destroys them.
  rd_kafka_AdminOptions_t* options(rd_kafka_admin_op_t op);
  // Low and high watermark of one partition.
  std::pair<int64_t, int64_t> watermarks(const std::string& topic, int32_t partition);

 private:
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
};

// Columns padded to their widest cell, one space apart.
void print_table(const std::vector<std::vector<std::string>>& rows);
// Reports an error the way every subcommand does: one line on stderr, exit status 1.
int failed(const std::exception& e);

}  // namespace fjord::cli
