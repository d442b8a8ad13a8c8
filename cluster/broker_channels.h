// Requests from this broker to the others (a transaction coordinator's WriteTxnMarkers to partition leaders, a
// partition leader asking a transaction coordinator whether a partition is in a transaction): one connection per
// broker, opened on first use, requests sent one after another on it, each answered exactly once — with the
// response, or with nothing when the broker is unknown, the connection fails or no answer comes in time (the
// caller retries). Runs on the broker's event loop.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/broker_link.h"
#include "cluster/membership.h"
#include "protocol/codec_runtime.h"
#include "protocol/messages/api_catalog.h"
#include "protocol/request_header.h"

namespace fjord::cluster {

class BrokerChannels {
 public:
  // The response body (after the correlation id and, for flexible versions, the header's tagged fields), or
  // nullopt when none came.
  using Answer = std::function<void(std::optional<std::vector<uint8_t>>)>;

  // `links` makes the connections (TLS and SASL on a secured inter-broker listener); plaintext by default.
  BrokerChannels(asio::io_context& io, const Membership& membership, int32_t local_node,
                 std::chrono::milliseconds request_timeout = std::chrono::seconds(30), BrokerLinkFactory links = {});
  ~BrokerChannels();
  BrokerChannels(const BrokerChannels&) = delete;
  BrokerChannels& operator=(const BrokerChannels&) = delete;

  // Sends `request` in `version` to broker `node_id`; `done` gets the decoded response, or nullopt.
  template <typename Response, typename Request>
  void call(int32_t node_id, const Request& request, int16_t version,
            std::function<void(std::optional<Response>)> done) {
    protocol::Writer writer;
    protocol::RequestHeader header;
    header.api_key = Request::kApiKey;
    header.api_version = version;
    header.correlation_id = 0;  // set when sent
    header.client_id = "fjord-broker-" + std::to_string(local_node_);
    const auto& spec = *protocol::find_api_spec(Request::kApiKey);
    protocol::encode_request_header(writer, header, spec);
    request.encode(writer, version);
    const bool flexible = version >= spec.first_flexible_version && spec.first_flexible_version >= 0;
    send(node_id, writer.take().bytes, flexible,
         [done = std::move(done), version](std::optional<std::vector<uint8_t>> body) {
           if (!body) return done(std::nullopt);
           try {
             protocol::Reader reader(*body);
             Response response;
             response.decode(reader, version);
             done(std::move(response));
           } catch (const std::exception&) {
             done(std::nullopt);
           }
         });
  }

  void stop();

 private:
  class Channel;
  // `request` is header and body (no size), its correlation id still to be written at bytes 4-7.
  void send(int32_t node_id, std::vector<uint8_t> request, bool flexible_response_header, Answer done);

  asio::io_context& io_;
  const Membership& membership_;
  const int32_t local_node_;
  const std::chrono::milliseconds timeout_;
  BrokerLinkFactory links_;
  std::map<int32_t, std::shared_ptr<Channel>> channels_;
  bool stopped_ = false;
};

}  // namespace fjord::cluster
