#include "cli/client_security.h"

#include <stdexcept>

#include "cli/properties.h"
#include "server/security/listener_config.h"

namespace fjord::cli {
namespace {

ClientSecurity& process_security() {
  static ClientSecurity security;
  return security;
}

}  // namespace

ClientSecurity read_command_config(const std::string& path) {
  const auto p = read_properties_file(path);
  auto get = [&](const std::string& key) {
    auto it = p.find(key);
    return it == p.end() ? std::string() : it->second;
  };
  auto first = [&](std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
      if (auto value = get(key); !value.empty()) return value;
    }
    return std::string();
  };
  ClientSecurity s;
  if (auto protocol = get("security.protocol"); !protocol.empty()) s.protocol = protocol;
  for (auto& c : s.protocol) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (s.protocol != "PLAINTEXT" && s.protocol != "SSL" && s.protocol != "SASL_PLAINTEXT" && s.protocol != "SASL_SSL") {
    throw std::runtime_error(path + ": security.protocol " + s.protocol +
                             " is not PLAINTEXT, SSL, SASL_PLAINTEXT or "
                             "SASL_SSL");
  }
  s.mechanism = first({"sasl.mechanism", "sasl.mechanisms"});
  const std::string jaas = get("sasl.jaas.config");
  s.username = first({"sasl.username"});
  s.password = first({"sasl.password"});
  if (s.username.empty()) s.username = server::security::jaas_option(jaas, "username");
  if (s.password.empty()) s.password = server::security::jaas_option(jaas, "password");
  const std::string truststore_type = get("ssl.truststore.type");
  const std::string keystore_type = get("ssl.keystore.type");
  if ((!truststore_type.empty() && truststore_type != "PEM") || (!keystore_type.empty() && keystore_type != "PEM")) {
    throw std::runtime_error(path + ": key and trust stores must be PEM files (ssl.*.type=PEM)");
  }
  s.ca_file = first({"ssl.truststore.location", "ssl.ca.location"});
  s.certificate_file = first({"ssl.keystore.location", "ssl.certificate.location"});
  s.key_file = get("ssl.key.location");
  s.key_password = get("ssl.key.password");
  s.verify_host =
      get("ssl.endpoint.identification.algorithm") != "" || !p.count("ssl.endpoint.identification.algorithm");
  if (s.uses_sasl()) {
    if (s.mechanism.empty()) s.mechanism = "GSSAPI";  // Kafka's default, which Fjord's tools do not speak
    if (s.mechanism != "PLAIN" && s.mechanism != "SCRAM-SHA-256" && s.mechanism != "SCRAM-SHA-512") {
      throw std::runtime_error(path + ": sasl.mechanism " + s.mechanism +
                               " is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512");
    }
    if (s.username.empty() || s.password.empty()) {
      throw std::runtime_error(path +
                               ": SASL needs a user name and password (sasl.jaas.config, or sasl.username and "
                               "sasl.password)");
    }
  }
  return s;
}

void set_client_security(ClientSecurity security) { process_security() = std::move(security); }

client::Properties librdkafka_security_properties(const ClientSecurity& security) {
  client::Properties p;
  if (security.protocol == "PLAINTEXT") return p;
  p["security.protocol"] = security.protocol;
  if (security.uses_sasl()) {
    p["sasl.mechanisms"] = security.mechanism;
    p["sasl.username"] = security.username;
    p["sasl.password"] = security.password;
  }
  if (security.uses_tls()) {
    if (!security.ca_file.empty()) p["ssl.ca.location"] = security.ca_file;
    if (!security.certificate_file.empty()) {
      p["ssl.certificate.location"] = security.certificate_file;
      // A PEM key store holds the key and its chain in one file: OpenSSL finds each in it.
      p["ssl.key.location"] = security.key_file.empty() ? security.certificate_file : security.key_file;
      if (!security.key_password.empty()) p["ssl.key.password"] = security.key_password;
    }
    p["ssl.endpoint.identification.algorithm"] = security.verify_host ? "https" : "none";
  }
  return p;
}

client::Properties with_client_security(client::Properties properties) {
  client::Properties merged = librdkafka_security_properties(client_security());
  for (auto& [key, value] : properties) merged[key] = std::move(value);
  return merged;
}

const ClientSecurity& client_security() { return process_security(); }

}  // namespace fjord::cli
