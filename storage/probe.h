// The storage layer's metrics. fsyncs and the appends they covered show group commit at work: many appends per
// fsync under load, and never an acknowledgment without one (under the default flush policy).
#pragma once

#include "model/metrics.h"

namespace fjord::storage {

struct StorageProbe {
  explicit StorageProbe(Metrics& metrics)
      : fsyncs(
            metrics.counter("fjord_log_fsyncs_total", "fsync rounds of partition logs (one may cover many appends)")),
        appends(metrics.counter("fjord_log_appends_total", "Appends of record batches to partition logs")),
        appended_bytes(metrics.counter("fjord_log_appended_bytes_total", "Bytes appended to partition logs")),
        recovered_truncated_bytes(metrics.counter("fjord_log_recovery_truncated_bytes_total",
                                                  "Bytes of torn or corrupt log tails dropped at start")) {}
  prometheus::Counter& fsyncs;
  prometheus::Counter& appends;
  prometheus::Counter& appended_bytes;
  prometheus::Counter& recovered_truncated_bytes;
};

}  // namespace fjord::storage
