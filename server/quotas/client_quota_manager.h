// Measures what clients use against their quotas (model/client_quota.h) and says how long a client that went over
// must wait, as Kafka's quota managers do:
// - a rate is measured over `samples` windows of `window_ms` (quota.window.num, quota.window.size.seconds), and
//   never over less than samples-1 whole windows, so that a client just starting is not judged on its first burst;
// - a client over its quota waits for (rate - quota) / quota of the measured time: long enough that its rate comes
//   back to the quota if it then sends nothing, and never longer than the whole measured span.
// Rates are kept only for the entities a quota applies to, and one not used for a whole measured span is dropped,
// so memory follows the clients active under a quota. Used on the broker's event loop only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "model/client_quota.h"

namespace fjord::server {

enum class QuotaType { kProduce, kFetch, kRequest };

struct QuotaWindow {
  int32_t samples = 11;      // quota.window.num
  int64_t window_ms = 1000;  // quota.window.size.seconds
};

// A rate over sliding windows (the value recorded per second of the measured span).
class WindowedRate {
 public:
  explicit WindowedRate(QuotaWindow window) : window_(window) {}
  void record(double value, int64_t now_ms);
  // The rate now, and the span it was measured over.
  double rate(int64_t now_ms) const;
  int64_t measured_span_ms(int64_t now_ms) const;
  int64_t last_recorded_ms() const { return last_recorded_ms_; }

 private:
  struct Sample {
    int64_t start_ms = 0;
    double value = 0;
  };
  void drop_expired(int64_t now_ms) const;
  QuotaWindow window_;
  mutable std::vector<Sample> samples_;  // oldest first
  int64_t last_recorded_ms_ = 0;
};

class ClientQuotaManager {
 public:
  explicit ClientQuotaManager(QuotaWindow window) : window_(window) {}

  // Counts `value` (bytes, or percent-seconds of the event loop for kRequest) against the quota that applies to
  // `user` and `client_id`, and returns how long the client must now wait (0: within its quota, or none applies).
  int64_t record(QuotaType type, const ClientQuotas& quotas, const std::string& user, const std::string& client_id,
                 double value, int64_t now_ms);
  // Takes back what record() counted: a fetch answered without data because its client was over its quota.
  void unrecord(QuotaType type, const ClientQuotas& quotas, const std::string& user, const std::string& client_id,
                double value, int64_t now_ms);
  // How long the client must wait now, without counting anything.
  int64_t throttle_ms(QuotaType type, const ClientQuotas& quotas, const std::string& user, const std::string& client_id,
                      int64_t now_ms);
  // The longest wait ever asked: the whole measured span.
  int64_t max_throttle_ms() const { return window_.window_ms * window_.samples; }
  size_t tracked() const { return rates_.size(); }

 private:
  using Key = std::tuple<QuotaType, std::string, std::string>;  // type, counted user, counted client id
  int64_t throttle_for(const WindowedRate& rate, double limit, int64_t now_ms) const;
  void drop_idle(int64_t now_ms);

  QuotaWindow window_;
  std::map<Key, WindowedRate> rates_;
  int64_t last_sweep_ms_ = 0;
};

// The key of a quota type ("producer_byte_rate", ...).
std::string_view quota_key(QuotaType type);

}  // namespace fjord::server
