// Metrics of the partitions this broker hosts: idempotent producers above all.
#pragma once

#include "model/error_codes.h"
#include "model/metrics.h"

namespace fjord::cluster {

struct PartitionProbe {
  explicit PartitionProbe(Metrics& metrics)
      : active_producers(metrics.gauge("fjord_idempotent_producers_active",
                                       "Producer ids with state in at least one partition of this broker")),
        duplicates_suppressed(
            metrics.counter("fjord_idempotent_duplicates_suppressed_total",
                            "Retried batches answered from where they were written, not written again")),
        out_of_order(metrics.counter("fjord_idempotent_sequence_errors_total",
                                     "Batches refused for their producer sequence or epoch",
                                     {{"kind", "out_of_order_sequence"}})),
        invalid_epoch(metrics.counter("fjord_idempotent_sequence_errors_total",
                                      "Batches refused for their producer sequence or epoch",
                                      {{"kind", "invalid_producer_epoch"}})),
        other(metrics.counter("fjord_idempotent_sequence_errors_total",
                              "Batches refused for their producer sequence or epoch", {{"kind", "other"}})) {}

  prometheus::Counter& sequence_error(ErrorCode error) {
    if (error == ErrorCode::kOutOfOrderSequenceNumber) return out_of_order;
    if (error == ErrorCode::kInvalidProducerEpoch) return invalid_epoch;
    return other;
  }

  prometheus::Gauge& active_producers;
  prometheus::Counter& duplicates_suppressed;
  prometheus::Counter& out_of_order;
  prometheus::Counter& invalid_epoch;
  prometheus::Counter& other;
};

}  // namespace fjord::cluster
