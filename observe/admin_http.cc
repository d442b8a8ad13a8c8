#include "observe/admin_http.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <prometheus/text_serializer.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "observe/console/console_html.h"

namespace fjord::observe {
namespace {

// "Basic base64(user:password)" -> user and password.
std::optional<std::pair<std::string, std::string>> basic_credentials(const std::string& header) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() <= kScheme.size() || header.compare(0, kScheme.size(), kScheme) != 0) return std::nullopt;
  const std::string encoded = header.substr(kScheme.size());
  if (encoded.size() % 4 != 0 || encoded.size() > 4096) return std::nullopt;
  std::string decoded(encoded.size() / 4 * 3, '\0');
  const int length =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                      reinterpret_cast<const unsigned char*>(encoded.data()), static_cast<int>(encoded.size()));
  if (length < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = 0;
  for (auto it = encoded.rbegin(); it != encoded.rend() && *it == '=' && padding < 2; ++it) ++padding;
  decoded.resize(static_cast<size_t>(length) - padding);
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded.substr(0, colon), decoded.substr(colon + 1));
}

std::unique_ptr<httplib::Server> make_server(const AdminHttpSecurity& security) {
  if (security.keystore_location.empty()) return std::make_unique<httplib::Server>();
  const char* truststore = security.truststore_location.empty() ? nullptr : security.truststore_location.c_str();
  const char* key_password = security.key_password.empty() ? nullptr : security.key_password.c_str();
  // The PEM key store holds the key and its chain: OpenSSL finds each in the one file.
  auto server = std::make_unique<httplib::SSLServer>(
      security.keystore_location.c_str(), security.keystore_location.c_str(), truststore, nullptr, key_password);
  if (!server->is_valid()) {
    throw std::runtime_error("the admin listener's key store " + security.keystore_location +
                             (truststore ? " or trust store " + security.truststore_location : std::string()) +
                             " does not load");
  }
  return server;
}

}  // namespace

AdminHttp::AdminHttp(Metrics& metrics, HealthCheck unhealthy, std::map<std::string, JsonSource> json_routes,
                     AdminHttpSecurity security)
    : metrics_(metrics),
      unhealthy_(std::move(unhealthy)),
      json_routes_(std::move(json_routes)),
      security_(std::move(security)),
      server_(make_server(security_)) {
  if (security_.check_password) {
    server_->set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& response) {
      if (request.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
      auto credentials = basic_credentials(request.get_header_value("Authorization"));
      if (credentials && security_.check_password(credentials->first, credentials->second)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      response.status = 401;
      response.set_header("WWW-Authenticate", "Basic realm=\"fjord\", charset=\"UTF-8\"");
      response.set_content("{\"error\":\"authentication required\"}\n", "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
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
