// The server's metrics: requests and their latency by API, bytes in and out, and how fetch data reached the
// socket (sendfile or a copy), so a test can prove the zero-copy path is taken.
#pragma once

#include <array>
#include <atomic>

#include "model/metrics.h"
#include "server/quotas/client_quota_manager.h"

namespace fjord::server {

struct ServerProbe {
  explicit ServerProbe(Metrics& metrics)
      : connections_accepted(metrics.counter("fjord_connections_accepted_total", "Client connections accepted")),
        connections_closed_bad_input(metrics.counter("fjord_connections_closed_bad_input_total",
                                                     "Connections closed because a request was malformed")),
        open_connections(metrics.gauge("fjord_open_connections", "Client connections open now")),
        request_bytes(metrics.counter("fjord_request_bytes_total", "Bytes of requests received")),
        response_bytes(metrics.counter("fjord_response_bytes_total", "Bytes of responses sent")),
        sendfile_calls(metrics.counter("fjord_fetch_sendfile_calls_total",
                                       "sendfile calls that moved record data from the log to a socket")),
        sendfile_bytes(metrics.counter("fjord_fetch_sendfile_bytes_total", "Record bytes sent with sendfile")),
        copied_record_bytes(metrics.counter("fjord_fetch_copied_bytes_total",
                                            "Record bytes copied through user space on the fetch path")),
        throttle_seconds(metrics.counter("fjord_throttle_seconds_total",
                                         "Time clients over a quota were told to wait (throttle_time_ms)")),
        metrics_(metrics) {}

  prometheus::Counter& requests(int16_t api_key, const std::string& api_name) {
    auto& slot = requests_by_api_.at(static_cast<size_t>(api_key) % requests_by_api_.size());
    if (!slot) {
      slot = &metrics_.counter("fjord_requests_total", "Requests received, by API", {{"api", api_name}});
    }
    return *slot;
  }
  // From a request's arrival to its answer being ready (a long poll's wait and an acks=all produce's replication
  // included), by API.
  prometheus::Histogram& latency(int16_t api_key, const std::string& api_name) {
    auto& slot = latency_by_api_.at(static_cast<size_t>(api_key) % latency_by_api_.size());
    if (!slot) {
      slot = &metrics_.histogram(
          "fjord_request_latency_seconds", "From a request's arrival to its answer being ready, by API",
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
          {{"api", api_name}});
    }
    return *slot;
  }

  // Authentications by listener, mechanism and outcome ("succeeded", "failed"), so that failures can be alerted on.
  prometheus::Counter& authentications(const std::string& listener, const std::string& mechanism, bool succeeded) {
    return metrics_.counter(
        "fjord_authentications_total", "SASL authentications, by listener, mechanism and outcome",
        {{"listener", listener}, {"mechanism", mechanism}, {"outcome", succeeded ? "succeeded" : "failed"}});
  }
  // Connections closed before authenticating, by listener and why: a failed TLS handshake ("tls"), a request other
  // than ApiVersions or SASL ("unauthenticated_request"), one larger than sasl.server.max.receive.size
  // ("oversized"), an expired session ("expired").
  prometheus::Counter& refused_connections(const std::string& listener, const std::string& reason) {
    return metrics_.counter("fjord_connections_refused_total",
                            "Connections closed for want of authentication, by listener and reason",
                            {{"listener", listener}, {"reason", reason}});
  }

  // Answers that told a client over its quota to wait, by the quota it was over (its key: producer_byte_rate,
  // consumer_byte_rate, request_percentage).
  prometheus::Counter& throttled(QuotaType type) {
    return metrics_.counter("fjord_throttled_responses_total",
                            "Answers that told a client over its quota to wait, by quota",
                            {{"quota", std::string(quota_key(type))}});
  }

  prometheus::Counter& connections_accepted;
  prometheus::Counter& connections_closed_bad_input;
  prometheus::Gauge& open_connections;
  prometheus::Counter& request_bytes;
  prometheus::Counter& response_bytes;
  prometheus::Counter& sendfile_calls;
  prometheus::Counter& sendfile_bytes;
  prometheus::Counter& copied_record_bytes;
  prometheus::Counter& throttle_seconds;

 private:
  Metrics& metrics_;
  std::array<prometheus::Counter*, 128> requests_by_api_{};
  std::array<prometheus::Histogram*, 128> latency_by_api_{};
};

}  // namespace fjord::server
