#include "model/client_quota.h"

#include <cmath>

namespace fjord {
namespace {

const double* value_of(const ClientQuotas& quotas, const ClientQuotaEntity& entity, std::string_view key) {
  auto found = quotas.find(entity);
  if (found == quotas.end()) return nullptr;
  auto value = found->second.find(std::string(key));
  return value == found->second.end() ? nullptr : &value->second;
}

}  // namespace

std::optional<ResolvedQuota> resolve_client_quota(const ClientQuotas& quotas, const std::string& user,
                                                  const std::string& client_id, std::string_view key) {
  if (quotas.empty()) return std::nullopt;
  using P = QuotaEntityPart;
  const P named_user = P::named(user), default_user = P::default_one(), no_user{};
  const P named_client = P::named(client_id), default_client = P::default_one(), no_client{};
  // Kafka's order: the most specific entity that has a value for the key wins.
  struct Level {
    P user_part, client_part;
  };
  const Level levels[] = {
      {named_user, named_client},   {named_user, default_client},   {named_user, no_client},
      {default_user, named_client}, {default_user, default_client}, {default_user, no_client},
      {no_user, named_client},      {no_user, default_client},
  };
  for (const auto& level : levels) {
    if (const double* limit = value_of(quotas, {level.user_part, level.client_part}, key)) {
      return ResolvedQuota{*limit, level.user_part.present ? user : "", level.client_part.present ? client_id : ""};
    }
  }
  return std::nullopt;
}

std::optional<std::string> invalid_quota_filter(const std::vector<QuotaFilterComponent>& components) {
  bool user = false, client = false;
  for (const auto& c : components) {
    bool* seen = nullptr;
    if (c.entity_type == kQuotaEntityUser) seen = &user;
    if (c.entity_type == kQuotaEntityClientId) seen = &client;
    if (c.entity_type.empty()) return "Invalid empty entity type";
    if (!seen) return "Unsupported entity type " + c.entity_type + " (Fjord keeps user and client-id quotas)";
    if (*seen) return "Entity type " + c.entity_type + " cannot appear more than once in the filter";
    *seen = true;
    switch (c.match) {
      case QuotaFilterComponent::Match::kExact:
        if (!c.name) return "An exact match for " + c.entity_type + " needs a name";
        break;
      case QuotaFilterComponent::Match::kDefault:
      case QuotaFilterComponent::Match::kSpecified:
        if (c.name) return "Only an exact match for " + c.entity_type + " takes a name";
        break;
      default:
        return "Unknown match type " + std::to_string(static_cast<int>(c.match));
    }
  }
  return std::nullopt;
}

bool quota_filter_matches(const std::vector<QuotaFilterComponent>& components, bool strict,
                          const ClientQuotaEntity& entity) {
  const size_t types = (entity.user.present ? 1 : 0) + (entity.client_id.present ? 1 : 0);
  if (strict && types != components.size()) return false;
  for (const auto& c : components) {
    const QuotaEntityPart& part = c.entity_type == kQuotaEntityUser ? entity.user : entity.client_id;
    if (!part.present) return false;
    if (c.match == QuotaFilterComponent::Match::kExact && part.name != c.name) return false;
    if (c.match == QuotaFilterComponent::Match::kDefault && part.name) return false;
  }
  return true;
}

std::optional<std::string> parse_quota_entity(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& parts, ClientQuotaEntity& entity) {
  entity = {};
  if (parts.empty()) return "Invalid empty client quota entity";
  for (const auto& [type, name] : parts) {
    QuotaEntityPart* part = nullptr;
    if (type == kQuotaEntityUser) part = &entity.user;
    if (type == kQuotaEntityClientId) part = &entity.client_id;
    if (type == "ip") return "ip quotas (connection_creation_rate) are not served by Fjord";
    if (!part) return "Unhandled client quota entity type: " + type;
    if (part->present) return "Invalid client quota entity, duplicate entity entry " + type;
    if (name && name->empty()) return "Empty " + type + " not supported";
    *part = {true, name};
  }
  return std::nullopt;
}

std::optional<std::string> invalid_quota_value(std::string_view key, double value) {
  const bool bytes = key == kProducerByteRate || key == kConsumerByteRate;
  if (!bytes && key != kRequestPercentage) {
    if (key == "controller_mutation_rate") return "controller_mutation_rate is not enforced by Fjord";
    return "Invalid configuration key " + std::string(key);
  }
  if (!(value > 0.0) || !std::isfinite(value)) return "Quota " + std::string(key) + " must be greater than 0";
  if (bytes && std::floor(value) != value) return "Quota " + std::string(key) + " must be a whole number of bytes";
  return std::nullopt;
}

std::string quota_entity_text(const ClientQuotaEntity& entity) {
  std::string out;
  auto add = [&](std::string_view type, const QuotaEntityPart& part) {
    if (!part.present) return;
    if (!out.empty()) out += ", ";
    out += std::string(type) + "=" + (part.name ? *part.name : "<default>");
  };
  add(kQuotaEntityUser, entity.user);
  add(kQuotaEntityClientId, entity.client_id);
  return out;
}

}  // namespace fjord
