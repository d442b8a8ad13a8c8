// Kafka's order of precedence among quota entities, the DescribeClientQuotas filter, and what AlterClientQuotas
// refuses.
#include "model/client_quota.h"

#include <gtest/gtest.h>

namespace fjord {
namespace {

using P = QuotaEntityPart;

TEST(ClientQuota, TheMostSpecificEntityWithAValueForTheKeyWins) {
  ClientQuotas quotas;
  quotas[{P::default_one(), {}}][std::string(kProducerByteRate)] = 100;
  quotas[{{}, P::named("batch")}][std::string(kProducerByteRate)] = 5;
  quotas[{P::named("alice"), {}}][std::string(kConsumerByteRate)] = 7;
  quotas[{P::named("alice"), P::named("batch")}][std::string(kProducerByteRate)] = 1;

  auto alice_batch = resolve_client_quota(quotas, "alice", "batch", kProducerByteRate);
  ASSERT_TRUE(alice_batch);
  EXPECT_EQ(alice_batch->limit, 1);
  EXPECT_EQ(alice_batch->user, "alice");
  EXPECT_EQ(alice_batch->client_id, "batch");

  // Any user's default outranks a client id alone.
  auto bob_batch = resolve_client_quota(quotas, "bob", "batch", kProducerByteRate);
  ASSERT_TRUE(bob_batch);
  EXPECT_EQ(bob_batch->limit, 100);
  EXPECT_EQ(bob_batch->user, "bob") << "a default user quota is counted per user";
  EXPECT_EQ(bob_batch->client_id, "") << "and shared by all of that user's clients";

  // Per key: alice's consumer quota does not hide the default user's producer quota.
  auto alice_other = resolve_client_quota(quotas, "alice", "other", kProducerByteRate);
  ASSERT_TRUE(alice_other);
  EXPECT_EQ(alice_other->limit, 100);
  EXPECT_EQ(resolve_client_quota(quotas, "alice", "other", kConsumerByteRate)->limit, 7);
  EXPECT_FALSE(resolve_client_quota(quotas, "bob", "other", kConsumerByteRate));
  EXPECT_FALSE(resolve_client_quota(quotas, "bob", "other", kRequestPercentage));

  quotas.erase({P::default_one(), {}});
  auto client_only = resolve_client_quota(quotas, "bob", "batch", kProducerByteRate);
  ASSERT_TRUE(client_only);
  EXPECT_EQ(client_only->limit, 5);
  EXPECT_EQ(client_only->user, "") << "a client-id quota is shared by every user of that client id";
  EXPECT_FALSE(resolve_client_quota({}, "bob", "batch", kProducerByteRate));
}

TEST(ClientQuota, TheDescribeFilterMatchesAsKafkasDoes) {
  const ClientQuotaEntity alice{P::named("alice"), {}};
  const ClientQuotaEntity alice_batch{P::named("alice"), P::named("batch")};
  const ClientQuotaEntity default_user{P::default_one(), {}};
  using M = QuotaFilterComponent::Match;
  const std::vector<QuotaFilterComponent> exact_alice{{"user", M::kExact, "alice"}};
  EXPECT_TRUE(quota_filter_matches(exact_alice, false, alice));
  EXPECT_TRUE(quota_filter_matches(exact_alice, false, alice_batch));
  EXPECT_FALSE(quota_filter_matches(exact_alice, true, alice_batch)) << "strict: no other entity types";
  EXPECT_FALSE(quota_filter_matches(exact_alice, false, default_user));
  const std::vector<QuotaFilterComponent> any_user{{"user", M::kSpecified, std::nullopt}};
  EXPECT_TRUE(quota_filter_matches(any_user, false, default_user));
  EXPECT_TRUE(quota_filter_matches(any_user, false, alice));
  const std::vector<QuotaFilterComponent> defaults{{"user", M::kDefault, std::nullopt}};
  EXPECT_TRUE(quota_filter_matches(defaults, true, default_user));
  EXPECT_FALSE(quota_filter_matches(defaults, true, alice));
  EXPECT_TRUE(quota_filter_matches({}, false, alice_batch)) << "no components: everything";

  EXPECT_TRUE(invalid_quota_filter({{"user", M::kExact, std::nullopt}}));
  EXPECT_TRUE(invalid_quota_filter({{"user", M::kDefault, "alice"}}));
  EXPECT_TRUE(invalid_quota_filter({{"user", M::kSpecified, std::nullopt}, {"user", M::kExact, "a"}}));
  EXPECT_TRUE(invalid_quota_filter({{"ip", M::kSpecified, std::nullopt}}));
  EXPECT_FALSE(invalid_quota_filter({{"user", M::kSpecified, std::nullopt}, {"client-id", M::kExact, "c"}}));
}

TEST(ClientQuota, WhatCannotBeStoredIsRefusedWithAReason) {
  ClientQuotaEntity entity;
  EXPECT_FALSE(parse_quota_entity({{"user", "alice"}, {"client-id", std::nullopt}}, entity));
  EXPECT_EQ(entity.user, P::named("alice"));
  EXPECT_EQ(entity.client_id, P::default_one());
  EXPECT_EQ(quota_entity_text(entity), "user=alice, client-id=<default>");
  EXPECT_TRUE(parse_quota_entity({}, entity));
  EXPECT_TRUE(parse_quota_entity({{"user", "a"}, {"user", "b"}}, entity));
  EXPECT_TRUE(parse_quota_entity({{"user", ""}}, entity));
  EXPECT_TRUE(parse_quota_entity({{"ip", "127.0.0.1"}}, entity));
  EXPECT_TRUE(parse_quota_entity({{"group", "g"}}, entity));

  EXPECT_FALSE(invalid_quota_value(kProducerByteRate, 1024));
  EXPECT_FALSE(invalid_quota_value(kRequestPercentage, 12.5));
  EXPECT_TRUE(invalid_quota_value(kProducerByteRate, 10.5));
  EXPECT_TRUE(invalid_quota_value(kConsumerByteRate, 0));
  EXPECT_TRUE(invalid_quota_value(kRequestPercentage, -1));
  EXPECT_TRUE(invalid_quota_value("controller_mutation_rate", 10));
  EXPECT_TRUE(invalid_quota_value("bytes_per_lunar_cycle", 10));
}

}  // namespace
}  // namespace fjord
