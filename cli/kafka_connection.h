// A blocking connection to one broker that sends a request and reads its answer, with the generated codecs: for
// the operator subcommands whose Admin APIs librdkafka does not offer (ListTransactions, DescribeTransactions,
// DescribeProducers, WriteTxnMarkers). Each call throws std::runtime_error when the broker cannot be reached or
// answers nothing readable in time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/codec_runtime.h"
#include "protocol/messages/api_catalog.h"
#include "protocol/messages/metadata.h"
#include "protocol/request_header.h"
#include "server/security/tls.h"

namespace fjord::cli {

class KafkaConnection {
 public:
  KafkaConnection(const std::string& host, int port, int timeout_ms = 10000);
  ~KafkaConnection();
  KafkaConnection(const KafkaConnection&) = delete;
  KafkaConnection& operator=(const KafkaConnection&) = delete;

  // The highest version of `api_key` both sides serve, given that ours go up to `ours`; -1 when the broker
  // serves none of them. Asks the broker's ApiVersions once per connection.
  int16_t usable_version(int16_t api_key, int16_t ours);

  // Metadata (v12) for `topics`; with none, only the brokers.
  protocol::MetadataResponse metadata(std::vector<std::string> topics = {});
  // Metadata (v12) for every topic.
  protocol::MetadataResponse metadata_of_all_topics();

  template <typename Response, typename Request>
  Response call(const Request& request, int16_t version) {
    protocol::Writer writer;
    protocol::RequestHeader header;
    header.api_key = Request::kApiKey;
    header.api_version = version;
    header.correlation_id = ++correlation_;
    header.client_id = "fjord-cli";
    const auto& spec = *protocol::find_api_spec(Request::kApiKey);
    protocol::encode_request_header(writer, header, spec);
    request.encode(writer, version);
    auto body = exchange(writer.take().bytes);
    protocol::Reader reader(body);
    if (reader.read_int32() != correlation_) throw std::runtime_error("an answer to another request");
    if (spec.first_flexible_version >= 0 && version >= spec.first_flexible_version) {
      protocol::TaggedFields ignored;
      reader.read_tagged_fields([](uint32_t, protocol::Reader&) { return false; }, ignored);
    }
    Response response;
    response.decode(reader, version);
    return response;
  }

 private:
  // Sends one size-prefixed frame and returns the answer's frame (without its size).
  std::vector<uint8_t> exchange(const std::vector<uint8_t>& request);
  // TLS and SASL as the process's client settings ask (client_security.h).
  void start_tls(const std::string& host);
  void authenticate();
  void send_raw(const uint8_t* data, size_t size);
  void write_bytes(const uint8_t* data, size_t size);
  void read_exactly(uint8_t* into, size_t length);
  void receive_tls();
  void flush_tls();

  int fd_ = -1;
  std::unique_ptr<server::security::TlsSession> tls_;
  std::vector<uint8_t> plaintext_;  // decrypted and not read yet
  int32_t correlation_ = 0;
  std::optional<std::map<int16_t, std::pair<int16_t, int16_t>>> broker_versions_;  // api key -> (min, max)
  std::string peer_;
};

// A connection to the first broker of a bootstrap list (HOST:PORT[,HOST:PORT...]) that answers; throws naming
// the last failure when none does.
std::unique_ptr<KafkaConnection> connect_any(const std::string& bootstrap);

}  // namespace fjord::cli
