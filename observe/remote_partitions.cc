#include "observe/remote_partitions.h"

#include "protocol/messages/fetch.h"
#include "protocol/record_batch.h"

namespace fjord::observe {
namespace {

constexpr int16_t kFetchVersion = 12;                // topic names in the body, as every broker serves it
constexpr int32_t kPartitionBytes = 64 * 1024;       // enough for the batch holding a committed offset
constexpr int32_t kResponseBytes = 4 * 1024 * 1024;  // bounds one answer whatever the number of partitions
constexpr size_t kMaxDecompressedBytes = 64 * 1024 * 1024;

// The timestamp of the first record at or after `offset` in fetched batches (control batches skipped), if any.
std::optional<int64_t> first_timestamp(std::span<const uint8_t> records, int64_t offset) {
  size_t at = 0;
  while (records.size() - at >= protocol::kBatchHeaderSize) {
    const auto header = protocol::parse_batch_header(records.subspan(at));
    if (header.batch_length <= 0 || header.total_size() > records.size() - at) break;  // a partial batch ends it
    const auto batch = records.subspan(at, header.total_size());
    at += header.total_size();
    if (header.is_control() || header.next_offset() <= offset) continue;
    for (const auto& record : protocol::decode_records(batch, kMaxDecompressedBytes)) {
      if (record.offset >= offset) return record.timestamp;
    }
  }
  return std::nullopt;
}

}  // namespace

RemotePartitions::RemotePartitions(cluster::BrokerChannels& channels) : channels_(channels) {}

RemotePartitions::~RemotePartitions() { *alive_ = false; }

const RemotePartitions::State* RemotePartitions::find(const Key& key) const {
  auto it = states_.find(key);
  return it == states_.end() || it->second.end_offset < 0 ? nullptr : &it->second;
}

void RemotePartitions::refresh(const std::map<Key, std::pair<int32_t, int64_t>>& wanted) {
  std::erase_if(states_, [&](const auto& entry) { return !wanted.contains(entry.first); });
  std::map<int32_t, protocol::FetchRequest> requests;
  for (const auto& [key, where] : wanted) {
    const auto& [leader, offset] = where;
    if (in_flight_.contains(leader)) continue;
    auto& request = requests[leader];
    if (request.topics.empty() || request.topics.back().topic != key.first) {
      request.replica_id = -1;
      request.max_wait_ms = 0;
      request.min_bytes = 0;
      request.max_bytes = kResponseBytes;
      request.isolation_level = 1;  // read_committed: the end a consumer reads to is the last stable offset
      request.session_id = 0;
      request.session_epoch = -1;
      request.topics.emplace_back().topic = key.first;
    }
    auto& partition = request.topics.back().partitions.emplace_back();
    partition.partition = key.second;
    partition.fetch_offset = offset;
    // Records only where the timestamp at this offset is not known yet.
    const State* known = find(key);
    partition.partition_max_bytes = known && known->timestamp_offset == offset ? 0 : kPartitionBytes;
  }
  for (auto& [leader, request] : requests) {
    in_flight_.insert(leader);
    std::map<Key, int64_t> asked;
    for (const auto& topic : request.topics) {
      for (const auto& p : topic.partitions) asked[{topic.topic, p.partition}] = p.fetch_offset;
    }
    channels_.call<protocol::FetchResponse>(
        leader, request, kFetchVersion,
        [this, alive = std::weak_ptr<bool>(alive_), node = leader,
         asked = std::move(asked)](std::optional<protocol::FetchResponse> response) {
          auto still = alive.lock();
          if (!still || !*still) return;
          in_flight_.erase(node);
          if (!response) return;
          for (auto& topic : response->responses) {
            for (auto& data : topic.partitions) {
              const Key key{topic.topic, data.partition_index};
              auto offset = asked.find(key);
              auto state = states_.find(key);
              if (offset == asked.end()) continue;
              if (data.error_code != 0) {
                states_.erase(key);  // not the leader any more, or the offset is gone: unknown until answered
                continue;
              }
              State& s = state != states_.end() ? state->second : states_[key];
              s.end_offset = data.last_stable_offset >= 0 ? data.last_stable_offset : data.high_watermark;
              s.log_start_offset = data.log_start_offset;
              if (s.timestamp_offset == offset->second) continue;
              try {
                auto records = data.records ? data.records->contiguous() : std::span<uint8_t>();
                if (auto timestamp = first_timestamp(records, offset->second)) {
                  s.timestamp_offset = offset->second;
                  s.timestamp = *timestamp;
                }
              } catch (const std::exception&) {
                // Unreadable records: asked again at the next sample.
              }
            }
          }
        });
  }
}

}  // namespace fjord::observe
