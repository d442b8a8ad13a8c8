// Transactions across brokers: the transaction coordinator's markers go to each partition's leader (through this
// broker's own partitions when it leads them, else WriteTxnMarkers to the leader), and a partition leader or group
// coordinator asks the transactional id's coordinator whether a partition is in its ongoing transaction (locally,
// or AddPartitionsToTxn v4 with verify_only to the broker that coordinates it), or, for transactions v2, asks it to
// add the partition (AddPartitionsToTxn v5). On a single node all of it is local.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cluster/broker_channels.h"
#include "cluster/partition_manager.h"
#include "coordinator/partition_marker_writer.h"
#include "coordinator/transaction_coordinator.h"

namespace fjord::coordinator {

class RoutingMarkerWriter final : public MarkerWriter {
 public:
  // `channels` null: a single node, every partition is local.
  RoutingMarkerWriter(cluster::PartitionManager& partitions, MarkerWriter& local, cluster::BrokerChannels* channels)
      : partitions_(partitions), local_(local), channels_(channels) {}

  void write(const Marker& marker, const std::vector<TopicPartition>& partitions,
             std::function<void(std::map<TopicPartition, ErrorCode>)> done) override;

 private:
  cluster::PartitionManager& partitions_;
  MarkerWriter& local_;
  cluster::BrokerChannels* channels_;
};

class TransactionVerifier {
 public:
  TransactionVerifier(cluster::PartitionManager& partitions, TransactionCoordinator& coordinator,
                      cluster::BrokerChannels* channels, Scheduler& scheduler)
      : partitions_(partitions), coordinator_(coordinator), channels_(channels), scheduler_(scheduler) {}
  ~TransactionVerifier() { *alive_ = false; }

  // NONE when `partition` is in the ongoing transaction of `transactional_id` with this producer id and epoch;
  // otherwise the coordinator's error (INVALID_TXN_STATE, PRODUCER_FENCED, ...), or COORDINATOR_NOT_AVAILABLE
  // when it could not be asked. At once when this broker coordinates the id, else once its coordinator answers.
  void verify(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
              const TopicPartition& partition, std::function<void(ErrorCode)> done);

  // Transactions v2 (Produce v12, TxnOffsetCommit v5): adds `partition` to the producer's transaction, starting
  // one if none is open. While the coordinator is still ending the producer's previous transaction it answers
  // CONCURRENT_TRANSACTIONS; that is asked again, at growing intervals, for up to kAddRetryMaxMs.
  void add(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
           const TopicPartition& partition, std::function<void(ErrorCode)> done);

  static constexpr int64_t kAddRetryFirstMs = 1;
  static constexpr int64_t kAddRetryBackoffMs = 20;  // the longest pause between two attempts
  static constexpr int64_t kAddRetryMaxMs = 100;

 private:
  // The coordinator's verdict, by way of `verify_only` or not.
  void ask(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
           const TopicPartition& partition, bool verify_only, std::function<void(ErrorCode)> done);
  void add_attempt(std::string transactional_id, int64_t producer_id, int16_t producer_epoch, TopicPartition partition,
                   int64_t waited_ms, int64_t pause_ms, std::function<void(ErrorCode)> done);

  cluster::PartitionManager& partitions_;
  TransactionCoordinator& coordinator_;
  cluster::BrokerChannels* channels_;
  Scheduler& scheduler_;
  // Attempts waiting for their pause to end; a verifier that goes cancels them.
  std::map<uint64_t, std::unique_ptr<TimerHandle>> retries_;
  uint64_t retries_started_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::coordinator
