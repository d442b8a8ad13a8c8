#include "server/quotas/client_quota_manager.h"

#include <algorithm>
#include <cmath>

namespace fjord::server {

void WindowedRate::drop_expired(int64_t now_ms) const {
  const int64_t expiry = window_.window_ms * window_.samples;
  auto kept =
      std::find_if(samples_.begin(), samples_.end(), [&](const Sample& s) { return now_ms - s.start_ms < expiry; });
  samples_.erase(samples_.begin(), kept);
}

void WindowedRate::record(double value, int64_t now_ms) {
  drop_expired(now_ms);
  if (samples_.empty() || now_ms >= samples_.back().start_ms + window_.window_ms) {
    if (samples_.size() >= static_cast<size_t>(window_.samples)) samples_.erase(samples_.begin());
    samples_.push_back({now_ms, 0});
  }
  samples_.back().value += value;
  last_recorded_ms_ = now_ms;
}

int64_t WindowedRate::measured_span_ms(int64_t now_ms) const {
  drop_expired(now_ms);
  int64_t elapsed = samples_.empty() ? 0 : now_ms - samples_.front().start_ms;
  const int64_t whole_windows = elapsed / window_.window_ms;
  const int64_t at_least = window_.samples - 1;
  if (whole_windows < at_least) elapsed += (at_least - whole_windows) * window_.window_ms;
  return std::max<int64_t>(elapsed, 1);
}

double WindowedRate::rate(int64_t now_ms) const {
  drop_expired(now_ms);
  double total = 0;
  for (const auto& s : samples_) total += s.value;
  return total * 1000.0 / static_cast<double>(measured_span_ms(now_ms));
}

std::string_view quota_key(QuotaType type) {
  switch (type) {
    case QuotaType::kProduce:
      return kProducerByteRate;
    case QuotaType::kFetch:
      return kConsumerByteRate;
    case QuotaType::kRequest:
      return kRequestPercentage;
  }
  return "";
}

int64_t ClientQuotaManager::throttle_for(const WindowedRate& rate, double limit, int64_t now_ms) const {
  const double measured = rate.rate(now_ms);
  if (measured <= limit) return 0;
  const double wait = (measured - limit) / limit * static_cast<double>(rate.measured_span_ms(now_ms));
  return std::clamp<int64_t>(std::llround(wait), 0, max_throttle_ms());
}

int64_t ClientQuotaManager::record(QuotaType type, const ClientQuotas& quotas, const std::string& user,
                                   const std::string& client_id, double value, int64_t now_ms) {
  drop_idle(now_ms);
  auto quota = resolve_client_quota(quotas, user, client_id, quota_key(type));
  if (!quota) return 0;
  auto [at, inserted] = rates_.try_emplace(Key{type, quota->user, quota->client_id}, window_);
  at->second.record(value, now_ms);
  return throttle_for(at->second, quota->limit, now_ms);
}

void ClientQuotaManager::unrecord(QuotaType type, const ClientQuotas& quotas, const std::string& user,
                                  const std::string& client_id, double value, int64_t now_ms) {
  auto quota = resolve_client_quota(quotas, user, client_id, quota_key(type));
  if (!quota) return;
  auto at = rates_.find(Key{type, quota->user, quota->client_id});
  if (at != rates_.end()) at->second.record(-value, now_ms);
}

int64_t ClientQuotaManager::throttle_ms(QuotaType type, const ClientQuotas& quotas, const std::string& user,
                                        const std::string& client_id, int64_t now_ms) {
  auto quota = resolve_client_quota(quotas, user, client_id, quota_key(type));
  if (!quota) return 0;
  auto at = rates_.find(Key{type, quota->user, quota->client_id});
  return at == rates_.end() ? 0 : throttle_for(at->second, quota->limit, now_ms);
}

void ClientQuotaManager::drop_idle(int64_t now_ms) {
  // Once per measured span: a rate not recorded for a whole span has nothing left to say.
  const int64_t span = max_throttle_ms();
  if (now_ms - last_sweep_ms_ < span) return;
  last_sweep_ms_ = now_ms;
  std::erase_if(rates_, [&](const auto& entry) { return now_ms - entry.second.last_recorded_ms() >= span; });
}

}  // namespace fjord::server
