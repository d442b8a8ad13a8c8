// The configuration keys Fjord knows, with Kafka's names, types and defaults (Fjord's where it is safer, said so
// beside the key). A topic key's value comes from the first of: the topic's own setting, the broker's dynamic
// setting of its synonym, the broker's static setting of its synonym, the default.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fjord::cluster {

// Kafka's ConfigEntry types (DescribeConfigs v3+ config_type).
enum class ConfigType : int8_t {
  kBoolean = 1,
  kString = 2,
  kInt = 3,
  kShort = 4,
  kLong = 5,
  kDouble = 6,
  kList = 7,
  kPassword = 9,  // sensitive: DescribeConfigs shows no value
};

// Kafka's ConfigSource values (DescribeConfigs v1+ config_source).
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kTopic = 1,
  kDynamicBroker = 2,
  kDynamicDefaultBroker = 3,
  kStaticBroker = 4,
  kDefault = 5,
};

struct ConfigDefinition {
  std::string_view name;
  ConfigType type;
  std::string_view default_value;
  std::string_view broker_synonym;  // for topic keys: the broker key that sets the default; empty for broker keys
  std::string_view documentation;
  std::span<const std::string_view> allowed_values = {};  // empty: any value of the type
  bool read_only = false;
  // Values of the type that Fjord refuses, because it does not do what they ask (yet), and why.
  std::span<const std::string_view> refused_values = {};
  std::string_view refusal = {};
};

// "org.apache.kafka.coordinator.group.assignor.UniformAssignor" or "uniform" -> "uniform".
std::string assignor_short_name(std::string_view configured);
std::optional<std::string> validate_assignor_list(std::string_view value);

std::span<const ConfigDefinition> topic_config_definitions();
std::span<const ConfigDefinition> broker_config_definitions();
const ConfigDefinition* find_topic_config(std::string_view name);
const ConfigDefinition* find_broker_config(std::string_view name);

// Checks a value against its definition; returns an error message when it does not fit, or when Fjord refuses
// it. `internal_topic`: the value is for one of Fjord's own topics (__consumer_offsets keeps every record it is
// given under cleanup.policy=compact until compaction exists, as its retention must not remove offsets).
std::optional<std::string> validate_config_value(const ConfigDefinition& definition, std::string_view value,
                                                 bool internal_topic = false);

// Settings Kafka has and Fjord does not implement yet: refused (INVALID_CONFIG) with this message rather than
// accepted and ignored. nullopt for a name that is not one of them.
std::optional<std::string> not_implemented(std::string_view name);

using ConfigMap = std::map<std::string, std::string>;

struct ResolvedConfig {
  std::string name;
  std::string value;
  ConfigSource source;
  ConfigType type;
  bool read_only;
  std::string_view documentation;
  // Where else the value could come from, most specific first (DescribeConfigs synonyms).
  std::vector<std::pair<std::string, std::pair<std::string, ConfigSource>>> synonyms;
};

// The broker's view of its settings: static ones from its properties file and --set, dynamic ones from the
// cluster metadata.
struct BrokerSettings {
  ConfigMap static_configs;
  ConfigMap dynamic_configs;

  // The effective value of a broker key (dynamic, static, default).
  std::string get(std::string_view name) const;
  int64_t get_long(std::string_view name) const;
  bool get_bool(std::string_view name) const;
  ResolvedConfig resolve_broker(const ConfigDefinition& definition) const;
  ResolvedConfig resolve_topic(const ConfigDefinition& definition, const ConfigMap& topic_configs) const;
};

}  // namespace fjord::cluster
