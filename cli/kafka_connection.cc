#include "cli/kafka_connection.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "cli/client_security.h"
#include "cli/properties.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/sasl_authenticate.h"
#include "protocol/messages/sasl_handshake.h"
#include "server/security/scram.h"

namespace fjord::cli {
namespace {

constexpr uint32_t kMaxAnswerBytes = 64u << 20;

// One TLS context for the process's connections, made on first use.
std::shared_ptr<server::security::TlsContext> tls_context() {
  static std::shared_ptr<server::security::TlsContext> context = [] {
    const auto& s = client_security();
    server::security::TlsSettings settings;
    settings.truststore_location = s.ca_file;
    settings.keystore_location = s.certificate_file;
    settings.key_location = s.key_file;
    settings.key_password = s.key_password;
    return server::security::TlsContext::client(settings);
  }();
  return context;
}

}  // namespace

KafkaConnection::KafkaConnection(const std::string& host, int port, int timeout_ms)
    : peer_(host + ":" + std::to_string(port)) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) {
    throw std::runtime_error("cannot resolve " + peer_);
  }
  for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
    fd_ = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd_ < 0) continue;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  freeaddrinfo(found);
  if (fd_ < 0) throw std::runtime_error("cannot connect to " + peer_ + ": " + std::strerror(errno));
  try {
    if (client_security().uses_tls()) start_tls(host);
    if (client_security().uses_sasl()) authenticate();
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

void KafkaConnection::start_tls(const std::string& host) {
  tls_ = std::make_unique<server::security::TlsSession>(tls_context()->current(), false,
                                                        client_security().verify_host ? host : std::string());
  flush_tls();
  while (!tls_->established()) receive_tls();
}

void KafkaConnection::authenticate() {
  const auto& s = client_security();
  protocol::SaslHandshakeRequest handshake;
  handshake.mechanism = s.mechanism;
  auto offered = call<protocol::SaslHandshakeResponse>(handshake, 1);
  if (offered.error_code != 0) {
    std::string mechanisms;
    for (const auto& m : offered.mechanisms) mechanisms += (mechanisms.empty() ? "" : ", ") + m;
    throw std::runtime_error(peer_ + " does not take SASL " + s.mechanism + " (it offers: " + mechanisms + ")");
  }
  auto send_token = [&](const std::string& token) {
    protocol::SaslAuthenticateRequest request;
    request.auth_bytes.assign(token.begin(), token.end());
    auto answer = call<protocol::SaslAuthenticateResponse>(request, 2);
    if (answer.error_code != 0) {
      throw std::runtime_error(peer_ + ": " + answer.error_message.value_or("authentication failed"));
    }
    return std::string(answer.auth_bytes.begin(), answer.auth_bytes.end());
  };
  if (s.mechanism == "PLAIN") {
    send_token(std::string(1, '\0') + s.username + std::string(1, '\0') + s.password);
    return;
  }
  auto hash = server::security::scram_hash_by_name(s.mechanism);
  if (!hash) throw std::runtime_error("SASL " + s.mechanism + " is not served by this tool");
  server::security::ScramClientExchange scram(*hash, s.username, s.password);
  auto final_message = scram.final_message(send_token(scram.first_message()));
  if (!final_message) throw std::runtime_error(peer_ + " answered SCRAM with something this tool does not accept");
  if (!scram.verify_server_final(send_token(*final_message))) {
    throw std::runtime_error(peer_ + " did not prove it knows the SCRAM credential");
  }
}

void KafkaConnection::send_raw(const uint8_t* data, size_t size) {
  for (size_t sent = 0; sent < size;) {
    const ssize_t n = ::send(fd_, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("sending to " + peer_ + " failed");
    sent += static_cast<size_t>(n);
  }
}

void KafkaConnection::flush_tls() {
  std::vector<uint8_t> out;
  tls_->take_output(out);
  send_raw(out.data(), out.size());
}

void KafkaConnection::receive_tls() {
  uint8_t buffer[16384];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) throw std::runtime_error("no answer from " + peer_);
  if (auto error = tls_->receive(std::span<const uint8_t>(buffer, static_cast<size_t>(n)), plaintext_)) {
    throw std::runtime_error(peer_ + ": " + *error);
  }
  flush_tls();
}

void KafkaConnection::write_bytes(const uint8_t* data, size_t size) {
  if (!tls_) return send_raw(data, size);
  if (auto error = tls_->send(std::span<const uint8_t>(data, size))) throw std::runtime_error(peer_ + ": " + *error);
  flush_tls();
}

void KafkaConnection::read_exactly(uint8_t* into, size_t length) {
  if (!tls_) {
    for (size_t got = 0; got < length;) {
      const ssize_t n = ::recv(fd_, into + got, length - got, 0);
      if (n <= 0) throw std::runtime_error("no answer from " + peer_);
      got += static_cast<size_t>(n);
    }
    return;
  }
  while (plaintext_.size() < length) receive_tls();
  std::copy_n(plaintext_.begin(), length, into);
  plaintext_.erase(plaintext_.begin(), plaintext_.begin() + static_cast<long>(length));
}

KafkaConnection::~KafkaConnection() {
  if (fd_ >= 0) ::close(fd_);
}

int16_t KafkaConnection::usable_version(int16_t api_key, int16_t ours) {
  if (!broker_versions_) {
    // v0: every broker answers it, whatever it serves.
    auto answer = call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{}, 0);
    if (answer.error_code != 0) throw std::runtime_error(peer_ + " refused ApiVersions");
    broker_versions_.emplace();
    for (const auto& key : answer.api_keys) (*broker_versions_)[key.api_key] = {key.min_version, key.max_version};
  }
  auto it = broker_versions_->find(api_key);
  if (it == broker_versions_->end() || it->second.first > ours) return -1;
  return std::min(ours, it->second.second);
}

