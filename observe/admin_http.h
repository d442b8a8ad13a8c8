// The admin HTTP endpoint: /metrics in Prometheus text format, /health (200 when healthy, 503 with the reason
// when not) and /api/lag (the lag engine's last sample as JSON). It runs on its own thread and only reads (the metrics
// registry is thread-safe), so it never stalls the event loop.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "model/metrics.h"

namespace httplib {
class Server;
}

namespace fjord::observe {

class AdminHttp {
 public:
  // `unhealthy` (optional, called on the endpoint's thread) says why the broker is not healthy, or nullopt.
  using HealthCheck = std::function<std::optional<std::string>()>;
  // `lag` (optional, called on the endpoint's thread) gives /api/lag's JSON.
  using JsonSource = std::function<std::string()>;
  explicit AdminHttp(Metrics& metrics, HealthCheck unhealthy = {}, JsonSource lag = {});
  ~AdminHttp();
  // Binds and starts serving; throws std::runtime_error when the address cannot be bound. Port 0 picks one.
  void start(const std::string& host, int port);
  int port() const { return port_; }
  void stop();

 private:
  Metrics& metrics_;
  HealthCheck unhealthy_;
  JsonSource lag_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace fjord::observe
