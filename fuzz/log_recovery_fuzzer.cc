// Any bytes as the files of a partition directory after a crash: a segment's .log, and its offset and time
// indexes. Opening the log must repair or refuse what it finds, never crash, and leave a log whose every
// remaining batch reads back.
#include <cstdint>
#include <vector>

#include "model/clock.h"
#include "storage/io_pool.h"
#include "storage/log.h"
#include "storage/testing/simulated_file_system.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fjord;
  using namespace fjord::storage;
  if (size < 4) return 0;
  // The first two bytes say how the input splits into .log / .index / .timeindex.
  size_t index_size = data[0] % 64;
  size_t time_index_size = data[1] % 64;
  data += 2;
  size -= 2;
  if (index_size + time_index_size > size) return 0;
  testing::SimulatedFileSystem fs;
  fs.create_directories("/d/t-0");
  auto write = [&](const std::string& name, const uint8_t* p, size_t n) {
    fs.open("/d/t-0/" + name, true)->append(std::span<const uint8_t>(p, n));
  };
  write(Segment::index_name(0), data, index_size);
  write(Segment::time_index_name(0), data + index_size, time_index_size);
  write(Segment::log_name(0), data + index_size + time_index_size, size - index_size - time_index_size);
  InlineIoPool io;
  InlineExecutor loop;
  SyncScheduler syncs{io, loop, fs, "/d"};
  ManualClock clock;
  auto log = Log::open(LogContext{fs, io, syncs, loop, clock}, "/d/t-0", LogConfig{});
  for (int64_t offset = log->log_start_offset(); offset < log->log_end_offset();) {
    auto read = log->read(offset, log->log_end_offset(), 1 << 20, true);
    if (read.bytes == 0) break;
    const auto& chunk = read.owned.front();
    if (chunk.size() < protocol::kBatchHeaderSize) __builtin_trap();  // only whole batches may be served
    auto header = protocol::parse_batch_header(chunk);
    if (header.last_offset() < offset) __builtin_trap();  // a read must move forward
    offset = header.next_offset();
  }
  return 0;
}
