// The bytes of a consumer-protocol group's records in __consumer_offsets (KIP-848), in Kafka's encoding so that
// tools reading that topic understand them, and so that a group's history reads the same on either broker. The
// keys are in coordinator/offsets_records.h (ConsumerGroupKey); the layouts in coordinator/FORMAT.md; what the
// records mean in coordinator/consumer_group/records.h.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "coordinator/consumer_group/records.h"
#include "coordinator/offsets_records.h"
#include "coordinator/state_log.h"

namespace fjord::coordinator {

// The key and value (none: a tombstone) of `record` of group `group`.
StateLog::Entry encode_consumer_record(const std::string& group, const consumer::ConsumerGroupRecord& record);

// The record a key and value (nullopt: a tombstone) hold; nullopt for what Fjord reads past: a value it cannot
// decode, and the record types it does not need (4, the subscription metadata Kafka 4.0 wrote and 4.1 dropped;
// 16, a regular expression's resolution, which Fjord works out again on load).
std::optional<consumer::ConsumerGroupRecord> decode_consumer_record(
    const ConsumerGroupKey& key, const std::optional<std::span<const uint8_t>>& value);

}  // namespace fjord::coordinator
