#include "observe/admin_http.h"

#include <httplib.h>
#include <prometheus/text_serializer.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "observe/console/console_html.h"

namespace fjord::observe {

AdminHttp::AdminHttp(Metrics& metrics, HealthCheck unhealthy, std::map<std::string, JsonSource> json_routes)
    : metrics_(metrics),
      unhealthy_(std::move(unhealthy)),
      json_routes_(std::move(json_routes)),
      server_(std::make_unique<httplib::Server>()) {
  for (const auto& [path, source] : json_routes_) {
    server_->Get(path, [source = &source](const httplib::Request&, httplib::Response& response) {
      response.set_content((*source)() + "\n", "application/json");
    });
  }
  server_->Get("/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(kConsoleHtml, "text/html; charset=utf-8");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    prometheus::TextSerializer serializer;
    response.set_content(serializer.Serialize(metrics_.registry()->Collect()), "text/plain; version=0.0.4");
  });
  server_->Get("/health", [this](const httplib::Request&, httplib::Response& response) {
    auto problem = unhealthy_ ? unhealthy_() : std::nullopt;
    if (!problem) {
      response.set_content("{\"status\":\"ok\"}\n", "application/json");
      return;
    }
    response.status = 503;
    response.set_content(nlohmann::json{{"status", "unhealthy"}, {"reason", *problem}}.dump() + "\n",
                         "application/json");
  });
}

AdminHttp::~AdminHttp() { stop(); }

void AdminHttp::start(const std::string& host, int port) {
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ < 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

void AdminHttp::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace fjord::observe
