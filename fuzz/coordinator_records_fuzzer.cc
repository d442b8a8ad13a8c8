// Any bytes as a record of the coordinators' internal topics (__consumer_offsets, __transaction_state), as a
// transaction marker, or as a producer snapshot: each decoder accepts or refuses them without crashing, and what
// it accepts encodes back to something it reads the same.
#include <cstdint>
#include <span>
#include <vector>

#include "coordinator/consumer_group_records.h"
#include "coordinator/offsets_records.h"
#include "coordinator/transaction_records.h"
#include "protocol/record_batch.h"
#include "storage/producer_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fjord;
  std::span<const uint8_t> bytes(data, size);
  (void)coordinator::decode_key(bytes);
  (void)coordinator::decode_offset(bytes);
  (void)coordinator::decode_group(bytes);
  // As the value of each of a consumer-protocol group's record types: what decodes encodes back to the same.
  for (int16_t type : {3, 4, 5, 6, 7, 8, 16}) {
    const coordinator::ConsumerGroupKey key{type, "g", "m"};
    if (auto record = coordinator::decode_consumer_record(key, bytes)) {
      auto entry = coordinator::encode_consumer_record("g", *record);
      std::optional<std::span<const uint8_t>> value;
      if (entry.value) value = std::span<const uint8_t>(*entry.value);
      if (coordinator::decode_consumer_record(key, value) != record) __builtin_trap();
    }
  }
  (void)coordinator::decode_transaction_key(bytes);
  if (auto t = coordinator::decode_transaction(bytes)) {
    if (t->state == coordinator::TransactionState::kEmpty) t->partitions.clear();  // written as null, as Kafka does
    if (coordinator::decode_transaction(coordinator::encode_transaction(*t)) != t) __builtin_trap();
  }
  (void)protocol::parse_control_marker(bytes);
  if (auto state = storage::ProducerStateManager::parse_snapshot(bytes)) {
    auto again = storage::ProducerStateManager::parse_snapshot(state->snapshot());
    if (!again || again->producer_count() != state->producer_count()) __builtin_trap();
  }
  return 0;
}
