#include "server/security/listener_config.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "cluster/config_list.h"

namespace fjord::server::security {
namespace {

constexpr std::string_view kPerListenerSettings[] = {
    "ssl.keystore.location",
    "ssl.keystore.type",
    "ssl.key.password",
    "ssl.truststore.location",
    "ssl.truststore.type",
    "ssl.client.auth",
    "sasl.enabled.mechanisms",
    "connections.max.reauth.ms",
    "sasl.server.max.receive.size",
    "ssl.endpoint.identification.algorithm",
    "connections.max.idle.ms",
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

struct Endpoint {
  std::string name;
  std::string host;
  int port = 0;
};

// "NAME://HOST:PORT" ("[::1]" for an IPv6 host; an empty host: every interface).
std::variant<Endpoint, std::string> parse_endpoint(const std::string& text, const std::string& setting) {
  auto scheme = text.find("://");
  if (scheme == std::string::npos || scheme == 0) return setting + ": " + text + " is not NAME://HOST:PORT";
  Endpoint endpoint;
  endpoint.name = upper(text.substr(0, scheme));
  auto address = text.substr(scheme + 3);
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return setting + ": " + text + " has no port";
  endpoint.host = address.substr(0, colon);
  if (endpoint.host.size() >= 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
    endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
  }
  try {
    size_t used = 0;
    endpoint.port = std::stoi(address.substr(colon + 1), &used);
    if (used != address.size() - colon - 1 || endpoint.port < 0 || endpoint.port > 65535) throw std::out_of_range("");
  } catch (const std::exception&) {
    return setting + ": " + text + " has no valid port";
  }
  return endpoint;
}

std::variant<std::vector<Endpoint>, std::string> parse_endpoints(const std::string& text, const std::string& setting) {
  std::vector<Endpoint> out;
  std::set<std::string> names;
  for (const auto& part : cluster::config_list_items(text, ',')) {
    auto parsed = parse_endpoint(part, setting);
    if (auto* error = std::get_if<std::string>(&parsed)) return *error;
    auto endpoint = std::get<Endpoint>(parsed);
    if (!names.insert(endpoint.name).second) return setting + " names listener " + endpoint.name + " twice";
    out.push_back(endpoint);
  }
  return out;
}

// A listener's value of `key`: its own listener.name.<name>.<key>, else the broker-wide one, else the default.
std::string listener_setting(const cluster::BrokerSettings& settings, const std::string& listener,
                             const std::string& key) {
  const std::string own = "listener.name." + lower(listener) + "." + key;
  if (auto it = settings.static_configs.find(own); it != settings.static_configs.end()) return it->second;
  return settings.get(key);
}

// How this broker reaches the others' inter-broker listener: its trust store (and key store, shown when the
// listener requires client certificates), and for SASL the mechanism and this broker's own credentials.
std::variant<std::shared_ptr<const InterBrokerClient>, std::string> inter_broker_client(
    const cluster::BrokerSettings& settings, const ListenerSecurity& listener) {
  auto client = std::make_shared<InterBrokerClient>();
  client->protocol = listener.protocol;
  auto get = [&](const std::string& key) { return listener_setting(settings, listener.name, key); };
  if (uses_tls(listener.protocol)) {
    TlsSettings tls;
    tls.keystore_location = get("ssl.keystore.location");
    tls.key_password = get("ssl.key.password");
    tls.truststore_location = get("ssl.truststore.location");
    try {
      client->tls = TlsContext::client(tls);
    } catch (const TlsError& e) {
      return "inter-broker listener " + listener.name + ": " + e.what();
    }
    client->verify_host = get("ssl.endpoint.identification.algorithm") == "https";
  }
  if (uses_sasl(listener.protocol)) {
    client->mechanism = settings.get("sasl.mechanism.inter.broker.protocol");
    const auto& enabled = listener.sasl_mechanisms;
    if (std::find(enabled.begin(), enabled.end(), client->mechanism) == enabled.end()) {
      return "sasl.mechanism.inter.broker.protocol " + client->mechanism + " is not among listener " + listener.name +
             "'s sasl.enabled.mechanisms: brokers could not authenticate to each other";
    }
    const std::string own =
        "listener.name." + lower(listener.name) + "." + lower(client->mechanism) + ".sasl.jaas.config";
    auto configured = settings.static_configs.find(own);
    const std::string jaas =
        configured != settings.static_configs.end() ? configured->second : settings.get("sasl.jaas.config");
    client->username = jaas_option(jaas, "username");
    client->password = jaas_option(jaas, "password");
    if (client->username.empty() || client->password.empty()) {
      return "the inter-broker listener " + listener.name +
             " uses SASL: give this broker's user and password as "
             "listener.name." +
             lower(listener.name) + "." + lower(client->mechanism) +
             ".sasl.jaas.config (username=\"...\" password=\"...\")";
    }
  }
  return std::shared_ptr<const InterBrokerClient>(std::move(client));
}

}  // namespace

bool is_per_listener_setting(std::string_view key) {
  if (std::find(std::begin(kPerListenerSettings), std::end(kPerListenerSettings), key) !=
      std::end(kPerListenerSettings)) {
    return true;
  }
  // <mechanism>.sasl.jaas.config: the broker's own credentials for one mechanism.
  for (const auto& mechanism : supported_sasl_mechanisms()) {
    if (key == lower(mechanism) + ".sasl.jaas.config") return true;
  }
  return false;
}

std::string per_listener_definition_key(std::string_view key) {
  constexpr std::string_view kJaas = ".sasl.jaas.config";
  if (key.size() > kJaas.size() && key.substr(key.size() - kJaas.size()) == kJaas) return "sasl.jaas.config";
  return std::string(key);
}

std::string jaas_option(const std::string& jaas, const std::string& name) {
  std::smatch match;
  if (std::regex_search(jaas, match, std::regex(name + "\\s*=\\s*\"([^\"]*)\""))) return match[1];
  return {};
}

std::optional<std::string> per_listener_base_key(std::string_view key) {
  constexpr std::string_view kPrefix = "listener.name.";
  if (key.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  auto rest = key.substr(kPrefix.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  return std::string(rest.substr(dot + 1));
}

std::variant<ListenersPlan, std::string> plan_listeners(const cluster::BrokerSettings& settings) {
  auto bound = parse_endpoints(settings.get("listeners"), "listeners");
  if (auto* error = std::get_if<std::string>(&bound)) return *error;
  const auto& endpoints = std::get<std::vector<Endpoint>>(bound);
  if (endpoints.empty()) return std::string("listeners names no listener");

  std::map<std::string, std::string> protocols;
  for (const auto& entry : cluster::config_list_items(settings.get("listener.security.protocol.map"), ',')) {
    auto colon = entry.find(':');
    if (colon == std::string::npos) {
      return "listener.security.protocol.map: " + entry + " is not NAME:PROTOCOL";
    }
    protocols[upper(entry.substr(0, colon))] = entry.substr(colon + 1);
  }

  std::map<std::string, Endpoint> advertised;
  if (auto text = settings.get("advertised.listeners"); !text.empty()) {
    auto parsed = parse_endpoints(text, "advertised.listeners");
    if (auto* error = std::get_if<std::string>(&parsed)) return *error;
    for (const auto& e : std::get<std::vector<Endpoint>>(parsed)) advertised[e.name] = e;
  }

  ListenersPlan plan;
  std::set<int> ports;
  for (const auto& endpoint : endpoints) {
    ListenerPlan listener;
    listener.security.name = endpoint.name;
    listener.host = endpoint.host;
    listener.port = static_cast<uint16_t>(endpoint.port);
    if (endpoint.port != 0 && !ports.insert(endpoint.port).second) {
      return "listeners: port " + std::to_string(endpoint.port) + " is used twice";
    }
    auto mapped = protocols.find(endpoint.name);
    if (mapped == protocols.end()) {
      return "listener " + endpoint.name + " has no security protocol in listener.security.protocol.map";
    }
    auto protocol = security_protocol_by_name(mapped->second);
    if (!protocol) {
      return "listener.security.protocol.map: " + mapped->second + " is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL";
    }
    listener.security.protocol = *protocol;
    auto get = [&](const std::string& key) { return listener_setting(settings, endpoint.name, key); };
    for (const auto& key : {"sasl.server.max.receive.size", "connections.max.reauth.ms"}) {
      const auto* definition = cluster::find_broker_config(key);
      if (auto problem = cluster::validate_config_value(*definition, get(key))) return *problem;
    }
    listener.security.max_unauthenticated_request_bytes =
        static_cast<size_t>(std::max<int64_t>(1, std::stoll(get("sasl.server.max.receive.size"))));
    listener.security.max_reauth_ms = std::max<int64_t>(0, std::stoll(get("connections.max.reauth.ms")));
    listener.security.max_idle_ms = std::stoll(get("connections.max.idle.ms"));
    if (uses_sasl(*protocol)) {
      for (const auto& mechanism : cluster::config_list_items(get("sasl.enabled.mechanisms"), ',')) {
        const auto& supported = supported_sasl_mechanisms();
        if (std::find(supported.begin(), supported.end(), mechanism) == supported.end()) {
          return "sasl.enabled.mechanisms: " + mechanism +
                 " is not served (Fjord serves PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512)";
        }
        listener.security.sasl_mechanisms.push_back(mechanism);
      }
      if (listener.security.sasl_mechanisms.empty()) {
        return "listener " + endpoint.name + " uses SASL but sasl.enabled.mechanisms is empty";
      }
    }
    if (uses_tls(*protocol)) {
      for (const auto& key : {"ssl.keystore.type", "ssl.truststore.type", "ssl.client.auth"}) {
        const auto* definition = cluster::find_broker_config(key);
        if (auto problem = cluster::validate_config_value(*definition, get(key))) return *problem;
      }
      TlsSettings tls;
      tls.keystore_location = get("ssl.keystore.location");
      tls.key_password = get("ssl.key.password");
      tls.truststore_location = get("ssl.truststore.location");
      const auto client_auth = get("ssl.client.auth");
      tls.client_auth = client_auth == "required"    ? ClientAuth::kRequired
                        : client_auth == "requested" ? ClientAuth::kRequested
                                                     : ClientAuth::kNone;
      try {
        listener.security.tls = TlsContext::server(tls);
      } catch (const TlsError& e) {
        return "listener " + endpoint.name + ": " + e.what();
      }
    }
    if (auto it = advertised.find(endpoint.name); it != advertised.end()) {
      listener.advertised = std::make_pair(it->second.host, it->second.port);
      advertised.erase(it);
    }
    plan.listeners.push_back(std::move(listener));
  }
  if (!advertised.empty()) {
    return "advertised.listeners names " + advertised.begin()->first + ", which listeners does not";
  }
  plan.inter_broker_listener = upper(settings.get("inter.broker.listener.name"));
  if (plan.inter_broker_listener.empty()) plan.inter_broker_listener = plan.listeners.front().security.name;
  auto inter = std::find_if(plan.listeners.begin(), plan.listeners.end(),
                            [&](const auto& l) { return l.security.name == plan.inter_broker_listener; });
  if (inter == plan.listeners.end()) {
    return "inter.broker.listener.name " + plan.inter_broker_listener + " is not among listeners";
  }
  auto client = inter_broker_client(settings, inter->security);
  if (auto* error = std::get_if<std::string>(&client)) {
    plan.inter_broker_problem = *error;
  } else {
    plan.inter_broker_client = std::get<std::shared_ptr<const InterBrokerClient>>(client);
  }
  return plan;
}

}  // namespace fjord::server::security
