// Test-only: random values for the generated `randomize` functions used by the round-trip tests.
#pragma once

#include <algorithm>
#include <random>
#include <set>

#include "protocol/codec_runtime.h"

namespace fjord::protocol::testing {

class RandomValues {
 public:
  explicit RandomValues(uint32_t seed) : rng_(seed) {}

  bool coin(int one_in) { return std::uniform_int_distribution<int>(0, one_in - 1)(rng_) == 0; }
  size_t count() { return std::uniform_int_distribution<size_t>(0, 3)(rng_); }

  void fill(bool& v) { v = coin(2); }
  void fill(int8_t& v) { v = static_cast<int8_t>(number()); }
  void fill(int16_t& v) { v = static_cast<int16_t>(number()); }
  void fill(uint16_t& v) { v = static_cast<uint16_t>(number()); }
  void fill(int32_t& v) { v = static_cast<int32_t>(number()); }
  void fill(int64_t& v) { v = static_cast<int64_t>(number()); }
  void fill(double& v) { v = static_cast<double>(number()) / 7.0; }
  void fill(Uuid& v) {
    for (auto& b : v.bytes) b = static_cast<uint8_t>(number());
  }
  void fill(std::string& v) {
    v.clear();
    size_t n = std::uniform_int_distribution<size_t>(0, 12)(rng_);
    for (size_t i = 0; i < n; ++i) v.push_back(static_cast<char>('a' + number() % 26));
  }
  void fill(Bytes& v) { v = bytes(); }
  void fill(Records& v) { v = Records::own(bytes()); }

  // Tags far above any known tag, so they can only be kept as unknown and written back.
  void unknown_tags(TaggedFields& fields) {
    fields.clear();
    if (!coin(3)) return;
    std::set<uint32_t> tags;
    size_t n = 1 + count();
    while (tags.size() < n) tags.insert(1000 + static_cast<uint32_t>(number() % 5000));
    for (uint32_t tag : tags) fields.push_back(TaggedField{tag, bytes()});
  }

 private:
  uint64_t number() { return rng_(); }
  Bytes bytes() {
    Bytes b(std::uniform_int_distribution<size_t>(0, 20)(rng_));
    for (auto& x : b) x = static_cast<uint8_t>(number());
    return b;
  }
  std::mt19937_64 rng_;
};

}  // namespace fjord::protocol::testing