protocol::MetadataResponse KafkaConnection::metadata(std::vector<std::string> topics) {
  protocol::MetadataRequest request;
  request.topics.emplace();
  for (auto& t : topics) request.topics->emplace_back().name = std::move(t);
  request.allow_auto_topic_creation = false;
  return call<protocol::MetadataResponse>(request, 12);
}

protocol::MetadataResponse KafkaConnection::metadata_of_all_topics() {
  protocol::MetadataRequest request;
  request.topics.reset();  // null: every topic
  request.allow_auto_topic_creation = false;
  return call<protocol::MetadataResponse>(request, 12);
}

std::vector<uint8_t> KafkaConnection::exchange(const std::vector<uint8_t>& request) {
  std::vector<uint8_t> frame(4 + request.size());
  const auto size = static_cast<uint32_t>(request.size());
  for (size_t i = 0; i < 4; ++i) frame[i] = static_cast<uint8_t>(size >> (24 - 8 * i));
  std::copy(request.begin(), request.end(), frame.begin() + 4);
  write_bytes(frame.data(), frame.size());
  uint8_t prefix[4];
  read_exactly(prefix, 4);
  const uint32_t length =
      (uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) | (uint32_t{prefix[2]} << 8) | prefix[3];
  if (length < 4 || length > kMaxAnswerBytes) throw std::runtime_error("an unreadable answer from " + peer_);
  std::vector<uint8_t> answer(length);
  read_exactly(answer.data(), length);
  return answer;
}

std::unique_ptr<KafkaConnection> connect_any(const std::string& bootstrap) {
  std::stringstream list(bootstrap);
  std::string error = "no bootstrap server given";
  for (std::string address; std::getline(list, address, ',');) {
    auto host_port = split_host_port(address);
    if (!host_port) {
      error = "not HOST:PORT: " + address;
      continue;
    }
    try {
      return std::make_unique<KafkaConnection>(host_port->first, host_port->second);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  throw std::runtime_error(error);
}

}  // namespace fjord::cli
