// CRC-32C (Castagnoli), the checksum of Kafka record batches.
#pragma once

#include <cstdint>
#include <span>

namespace fjord::protocol {

uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc = 0);

}  // namespace fjord::protocol
