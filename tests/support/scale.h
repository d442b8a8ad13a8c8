// Soak tests run the same cases at full size: FJORD_SOAK=1 (or `scripts/test --soak`).
#pragma once

#include <cstdlib>

namespace fjord::testing {

inline bool soak() {
  const char* v = std::getenv("FJORD_SOAK");
  return v && *v && *v != '0';
}

inline long scaled(long ci_count, long soak_count) { return soak() ? soak_count : ci_count; }

}  // namespace fjord::testing
