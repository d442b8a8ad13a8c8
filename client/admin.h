// The Admin API over one librdkafka handle (librdkafka's C API: its C++ API has no admin calls). Used by the
// operator subcommands and by tools that set up topics; works against any Kafka-compatible cluster.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fjord::client {

inline constexpr int kAdminTimeoutMs = 30000;

using AdminEvent = std::unique_ptr<rd_kafka_event_t, void (*)(rd_kafka_event_t*)>;

struct NewTopic {
  std::string name;
  int partitions = -1;          // -1: the broker's num.partitions
  int replication_factor = -1;  // -1: the broker's default.replication.factor
  std::map<std::string, std::string> configs;
};

class AdminClient {
 public:
  // `bootstrap` is HOST:PORT[,HOST:PORT...]; `settings` are librdkafka's (security.protocol, sasl.*, ssl.*).
  explicit AdminClient(const std::string& bootstrap, const std::map<std::string, std::string>& settings = {});
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  rd_kafka_t* handle() { return handle_; }
  const std::string& bootstrap() const { return bootstrap_; }
  rd_kafka_queue_t* queue() { return queue_; }
  // Waits for the result of the operation just started; throws on a request-level error, and at once when the
  // cluster refused this client's credentials or TLS handshake (librdkafka would retry until the timeout).
  AdminEvent wait(const char* what);
  // Options with the request timeout set; the caller destroys them.
  rd_kafka_AdminOptions_t* options(rd_kafka_admin_op_t op);
  // Low and high watermark of one partition.
  std::pair<int64_t, int64_t> watermarks(const std::string& topic, int32_t partition);
  // Creates the topics; throws naming the first refused one. With exist_ok a topic already there is no error.
  // Returns, per topic, whether it was created (false: it existed).
  std::vector<bool> create_topics(const std::vector<NewTopic>& topics, bool exist_ok = false);

 private:
  std::string bootstrap_;
  rd_kafka_t* handle_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  std::string refused_;  // the first authentication or TLS failure librdkafka reported
};

}  // namespace fjord::client
