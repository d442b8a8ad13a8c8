// Where requests meet client quotas: a produce request's bytes and a fetch answer's bytes are counted when the
// answer is ready, a request's time on the event loop once its handler returns (connection.cc), and a client over
// any of its quotas gets the longest wait they ask in throttle_time_ms while its connection is not read for that
// long (KIP-219: the answer goes at once, the client is muted).
#include <algorithm>

#include "protocol/messages/produce.h"
#include "server/connection.h"
#include "server/probe.h"
#include "server/quotas/client_quota_manager.h"
#include "server/request_context.h"

namespace fjord::server {
namespace {

// The user a quota names: the principal's name ("alice" for "User:alice").
std::string quota_user(const std::string& principal) {
  const auto colon = principal.find(':');
  return colon == std::string::npos ? principal : principal.substr(colon + 1);
}

// The quotas to enforce: none without a quota manager, and none while the broker closes its partitions (a fetch
// they wake is answered as the metadata may already be gone).
const ClientQuotas* quotas_in_force(const ServerContext& server) {
  if (!server.quotas || server.partitions.closing()) return nullptr;
  const auto& quotas = server.partitions.metadata().client_quotas;
  return quotas.empty() ? nullptr : &quotas;
}

}  // namespace

bool RequestContext::fetch_quota_applies() const {
  const auto* in_force = quotas_in_force(server_);
  if (!in_force || !connection_) return false;
  return resolve_client_quota(*in_force, quota_user(principal()), client_id(), kConsumerByteRate).has_value();
}

bool RequestContext::fetch_throttled(int64_t bytes) const {
  const auto* in_force = quotas_in_force(server_);
  if (!in_force || !connection_) return false;
  const auto& quotas = *in_force;
  const auto user = quota_user(principal());
  const int64_t now = server_.clock.monotonic_ms();
  const int64_t wait =
      server_.quotas->record(QuotaType::kFetch, quotas, user, client_id(), static_cast<double>(bytes), now);
  if (wait <= 0) return false;
  server_.quotas->unrecord(QuotaType::kFetch, quotas, user, client_id(), static_cast<double>(bytes), now);
  throttle_ms_ = std::max(throttle_ms_, static_cast<int32_t>(wait));
  server_.probe.throttled(QuotaType::kFetch).Increment();
  return true;
}

int32_t RequestContext::throttle_before_answer() const {
  const auto* in_force = quotas_in_force(server_);
  if (!in_force || !connection_ || quota_exempt_) return throttle_ms_;
  const auto& quotas = *in_force;
  const auto user = quota_user(principal());
  const int64_t now = server_.clock.monotonic_ms();
  int64_t wait = throttle_ms_;
  if (header_.api_key == protocol::ProduceRequest::kApiKey) {
    const int64_t produce = server_.quotas->record(QuotaType::kProduce, quotas, user, client_id(),
                                                   static_cast<double>(frame_ ? frame_->size() : 0), now);
    if (produce > 0) server_.probe.throttled(QuotaType::kProduce).Increment();
    wait = std::max(wait, produce);
  }
  const int64_t request = server_.quotas->throttle_ms(QuotaType::kRequest, quotas, user, client_id(), now);
  if (request > 0) server_.probe.throttled(QuotaType::kRequest).Increment();
  wait = std::max(wait, request);
  if (wait > 0) {
    server_.probe.throttle_seconds.Increment(static_cast<double>(wait) / 1000.0);
    connection_->mute_for(wait);
  }
  return static_cast<int32_t>(wait);
}

void Connection::record_request_time(const std::string& client_id, std::chrono::nanoseconds spent) {
  const auto* in_force = quotas_in_force(server_);
  if (!in_force) return;
  const auto& quotas = *in_force;
  // request_percentage is in percent of one event loop: a second spent is 100 percent-seconds.
  const double percent_seconds = std::chrono::duration<double>(spent).count() * 100.0;
  server_.quotas->record(QuotaType::kRequest, quotas, quota_user(session_.principal), client_id, percent_seconds,
                         server_.clock.monotonic_ms());
}

}  // namespace fjord::server
