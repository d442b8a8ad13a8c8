// How Fjord's own client commands reach a secured listener: Kafka's client settings (`--command-config FILE`, as
// Kafka's tools take them: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location, ...;
// librdkafka's names are read too). The commands that speak the protocol themselves (user, acl, txn, quota) use
// them directly; the ones built on librdkafka get them as librdkafka properties.
#pragma once

#include <map>
#include <string>

#include "client/config.h"

namespace fjord::cli {

struct ClientSecurity {
  std::string protocol = "PLAINTEXT";  // security.protocol
  std::string mechanism;               // sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  std::string username;
  std::string password;
  std::string ca_file;           // ssl.truststore.location (PEM) or ssl.ca.location
  std::string certificate_file;  // ssl.keystore.location (PEM: key and chain) or ssl.certificate.location
  std::string key_file;          // ssl.key.location; empty: in certificate_file
  std::string key_password;      // ssl.key.password
  bool verify_host = true;       // ssl.endpoint.identification.algorithm=https (the default)

  bool uses_tls() const { return protocol == "SSL" || protocol == "SASL_SSL"; }
  bool uses_sasl() const { return protocol == "SASL_PLAINTEXT" || protocol == "SASL_SSL"; }
};

// Reads a properties file; throws std::runtime_error naming what is missing or not understood.
ClientSecurity read_command_config(const std::string& path);

// The process's settings: set once by main from --command-config, read by every connection it opens.
void set_client_security(ClientSecurity security);
const ClientSecurity& client_security();

// The same settings in librdkafka's names (security.protocol, sasl.mechanisms, ssl.ca.location, ...); nothing for
// PLAINTEXT, so a command's own defaults stand.
client::Properties librdkafka_security_properties(const ClientSecurity& security);
// The process's settings as librdkafka properties, with `properties` (a command's own) laid over them.
client::Properties with_client_security(client::Properties properties);

}  // namespace fjord::cli
