#include "server/features.h"

#include <algorithm>

namespace fjord::server {
namespace {

constexpr int16_t kProduceKey = 0;
constexpr int16_t kEndTxnKey = 26;
constexpr int16_t kTxnOffsetCommitKey = 28;

}  // namespace

int16_t advertised_max_version(const protocol::ApiSpec& spec, const FinalizedFeatures& features) {
  if (features.transaction_version >= 2) return spec.max_version;
  // The last versions before transactions v2: a client that is offered more takes the feature to be on.
  switch (spec.key) {
    case kProduceKey:
      return std::min<int16_t>(spec.max_version, 11);
    case kEndTxnKey:
    case kTxnOffsetCommitKey:
      return std::min<int16_t>(spec.max_version, 4);
    default:
      return spec.max_version;
  }
}

}  // namespace fjord::server
