#include "coordinator/cluster_transactions.h"

#include <memory>

#include "protocol/messages/add_partitions_to_txn.h"
#include "protocol/messages/write_txn_markers.h"

namespace fjord::coordinator {
namespace {

constexpr int16_t kWriteTxnMarkersVersion = 1;
constexpr int16_t kVerifyVersion = 4;  // AddPartitionsToTxn's broker form
constexpr int16_t kAddVersion = 5;     // ... whose verify_only=false adds (transactions v2)

}  // namespace

void RoutingMarkerWriter::write(const Marker& marker, const std::vector<TopicPartition>& partitions,
                                std::function<void(std::map<TopicPartition, ErrorCode>)> done) {
  struct Writing {
    std::map<TopicPartition, ErrorCode> results;
    size_t outstanding = 1;
    std::function<void(std::map<TopicPartition, ErrorCode>)> done;
    void finish_one() {
      if (--outstanding == 0) done(std::move(results));
    }
  };
  auto writing = std::make_shared<Writing>();
  writing->done = std::move(done);
  std::vector<TopicPartition> local;
  std::map<int32_t, std::vector<TopicPartition>> remote;  // leader -> partitions
  for (const auto& tp : partitions) {
    const auto* topic = partitions_.topic(tp.topic);
    if (!topic || tp.partition < 0 || tp.partition >= topic->partitions) {
      writing->results[tp] = ErrorCode::kUnknownTopicOrPartition;
      continue;
    }
    const int32_t leader = static_cast<size_t>(tp.partition) < topic->assignments.size()
                               ? topic->assignments[static_cast<size_t>(tp.partition)].leader
                               : partitions_.local_node();
    if (!channels_ || leader == partitions_.local_node()) {
      local.push_back(tp);
    } else if (leader < 0) {
      writing->results[tp] = ErrorCode::kNotLeaderOrFollower;  // offline: tried again later
    } else {
      remote[leader].push_back(tp);
    }
  }
  if (!local.empty()) {
    ++writing->outstanding;
    local_.write(marker, local, [writing](std::map<TopicPartition, ErrorCode> results) {
      writing->results.merge(results);
      writing->finish_one();
    });
  }
  for (auto& [leader, tps] : remote) {
    protocol::WriteTxnMarkersRequest request;
    auto& m = request.markers.emplace_back();
    m.producer_id = marker.producer_id;
    m.producer_epoch = marker.producer_epoch;
    m.transaction_result = marker.commit;
    m.coordinator_epoch = marker.coordinator_epoch;
    for (const auto& tp : tps) {
      if (m.topics.empty() || m.topics.back().name != tp.topic) m.topics.emplace_back().name = tp.topic;
      m.topics.back().partition_indexes.push_back(tp.partition);
    }
    ++writing->outstanding;
    channels_->call<protocol::WriteTxnMarkersResponse>(
        leader, request, kWriteTxnMarkersVersion,
        [writing, tps = tps](std::optional<protocol::WriteTxnMarkersResponse> response) {
          // Unanswered: every partition is tried again.
          for (const auto& tp : tps) writing->results[tp] = ErrorCode::kNotLeaderOrFollower;
          if (response) {
            for (const auto& result : response->markers) {
              for (const auto& topic : result.topics) {
                for (const auto& p : topic.partitions) {
                  writing->results[{topic.name, p.partition_index}] = static_cast<ErrorCode>(p.error_code);
                }
              }
            }
          }
          writing->finish_one();
        });
  }
  writing->finish_one();
}

void TransactionVerifier::verify(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
                                 const TopicPartition& partition, std::function<void(ErrorCode)> done) {
  ask(transactional_id, producer_id, producer_epoch, partition, true, std::move(done));
}

void TransactionVerifier::add(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
                              const TopicPartition& partition, std::function<void(ErrorCode)> done) {
  add_attempt(transactional_id, producer_id, producer_epoch, partition, 0, kAddRetryFirstMs, std::move(done));
}

void TransactionVerifier::add_attempt(std::string transactional_id, int64_t producer_id, int16_t producer_epoch,
                                      TopicPartition partition, int64_t waited_ms, int64_t pause_ms,
                                      std::function<void(ErrorCode)> done) {
  ask(transactional_id, producer_id, producer_epoch, partition, false,
      [this, alive = std::weak_ptr<bool>(alive_), transactional_id, producer_id, producer_epoch, partition, waited_ms,
       pause_ms, done](ErrorCode error) mutable {
        if (error != ErrorCode::kConcurrentTransactions || waited_ms + pause_ms > kAddRetryMaxMs) return done(error);
        auto still = alive.lock();
        if (!still || !*still) return done(error);
        const uint64_t retry = ++retries_started_;
        retries_[retry] = scheduler_.schedule_after(
            pause_ms, [this, alive, retry, transactional_id = std::move(transactional_id), producer_id, producer_epoch,
                       partition = std::move(partition), waited = waited_ms + pause_ms,
                       next_pause = std::min(pause_ms * 2, kAddRetryBackoffMs), done = std::move(done)]() mutable {
              auto still = alive.lock();
              if (!still || !*still) return;
              retries_.erase(retry);
              add_attempt(std::move(transactional_id), producer_id, producer_epoch, std::move(partition), waited,
                          next_pause, std::move(done));
            });
      });
}

void TransactionVerifier::ask(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch,
                              const TopicPartition& partition, bool verify_only, std::function<void(ErrorCode)> done) {
  const ErrorCode here = coordinator_.coordinator_error(transactional_id);
  if (here != ErrorCode::kNotCoordinator || !channels_) {
    if (here != ErrorCode::kNone) return done(here);
    if (verify_only) {
      return done(coordinator_.verify_partitions(transactional_id, producer_id, producer_epoch, {partition}).front());
    }
    coordinator_.add_partitions(
        transactional_id, producer_id, producer_epoch, {partition},
        [done](std::vector<ErrorCode> errors) { done(errors.empty() ? ErrorCode::kUnknownServerError : errors[0]); },
        /*implicit=*/true);
    return;
  }
  // Another broker coordinates the id: the leader of its __transaction_state partition.
  const auto* state = partitions_.topic(kTransactionStateTopic);
  const auto index = static_cast<size_t>(coordinator_.partition_for(transactional_id));
  if (!state || index >= state->assignments.size() || state->assignments[index].leader < 0) {
    return done(ErrorCode::kCoordinatorNotAvailable);
  }
  protocol::AddPartitionsToTxnRequest request;
  auto& txn = request.transactions.emplace_back();
  txn.transactional_id = transactional_id;
  txn.producer_id = producer_id;
  txn.producer_epoch = producer_epoch;
  txn.verify_only = verify_only;
  auto& topic = txn.topics.emplace_back();
  topic.name = partition.topic;
  topic.partitions = {partition.partition};
  channels_->call<protocol::AddPartitionsToTxnResponse>(
      state->assignments[index].leader, request, verify_only ? kVerifyVersion : kAddVersion,
      [done](std::optional<protocol::AddPartitionsToTxnResponse> response) {
        if (!response) return done(ErrorCode::kCoordinatorNotAvailable);
        if (response->error_code != 0) return done(static_cast<ErrorCode>(response->error_code));
        for (const auto& t : response->results_by_transaction) {
          for (const auto& topic_result : t.topic_results) {
            for (const auto& p : topic_result.results_by_partition) {
              return done(static_cast<ErrorCode>(p.partition_error_code));
            }
          }
        }
        done(ErrorCode::kCoordinatorNotAvailable);
      });
}

}  // namespace fjord::coordinator
