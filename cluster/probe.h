// Metrics of the partitions this broker hosts: idempotent producers, replication health, and bytes in and out
// per topic.
#pragma once

#include <map>
#include <memory>
#include <string>

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
        unknown_producer(metrics.counter("fjord_idempotent_sequence_errors_total",
                                         "Batches refused for their producer sequence or epoch",
                                         {{"kind", "unknown_producer_id"}})),
        other(metrics.counter("fjord_idempotent_sequence_errors_total",
                              "Batches refused for their producer sequence or epoch", {{"kind", "other"}})),
        leader_partitions(metrics.gauge("fjord_partitions_leader", "Partitions this broker leads")),
        under_replicated(metrics.gauge("fjord_partitions_under_replicated",
                                       "Partitions this broker leads whose ISR is smaller than their replica set")),
        under_min_isr(metrics.gauge("fjord_partitions_under_min_isr",
                                    "Partitions this broker leads whose ISR is below min.insync.replicas: acks=all "
                                    "writes to them are refused")),
        offline(metrics.gauge("fjord_partitions_offline",
                              "Partitions with no leader (controller only): no in-sync replica is alive")),
        isr_shrinks(metrics.counter("fjord_isr_shrinks_total", "ISR changes this broker made that removed a replica")),
        isr_expands(metrics.counter("fjord_isr_expands_total", "ISR changes this broker made that added a replica")),
        fetch_waiters(metrics.gauge("fjord_fetch_waiters",
                                    "Long-polling fetches (consumers and followers) waiting on a partition now, one "
                                    "per partition each waits on")),
        bytes_in_family_(metrics.counter_family("fjord_topic_bytes_in_total",
                                                "Record bytes producers wrote to a topic's partitions led here")),
        bytes_out_family_(metrics.counter_family(
            "fjord_topic_bytes_out_total",
            "Record bytes consumers fetched from this broker's replicas of a topic's partitions")) {}

  // A topic's byte counters, shared by its partitions hosted here: the series go when the last of them does (a
  // deleted topic leaves nothing behind). On the event loop.
  struct TopicTraffic {
    prometheus::Counter& bytes_in;
    prometheus::Counter& bytes_out;
  };
  std::shared_ptr<TopicTraffic> topic_traffic(const std::string& topic) {
    if (auto existing = traffic_[topic].lock()) return existing;
    auto* traffic =
        new TopicTraffic{bytes_in_family_.Add({{"topic", topic}}), bytes_out_family_.Add({{"topic", topic}})};
    std::shared_ptr<TopicTraffic> shared(traffic, [this, topic](TopicTraffic* gone) {
      bytes_in_family_.Remove(&gone->bytes_in);
      bytes_out_family_.Remove(&gone->bytes_out);
      traffic_.erase(topic);
      delete gone;
    });
    traffic_[topic] = shared;
    return shared;
  }

  prometheus::Counter& sequence_error(ErrorCode error) {
    if (error == ErrorCode::kOutOfOrderSequenceNumber) return out_of_order;
    if (error == ErrorCode::kInvalidProducerEpoch) return invalid_epoch;
    if (error == ErrorCode::kUnknownProducerId) return unknown_producer;
    return other;
  }

  prometheus::Gauge& active_producers;
  prometheus::Counter& duplicates_suppressed;
  prometheus::Counter& out_of_order;
  prometheus::Counter& invalid_epoch;
  prometheus::Counter& unknown_producer;
  prometheus::Counter& other;
  prometheus::Gauge& leader_partitions;
  prometheus::Gauge& under_replicated;
  prometheus::Gauge& under_min_isr;
  prometheus::Gauge& offline;
  prometheus::Counter& isr_shrinks;
  prometheus::Counter& isr_expands;
  prometheus::Gauge& fetch_waiters;

 private:
  prometheus::Family<prometheus::Counter>& bytes_in_family_;
  prometheus::Family<prometheus::Counter>& bytes_out_family_;
  std::map<std::string, std::weak_ptr<TopicTraffic>> traffic_;
};

}  // namespace fjord::cluster
