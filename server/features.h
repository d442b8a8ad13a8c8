// The feature levels this broker finalizes, as ApiVersions v3+ reports them (SupportedFeatures,
// FinalizedFeatures), and the API versions that exist only while a level is finalized. Clients choose their
// protocol from both: the Java client uses transactions v2 when transaction.version 2 is finalized, and then
// sends EndTxn v5, Produce v12 and TxnOffsetCommit v5, so those are advertised only together with it.
#pragma once

#include <cstdint>

#include "protocol/messages/api_catalog.h"

namespace fjord::server {

struct FinalizedFeatures {
  int16_t transaction_version = 2;  // the broker setting transaction.version
  // Clients keep the view of the broker with the highest epoch: the time this broker took its settings, so that
  // after a rolling change of the setting the newest view wins.
  int64_t epoch = 0;
};

inline constexpr int16_t kMaxTransactionVersion = 2;

// The highest version of `spec` advertised (and accepted) under `features`.
int16_t advertised_max_version(const protocol::ApiSpec& spec, const FinalizedFeatures& features);

}  // namespace fjord::server
