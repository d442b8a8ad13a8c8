// Any bytes as the records of a produce request: validation must accept or refuse them without crashing, and
// what it accepts must decode record by record.
#include <cstdint>
#include <vector>

#include "protocol/record_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fjord::protocol;
  std::vector<uint8_t> records(data, data + size);
  BatchLimits limits;
  limits.max_decompressed_bytes = 16 * 1024 * 1024;
  auto result = validate_batches(records, limits);
  if (result.error != fjord::ErrorCode::kNone) return 0;
  for (const auto& batch : result.batches) {
    auto bytes = std::span<const uint8_t>(records).subspan(batch.position, batch.header.total_size());
    auto decoded = decode_records(bytes, limits.max_decompressed_bytes);
    if (static_cast<int32_t>(decoded.size()) != batch.header.record_count) __builtin_trap();
  }
  return 0;
}
