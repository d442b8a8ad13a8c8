// Producer ids for InitProducerId: unique for the life of the cluster, across restarts. They are reserved from
// the metadata store in blocks, so one durable write serves a thousand producers.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "cluster/metadata_store.h"
#include "model/error_codes.h"

namespace fjord::cluster {

struct ProducerIdAndEpoch {
  ErrorCode error = ErrorCode::kNone;
  int64_t producer_id = -1;
  int16_t epoch = -1;
};

class ProducerIds {
 public:
  static constexpr int64_t kBlockSize = 1000;
  explicit ProducerIds(MetadataStore& metadata) : metadata_(metadata) {}

  // A new producer id, epoch 0: an idempotent producer without a transactional.id.
  void allocate(std::function<void(ProducerIdAndEpoch)> done);
  // The producer id of `transactional_id` with its epoch bumped (a new id when the epoch would overflow).
  // `expected`, when given (InitProducerId v3+), must be the id and epoch the caller last had.
  void for_transactional_id(const std::string& transactional_id, std::optional<ProducerIdAndEpoch> expected,
                            std::function<void(ProducerIdAndEpoch)> done);

 private:
  MetadataStore& metadata_;
  int64_t next_ = 0;
  int64_t block_end_ = 0;
};

}  // namespace fjord::cluster
