// `fjord txn list | describe | producers | abort`: transactions as their coordinators and partition leaders see
// them, over the Kafka protocol (ListTransactions, DescribeTransactions, DescribeProducers, WriteTxnMarkers), so
// against Fjord or Kafka alike. `abort` ends a hanging transaction (one whose coordinator no longer knows it) in
// one partition by writing its abort marker there, as Kafka's kafka-transactions tool does.
#pragma once

#include <cstdint>
#include <string>

namespace fjord::cli {

struct TxnOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";  // or "json"
  std::string transactional_id;
  std::string topic;
  int32_t partition = 0;
  int64_t producer_id = -1;
};

int run_txn_list(const TxnOptions& options);
int run_txn_describe(const TxnOptions& options);
int run_txn_producers(const TxnOptions& options);
int run_txn_abort(const TxnOptions& options);

}  // namespace fjord::cli
