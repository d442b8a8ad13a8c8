// `fjord dev --secure`: what a local broker needs to serve TLS and SCRAM only — a certificate authority and a
// broker certificate for 127.0.0.1/localhost, and a user "dev" with a random password — kept under
// DATA_DIR/security so that a restart reuses them, and the client settings that reach it.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fjord::cli {

struct DevSecurity {
  std::string directory;      // DATA_DIR/security
  std::string ca_file;        // what clients trust (PEM)
  std::string keystore_file;  // the broker's key and certificate (PEM)
  std::string user = "dev";
  std::string password;
  std::string client_properties_file;      // Java clients' and Kafka tools' settings, 0600
  std::string librdkafka_properties_file;  // librdkafka's (kcat -F), 0600
  // The broker's settings (--set) for one SASL_SSL listener on `listen` (HOST:PORT).
  std::vector<std::string> broker_sets(const std::string& listen) const;
  // librdkafka's settings for a client of that listener.
  std::map<std::string, std::string> librdkafka_settings() const;
};

// Makes (or reuses) the authority, certificate and password, and stores the user's SCRAM credentials in the
// single-node metadata of `data_dir` before the broker starts (as Kafka's storage tool adds SCRAM users when it
// formats a directory). Throws std::runtime_error when something cannot be written.
DevSecurity prepare_dev_security(const std::string& data_dir);

}  // namespace fjord::cli
