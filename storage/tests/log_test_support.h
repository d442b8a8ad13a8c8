#pragma once

#include <string>
#include <vector>

#include "model/clock.h"
#include "protocol/record_batch.h"
#include "storage/log.h"
#include "storage/testing/manual_io_pool.h"
#include "storage/testing/simulated_file_system.h"

namespace fjord::storage::testing {

// A produce request's records for `count` records, validated as the broker would.
struct ProducedBatch {
  std::vector<uint8_t> bytes;
  std::vector<protocol::ValidatedBatch> batches;
};

inline ProducedBatch make_batch(int count, int64_t first_timestamp, const std::string& prefix = "v",
                                protocol::Compression compression = protocol::Compression::kNone) {
  std::vector<protocol::Record> records;
  for (int i = 0; i < count; ++i) {
    protocol::Record r;
    r.timestamp = first_timestamp + i;
    std::string value = prefix + std::to_string(i);
    r.value = std::vector<uint8_t>(value.begin(), value.end());
    records.push_back(std::move(r));
  }
  protocol::BatchBuildOptions options;
  options.compression = compression;
  ProducedBatch out;
  out.bytes = protocol::build_batch(records, options);
  auto result = protocol::validate_batches(out.bytes, {});
  if (result.error != ErrorCode::kNone) throw std::runtime_error(result.message);
  out.batches = result.batches;
  return out;
}

inline AppendResult append_batch(Log& log, int count, int64_t first_timestamp, const std::string& prefix = "v") {
  auto produced = make_batch(count, first_timestamp, prefix);
  return log.append(produced.bytes, produced.batches, 0);
}

// Every record readable from `from`, decoded.
inline std::vector<protocol::Record> read_all(FileSystem& fs, const Log& log, int64_t from) {
  (void)fs;
  std::vector<protocol::Record> out;
  int64_t offset = from;
  while (offset < log.log_end_offset()) {
    auto result = log.read(offset, log.log_end_offset(), 1 << 20, true);
    if (result.bytes == 0) break;
    for (const auto& chunk : result.owned) {
      size_t position = 0;
      while (position < chunk.size()) {
        auto header = protocol::parse_batch_header(std::span(chunk).subspan(position));
        auto records = protocol::decode_records(std::span(chunk).subspan(position, header.total_size()), 1 << 26);
        for (auto& r : records) {
          if (r.offset >= offset) out.push_back(std::move(r));
        }
        position += header.total_size();
      }
    }
    offset = out.empty() ? offset : out.back().offset + 1;
  }
  return out;
}

inline std::string value_of(const protocol::Record& r) { return std::string(r.value->begin(), r.value->end()); }

}  // namespace fjord::storage::testing
