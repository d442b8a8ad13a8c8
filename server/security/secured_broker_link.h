// This broker as a client of another broker's inter-broker listener when that listener asks for TLS, SASL or both
// (inter.broker.listener.name naming an SSL, SASL_PLAINTEXT or SASL_SSL listener): the TLS handshake with the
// listener's trust store (and key store, for a listener that requires client certificates), then the SASL exchange
// with sasl.mechanism.inter.broker.protocol and the listener's credentials, then requests as on any connection.
#pragma once

#include <memory>
#include <string>

#include "cluster/broker_link.h"
#include "server/security/listener_security.h"

namespace fjord::server::security {

struct InterBrokerClient {
  SecurityProtocol protocol = SecurityProtocol::kPlaintext;
  std::shared_ptr<TlsContext> tls;  // a client context, when the protocol uses TLS
  bool verify_host = true;          // ssl.endpoint.identification.algorithm=https: the certificate names the host
  std::string mechanism;            // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, when the protocol uses SASL
  std::string username;
  std::string password;
};

// Links that speak what `client` says; plaintext ones for a PLAINTEXT listener.
cluster::BrokerLinkFactory broker_link_factory(std::shared_ptr<const InterBrokerClient> client);

}  // namespace fjord::server::security
