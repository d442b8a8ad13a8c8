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

#include "cli/properties.h"
#include "protocol/messages/api_versions.h"

namespace fjord::cli {
namespace {

constexpr uint32_t kMaxAnswerBytes = 64u << 20;

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
  for (size_t sent = 0; sent < frame.size();) {
    const ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("sending to " + peer_ + " failed");
    sent += static_cast<size_t>(n);
  }
  auto read_exactly = [&](uint8_t* into, size_t length) {
    for (size_t got = 0; got < length;) {
      const ssize_t n = ::recv(fd_, into + got, length - got, 0);
      if (n <= 0) throw std::runtime_error("no answer from " + peer_);
      got += static_cast<size_t>(n);
    }
  };
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
