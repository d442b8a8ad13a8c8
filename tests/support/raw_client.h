// Test support: a bare TCP connection to the broker for the cases no client library can stage: hostile bytes,
// exact versions, pipelined requests, acks=0.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "protocol/codec_runtime.h"
#include "protocol/messages/api_catalog.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/sasl_authenticate.h"
#include "protocol/messages/sasl_handshake.h"
#include "protocol/request_header.h"

namespace fjord::testing {

class RawClient {
 public:
  explicit RawClient(int port);
  ~RawClient();
  RawClient(const RawClient&) = delete;

  void send_bytes(const std::vector<uint8_t>& bytes);
  // Sends a size-prefixed frame.
  void send_frame(const std::vector<uint8_t>& frame);
  // Encodes header + body and sends them as one request.
  template <typename Request>
  void send(const Request& request, int16_t version, int32_t correlation_id, const std::string& client_id = "raw") {
    protocol::Writer w;
    protocol::RequestHeader header;
    header.api_key = Request::kApiKey;
    header.api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = client_id;
    protocol::encode_request_header(w, header, *protocol::find_api_spec(Request::kApiKey));
    request.encode(w, version);
    send_frame(w.take().bytes);
  }
  // The next response frame (without its size prefix), or nullopt when the broker closed the connection or
  // nothing came within the timeout.
  std::optional<std::vector<uint8_t>> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // True when the broker has closed the connection (reads end of file within the timeout).
  bool closed_by_broker(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Decodes a response: correlation id, then header tagged fields when `flexible_header`, then the body.
  template <typename Response>
  static Response decode(std::vector<uint8_t>& frame, int16_t version, bool flexible_header, int32_t* correlation_id) {
    protocol::Reader r(frame);
    int32_t id = r.read_int32();
    if (correlation_id) *correlation_id = id;
    if (flexible_header) {
      protocol::TaggedFields ignored;
      r.read_tagged_fields([](uint32_t, protocol::Reader&) { return false; }, ignored);
    }
    Response response;
    response.decode(r, version);
    return response;
  }

 private:
  int fd_;
};

// The SASL exchange by hand: SaslHandshake for `mechanism` (its answer's error code), then SaslAuthenticate v2 with
// one token; nullopt when the broker answered nothing (it closed the connection).
std::optional<int16_t> sasl_handshake(RawClient& client, const std::string& mechanism, int16_t version = 1);
std::optional<protocol::SaslAuthenticateResponse> sasl_authenticate(RawClient& client, const std::string& token);
// Both, with PLAIN: true when the broker accepted `user` and `password`.
bool sasl_plain_login(RawClient& client, const std::string& user, const std::string& password);

// A consumer's Fetch of one partition from `offset`, waiting up to `max_wait_ms` for a byte (a long poll when the
// partition has nothing past `offset`).
inline protocol::FetchRequest single_partition_fetch(const std::string& topic, int32_t partition, int64_t offset,
                                                     int32_t max_wait_ms) {
  protocol::FetchRequest fetch;
  fetch.replica_id = -1;
  fetch.max_wait_ms = max_wait_ms;
  fetch.min_bytes = 1;
  fetch.max_bytes = 1 << 20;
  auto& t = fetch.topics.emplace_back();
  t.topic = topic;
  auto& p = t.partitions.emplace_back();
  p.partition = partition;
  p.fetch_offset = offset;
  p.partition_max_bytes = 1 << 20;
  return fetch;
}

}  // namespace fjord::testing
