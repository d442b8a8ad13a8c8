// Transactions across brokers: the transaction coordinator's markers go to each partition's leader (through this
// broker's own partitions when it leads them, else WriteTxnMarkers to the leader), and a partition leader or group
// coordinator asks the transactional id's coordinator whether a partition is in its ongoing transaction (locally,
// or AddPartitionsToTxn v4 with verify_only to the broker that coordinates it). On a single node both are local.
#pragma once

#include <functional>
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
                      cluster::BrokerChannels* channels)
      : partitions_(partitions), coordinator_(coordinator), channels_(channels) {}

  // NONE when `partition` is in the ongoing transaction of `transactional_id` with this producer id and epoch;
  // otherwise the coordinator's error (INVALID_TXN_STATE, PRODUCER_FENCED, ...), or COORDINATOR_NOT_AVAILABLE
  // when it could not be asked. At once when this broker coordinates the id, else once its coordinator answers.
  void verify(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
              const TopicPartition& partition, std::function<void(ErrorCode)> done);

 private:
  cluster::PartitionManager& partitions_;
  TransactionCoordinator& coordinator_;
  cluster::BrokerChannels* channels_;
};

}  // namespace fjord::coordinator
