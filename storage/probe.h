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
                                                  "Bytes of torn or corrupt log tails dropped at start")),
        fsync_seconds(metrics.histogram(
            "fjord_log_fsync_seconds",
            "How long each sync round of partition logs took on its I/O thread (fdatasyncs of one job, or a syncfs)",
            {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})),
        directory_offline(metrics.gauge("fjord_log_directory_offline",
                                        "1 once a write or sync in the data directory failed: its partitions are "
                                        "no longer served (KAFKA_STORAGE_ERROR) until the broker restarts")) {}
  prometheus::Counter& fsyncs;
  prometheus::Counter& appends;
  prometheus::Counter& appended_bytes;
  prometheus::Counter& recovered_truncated_bytes;
  prometheus::Histogram& fsync_seconds;
  prometheus::Gauge& directory_offline;
};

}  // namespace fjord::storage
