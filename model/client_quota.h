// Client quotas with Kafka's model: a quota entity names a user, a client id, or both, each either by name or as
// the default (<default>, which applies to every name without a quota of its own); its values are byte rates and
// a request-time percentage. Which entity's value limits a request follows Kafka's order of precedence, per key.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fjord {

// The keys Fjord enforces (AlterClientQuotas refuses any other).
inline constexpr std::string_view kProducerByteRate = "producer_byte_rate";
inline constexpr std::string_view kConsumerByteRate = "consumer_byte_rate";
inline constexpr std::string_view kRequestPercentage = "request_percentage";
inline constexpr std::string_view kQuotaEntityUser = "user";
inline constexpr std::string_view kQuotaEntityClientId = "client-id";

// One entity type of an entity: left out, the default, or a name.
struct QuotaEntityPart {
  bool present = false;
  std::optional<std::string> name;  // nullopt: the default
  static QuotaEntityPart named(std::string n) { return {true, std::move(n)}; }
  static QuotaEntityPart default_one() { return {true, std::nullopt}; }
  auto operator<=>(const QuotaEntityPart&) const = default;
};

struct ClientQuotaEntity {
  QuotaEntityPart user;
  QuotaEntityPart client_id;
  auto operator<=>(const ClientQuotaEntity&) const = default;
};

// Entity -> key -> value, as AlterClientQuotas stored them.
using ClientQuotas = std::map<ClientQuotaEntity, std::map<std::string, double>>;

// The quota that limits a request of `user` (the principal's name, "alice", "ANONYMOUS") from `client_id` for
// `key`, and whose usage it counts against: requests that resolve to the same entity share one rate. A quota set
// for <default> counts each name separately, as if it were set for that name.
struct ResolvedQuota {
  double limit = 0;
  std::string user;       // the name the rate is counted under ("" when the quota does not name users)
  std::string client_id;  // likewise
};
std::optional<ResolvedQuota> resolve_client_quota(const ClientQuotas& quotas, const std::string& user,
                                                  const std::string& client_id, std::string_view key);

// A DescribeClientQuotas filter component: an exact name, the default, or any entity of the type.
struct QuotaFilterComponent {
  enum class Match : int8_t { kExact = 0, kDefault = 1, kSpecified = 2 };
  std::string entity_type;
  Match match = Match::kExact;
  std::optional<std::string> name;
};

// Why a filter cannot be applied (INVALID_REQUEST), or nullopt.
std::optional<std::string> invalid_quota_filter(const std::vector<QuotaFilterComponent>& components);
// Whether `entity` passes the filter: it has every type a component names, with the name an exact or default
// component asks for; `strict` also excludes entities of types no component names.
bool quota_filter_matches(const std::vector<QuotaFilterComponent>& components, bool strict,
                          const ClientQuotaEntity& entity);

// Why an entity (its type/name pairs as a request carries them) cannot hold quotas, or nullopt; on success
// `entity` is filled in.
std::optional<std::string> parse_quota_entity(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& parts, ClientQuotaEntity& entity);
// Why `value` cannot be set for `key` (an unknown key, a value not above zero, a fraction of a byte), or nullopt.
std::optional<std::string> invalid_quota_value(std::string_view key, double value);

// "user=alice, client-id=<default>", for tools and logs.
std::string quota_entity_text(const ClientQuotaEntity& entity);

}  // namespace fjord
