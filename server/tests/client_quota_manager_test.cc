// Quota arithmetic on a simulated clock: the rate over sliding windows, the wait that brings a client back to its
// quota, a client throttled to its rate over a long run while another is untouched, and rates forgotten when idle.
#include "server/quotas/client_quota_manager.h"

#include <gtest/gtest.h>

namespace fjord::server {
namespace {

using P = QuotaEntityPart;

ClientQuotas producer_quota(const std::string& client_id, double bytes_per_second) {
  ClientQuotas quotas;
  quotas[{{}, P::named(client_id)}][std::string(kProducerByteRate)] = bytes_per_second;
  return quotas;
}

TEST(WindowedRate, IsMeasuredOverAtLeastAllButOneWindow) {
  WindowedRate rate({11, 1000});
  rate.record(10000, 0);
  EXPECT_EQ(rate.measured_span_ms(0), 10000) << "a new client's first burst is spread over ten windows";
  EXPECT_DOUBLE_EQ(rate.rate(0), 1000);
  rate.record(10000, 15000);
  EXPECT_EQ(rate.measured_span_ms(15000), 10000) << "the first sample expired after eleven windows";
  EXPECT_DOUBLE_EQ(rate.rate(15000), 1000);
  rate.record(11000, 25500);
  EXPECT_EQ(rate.measured_span_ms(25500), 10500);
  EXPECT_DOUBLE_EQ(rate.rate(25500), 2000);
}

TEST(ClientQuotaManager, AsksTheWaitThatBringsTheRateBackToTheQuota) {
  ClientQuotaManager manager({11, 1000});
  const auto quotas = producer_quota("slow", 1000);
  EXPECT_EQ(manager.record(QuotaType::kProduce, quotas, "ANONYMOUS", "slow", 10000, 0), 0) << "exactly at quota";
  // 20,000 bytes over a 10 s span is twice the quota: ten more seconds of nothing bring it back.
  EXPECT_EQ(manager.record(QuotaType::kProduce, quotas, "ANONYMOUS", "slow", 10000, 0), 10000);
  EXPECT_EQ(manager.throttle_ms(QuotaType::kProduce, quotas, "ANONYMOUS", "slow", 0), 10000);
  EXPECT_EQ(manager.record(QuotaType::kProduce, quotas, "ANONYMOUS", "slow", 1e9, 0), manager.max_throttle_ms())
      << "never longer than the measured span";
  EXPECT_EQ(manager.record(QuotaType::kProduce, quotas, "ANONYMOUS", "fast", 1e9, 0), 0) << "no quota, no wait";
  EXPECT_EQ(manager.record(QuotaType::kFetch, quotas, "ANONYMOUS", "slow", 1e9, 0), 0) << "quotas are per key";
  EXPECT_EQ(manager.tracked(), 1u) << "only clients under a quota are measured";
}

TEST(ClientQuotaManager, AFetchAnsweredWithoutDataIsNotCounted) {
  ClientQuotaManager manager({11, 1000});
  ClientQuotas quotas;
  quotas[{P::default_one(), {}}][std::string(kConsumerByteRate)] = 1000;
  EXPECT_GT(manager.record(QuotaType::kFetch, quotas, "alice", "c", 20000, 0), 0);
  manager.unrecord(QuotaType::kFetch, quotas, "alice", "c", 20000, 0);
  EXPECT_EQ(manager.throttle_ms(QuotaType::kFetch, quotas, "alice", "c", 0), 0);
  EXPECT_EQ(manager.throttle_ms(QuotaType::kFetch, quotas, "bob", "c", 0), 0) << "each user has its own rate";
}

TEST(ClientQuotaManager, AClientThatWaitsAsToldKeepsToItsQuotaWhileAnotherRunsFree) {
  ClientQuotaManager manager({11, 1000});
  const auto quotas = producer_quota("slow", 100 * 1024);
  // Each sends 16 KiB requests back to back for ten minutes, the throttled one waiting as it is told.
  int64_t slow_at = 0, fast_at = 0;
  double slow_bytes = 0, fast_bytes = 0;
  const int64_t end = 600 * 1000;
  while (slow_at < end || fast_at < end) {
    if (slow_at <= fast_at) {
      slow_bytes += 16384;
      slow_at += 1 + manager.record(QuotaType::kProduce, quotas, "ANONYMOUS", "slow", 16384, slow_at);
    } else {
      fast_bytes += 16384;
      fast_at += 1 + manager.record(QuotaType::kProduce, quotas, "ANONYMOUS", "fast", 16384, fast_at);
    }
  }
  const double slow_rate = slow_bytes * 1000 / static_cast<double>(slow_at);
  const double fast_rate = fast_bytes * 1000 / static_cast<double>(fast_at);
  EXPECT_NEAR(slow_rate, 100 * 1024, 5 * 1024) << "held to its quota";
  EXPECT_NEAR(fast_rate, 16384 * 1000, 1) << "never waits";
}

TEST(ClientQuotaManager, ForgetsRatesNotUsedForAWholeSpan) {
  ClientQuotaManager manager({11, 1000});
  ClientQuotas quotas;
  quotas[{{}, P::default_one()}][std::string(kRequestPercentage)] = 50;
  for (int i = 0; i < 100; ++i) {
    manager.record(QuotaType::kRequest, quotas, "u", "client-" + std::to_string(i), 1, 20000);
  }
  EXPECT_EQ(manager.tracked(), 100u) << "a default client-id quota is counted per client id";
  manager.record(QuotaType::kRequest, quotas, "u", "late", 1, 20000 + 11000);
  EXPECT_EQ(manager.tracked(), 1u) << "the idle ones went";
}

}  // namespace
}  // namespace fjord::server
