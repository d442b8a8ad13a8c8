// The listeners a broker serves, from Kafka's settings: `listeners` (NAME://HOST:PORT, comma-separated),
// `advertised.listeners`, `listener.security.protocol.map`, `inter.broker.listener.name`, and each listener's
// ssl.* / sasl.* settings, which `listener.name.<name>.<setting>` overrides for one listener (as in Kafka).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "cluster/config_definitions.h"
#include "server/security/listener_security.h"
#include "server/security/secured_broker_link.h"

namespace fjord::server::security {

struct ListenerPlan {
  ListenerSecurity security;  // its name, protocol, TLS context and SASL mechanisms
  std::string host;           // to bind ("" or 0.0.0.0: every interface)
  uint16_t port = 0;
  std::optional<std::pair<std::string, int>> advertised;  // from advertised.listeners
};

struct ListenersPlan {
  std::vector<ListenerPlan> listeners;  // in the order `listeners` names them
  std::string inter_broker_listener;    // a name among them
  // How this broker connects to the others' inter-broker listener (TLS and SASL when it uses them).
  std::shared_ptr<const InterBrokerClient> inter_broker_client = std::make_shared<InterBrokerClient>();
  // Why it could not (no credentials, a mechanism the listener does not enable): a single node, which never
  // connects to another broker, starts anyway; a broker in a cluster does not.
  std::string inter_broker_problem;
};

// The plan, or why the settings do not make one (a TLS store that does not load among the reasons).
std::variant<ListenersPlan, std::string> plan_listeners(const cluster::BrokerSettings& settings);

// The settings a `listener.name.<name>.` prefix may override.
bool is_per_listener_setting(std::string_view key);
// "listener.name.sasl_ssl.ssl.keystore.location" -> "ssl.keystore.location"; nullopt for any other key.
std::optional<std::string> per_listener_base_key(std::string_view key);
// The broker setting whose definition a per-listener key follows: itself, or sasl.jaas.config for
// "<mechanism>.sasl.jaas.config".
std::string per_listener_definition_key(std::string_view key);

// The value of `name` ("username", "password") in a JAAS line: `... required username="alice" password="...";`.
std::string jaas_option(const std::string& jaas, const std::string& name);

}  // namespace fjord::server::security
