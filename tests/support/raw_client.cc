#include "tests/support/raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace fjord::testing {

RawClient::RawClient(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw std::runtime_error("connect failed");
  }
}

RawClient::~RawClient() { ::close(fd_); }

void RawClient::send_bytes(const std::vector<uint8_t>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the broker may already have closed; the test checks that separately
    sent += static_cast<size_t>(n);
  }
}

void RawClient::send_frame(const std::vector<uint8_t>& frame) {
  std::vector<uint8_t> bytes;
  auto n = static_cast<uint32_t>(frame.size());
  for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<uint8_t>(n >> (8 * i)));
  bytes.insert(bytes.end(), frame.begin(), frame.end());
  send_bytes(bytes);
}

namespace {

// Reads exactly n bytes; false on end of file, error or timeout.
bool read_exactly(int fd, uint8_t* out, size_t n, std::chrono::steady_clock::time_point deadline) {
  size_t got = 0;
  while (got < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

}  // namespace

std::optional<std::vector<uint8_t>> RawClient::receive(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  uint8_t size_bytes[4];
  if (!read_exactly(fd_, size_bytes, 4, deadline)) return std::nullopt;
  uint32_t size = (uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) | (uint32_t{size_bytes[2]} << 8) |
                  size_bytes[3];
  std::vector<uint8_t> frame(size);
  if (!read_exactly(fd_, frame.data(), size, deadline)) return std::nullopt;
  return frame;
}

bool RawClient::closed_by_broker(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  uint8_t byte;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t r = ::recv(fd_, &byte, 1, 0);
    if (r <= 0) return true;
  }
}

std::optional<int16_t> sasl_handshake(RawClient& client, const std::string& mechanism, int16_t version) {
  protocol::SaslHandshakeRequest request;
  request.mechanism = mechanism;
  client.send(request, version, 1);
  auto frame = client.receive();
  if (!frame) return std::nullopt;
  return RawClient::decode<protocol::SaslHandshakeResponse>(*frame, version, false, nullptr).error_code;
}

std::optional<protocol::SaslAuthenticateResponse> sasl_authenticate(RawClient& client, const std::string& token) {
  protocol::SaslAuthenticateRequest request;
  request.auth_bytes.assign(token.begin(), token.end());
  client.send(request, 2, 2);
  auto frame = client.receive();
  if (!frame) return std::nullopt;
  return RawClient::decode<protocol::SaslAuthenticateResponse>(*frame, 2, true, nullptr);
}

bool sasl_plain_login(RawClient& client, const std::string& user, const std::string& password) {
  if (sasl_handshake(client, "PLAIN") != int16_t{0}) return false;
  auto answer = sasl_authenticate(client, std::string(1, '\0') + user + std::string(1, '\0') + password);
  return answer && answer->error_code == 0;
}

}  // namespace fjord::testing
