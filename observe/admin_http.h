// The admin HTTP endpoint: /metrics in Prometheus text format, /health (200 when healthy, 503 with the reason
// when not), JSON under /api/ (the lag engine's last sample, its history, the cluster's topics), and the console
// at / (one page, observe/console/index.html, compiled into the binary: no separate build or service). It runs on
// its own thread and only reads (the metrics registry is thread-safe; the JSON sources hand out copies of what
// the event loop last published), so it never stalls the event loop.
//
// Secured, it serves HTTPS from a PEM key store and asks for credentials: a user and password (HTTP Basic, which
// the broker checks against its SCRAM users) or a client certificate from a trusted authority (mutual TLS). /health
// stays open to a probe that has no credentials (it says only "ok" or why not), but not to one without the client
// certificate mutual TLS requires, since that is refused before any request.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "model/metrics.h"

namespace httplib {
class Server;
}

namespace fjord::observe {

struct AdminHttpSecurity {
  std::string keystore_location;    // PEM private key and certificate chain; set: HTTPS
  std::string key_password;         // decrypts the key store's private key
  std::string truststore_location;  // set: a certificate from these authorities is required (mutual TLS)
  // Set: every request but /health needs HTTP Basic credentials that this accepts. Called on the endpoint's thread.
  std::function<bool(const std::string& user, const std::string& password)> check_password;
};

class AdminHttp {
 public:
  // `unhealthy` (optional, called on the endpoint's thread) says why the broker is not healthy, or nullopt.
  using HealthCheck = std::function<std::optional<std::string>()>;
  // Called on the endpoint's thread: the JSON a GET of its path answers.
  using JsonSource = std::function<std::string()>;
  // `json_routes`: path (e.g. "/api/lag") to its source.
  // Throws std::runtime_error when the key or trust store does not load.
  explicit AdminHttp(Metrics& metrics, HealthCheck unhealthy = {}, std::map<std::string, JsonSource> json_routes = {},
                     AdminHttpSecurity security = {});
  ~AdminHttp();
  // Binds and starts serving; throws std::runtime_error when the address cannot be bound. Port 0 picks one.
  void start(const std::string& host, int port);
  int port() const { return port_; }
  void stop();

 private:
  Metrics& metrics_;
  HealthCheck unhealthy_;
  std::map<std::string, JsonSource> json_routes_;
  AdminHttpSecurity security_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace fjord::observe
