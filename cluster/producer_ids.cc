#include "cluster/producer_ids.h"

#include <limits>
#include <memory>

namespace fjord::cluster {

void ProducerIds::allocate(std::function<void(ProducerIdAndEpoch)> done) {
  if (next_ < block_end_) {
    done({ErrorCode::kNone, next_++, 0});
    return;
  }
  auto start = std::make_shared<int64_t>(0);
  metadata_.update(
      [start](ClusterMetadata& m) {
        *start = m.producer_id_block_end;
        m.producer_id_block_end = *start + kBlockSize;
      },
      [this, start, done](std::error_code error) {
        if (error) {
          done({ErrorCode::kCoordinatorNotAvailable, -1, -1});
          return;
        }
        next_ = *start;
        block_end_ = *start + kBlockSize;
        done({ErrorCode::kNone, next_++, 0});
      });
}

void ProducerIds::for_transactional_id(const std::string& transactional_id, std::optional<ProducerIdAndEpoch> expected,
                                       std::function<void(ProducerIdAndEpoch)> done) {
  const auto& known = metadata_.current().transactional_producers;
  auto it = known.find(transactional_id);
  if (expected && expected->producer_id >= 0) {
    bool matches =
        it != known.end() && it->second.producer_id == expected->producer_id && it->second.epoch == expected->epoch;
    if (!matches) {
      done({ErrorCode::kProducerFenced, -1, -1});
      return;
    }
  }
  auto store = [this, transactional_id, done](int64_t producer_id, int16_t epoch) {
    metadata_.update(
        [transactional_id, producer_id, epoch](ClusterMetadata& m) {
          m.transactional_producers[transactional_id] = {producer_id, epoch};
        },
        [done, producer_id, epoch](std::error_code error) {
          if (error) {
            done({ErrorCode::kCoordinatorNotAvailable, -1, -1});
          } else {
            done({ErrorCode::kNone, producer_id, epoch});
          }
        });
  };
  if (it != known.end() && it->second.epoch < std::numeric_limits<int16_t>::max() - 1) {
    store(it->second.producer_id, static_cast<int16_t>(it->second.epoch + 1));
    return;
  }
  allocate([store, done](ProducerIdAndEpoch fresh) {
    if (fresh.error != ErrorCode::kNone) {
      done(fresh);
      return;
    }
    store(fresh.producer_id, 0);
  });
}

}  // namespace fjord::cluster
