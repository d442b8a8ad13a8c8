#include "server/security/secured_broker_link.h"

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <span>

#include "protocol/messages/sasl_authenticate.h"
#include "protocol/messages/sasl_handshake.h"
#include "protocol/request_header.h"
#include "server/security/scram.h"

namespace fjord::server::security {
namespace {

using asio::ip::tcp;

constexpr int16_t kSaslHandshakeVersion = 1;     // tokens in SaslAuthenticate
constexpr int16_t kSaslAuthenticateVersion = 2;  // flexible; the session lifetime in the answer
constexpr size_t kMaxSaslResponseBytes = 64 * 1024;
constexpr size_t kReadChunk = 64 * 1024;

class SecuredLink : public cluster::BrokerLink, public std::enable_shared_from_this<SecuredLink> {
 public:
  using Then = std::function<void(std::optional<std::string> error)>;

  SecuredLink(asio::io_context& io, std::shared_ptr<const InterBrokerClient> client)
      : socket_(io), client_(std::move(client)), chunk_(kReadChunk) {}

  void connect(const std::string& host, int32_t port, Connected done) override {
    auto self = shared_from_this();
    cluster::connect_socket(socket_, host, port,
                            [self, host, done = std::move(done)](std::optional<std::string> error) mutable {
                              if (error) return done(std::move(error));
                              self->secure(host, std::move(done));
                            });
  }

  void exchange(std::vector<uint8_t> request, size_t max_response_bytes, Answered done) override {
    auto self = shared_from_this();
    send(std::move(request), [self, max_response_bytes, done = std::move(done)](std::optional<std::string> error) {
      if (error) return done(std::move(error), {});
      self->read_frame(max_response_bytes, done);
    });
  }

  void close() override {
    std::error_code ignored;
    socket_.close(ignored);
  }

 private:
  // TLS first, when asked for, then SASL.
  void secure(const std::string& host, Connected done) {
    auto self = shared_from_this();
    auto authenticate = [self, done](std::optional<std::string> error) {
      if (error) return done(std::move(error));
      if (!uses_sasl(self->client_->protocol)) return done(std::nullopt);
      self->sasl_handshake(done);
    };
    if (!uses_tls(client_->protocol)) return authenticate(std::nullopt);
    try {
      tls_ = std::make_unique<TlsSession>(client_->tls->current(), false, client_->verify_host ? host : std::string());
    } catch (const std::exception& e) {
      return done(std::string("TLS: ") + e.what());
    }
    handshake(std::move(authenticate));
  }

  void handshake(Then done) {
    auto self = shared_from_this();
    flush([self, done = std::move(done)](std::optional<std::string> error) {
      if (error) return done(std::move(error));
      if (self->tls_->established()) return done(std::nullopt);
      self->receive_more([self, done](std::optional<std::string> e) {
        if (e) return done(std::move(e));
        self->handshake(done);
      });
    });
  }

  // Writes what the TLS session has for the peer.
  void flush(Then done) {
    auto out = std::make_shared<std::vector<uint8_t>>();
    tls_->take_output(*out);
    if (out->empty()) return done(std::nullopt);
    asio::async_write(socket_, asio::buffer(*out), [out, done = std::move(done)](const std::error_code& e, size_t) {
      done(e ? std::optional<std::string>("sending: " + e.message()) : std::nullopt);
    });
  }

  void send(std::vector<uint8_t> bytes, Then done) {
    if (tls_) {
      if (auto error = tls_->send(bytes)) return done(std::move(error));
      return flush(std::move(done));
    }
    auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
    asio::async_write(socket_, asio::buffer(*owned), [owned, done = std::move(done)](const std::error_code& e, size_t) {
      done(e ? std::optional<std::string>("sending: " + e.message()) : std::nullopt);
    });
  }

  // Reads what the socket has and adds the plaintext it completes to inbound_.
  void receive_more(Then done) {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(chunk_), [self, done = std::move(done)](const std::error_code& e, size_t n) {
      if (e) return done("reading: " + e.message());
      std::span<const uint8_t> bytes(self->chunk_.data(), n);
      if (!self->tls_) {
        self->inbound_.insert(self->inbound_.end(), bytes.begin(), bytes.end());
        return done(std::nullopt);
      }
      if (auto error = self->tls_->receive(bytes, self->inbound_)) return done(std::move(error));
      // A handshake step (or a TLS 1.3 key update) may have something to answer.
      self->flush(done);
    });
  }

  void read_frame(size_t max_bytes, Answered done) {
    if (inbound_.size() >= 4) {
      const uint8_t* p = inbound_.data();
      const uint32_t length = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
      if (length < 4 || length > max_bytes) return done("bad response length " + std::to_string(length), {});
      if (inbound_.size() >= 4 + size_t{length}) {
        std::vector<uint8_t> frame(inbound_.begin() + 4, inbound_.begin() + 4 + length);
        inbound_.erase(inbound_.begin(), inbound_.begin() + 4 + length);
        return done(std::nullopt, std::move(frame));
      }
    }
    auto self = shared_from_this();
    receive_more([self, max_bytes, done = std::move(done)](std::optional<std::string> error) {
      if (error) return done(std::move(error), {});
      self->read_frame(max_bytes, done);
    });
  }

  // One SASL request and its answer, on the connection before anything else goes on it.
  template <typename Response, typename Request>
  void call(const Request& request, int16_t version, std::function<void(std::optional<std::string>, Response)> done) {
    const int32_t correlation = ++correlation_;
    exchange(
        protocol::encode_request_frame(request, version, correlation, "fjord-broker"), kMaxSaslResponseBytes,
        [done = std::move(done), version, correlation](std::optional<std::string> error, std::vector<uint8_t> answer) {
          if (error) return done(std::move(error), Response{});
          try {
            done(std::nullopt, protocol::decode_response_frame<Response>(answer, version, correlation));
          } catch (const std::exception& e) {
            done(std::string("SASL: unreadable response: ") + e.what(), Response{});
          }
        });
  }

  void sasl_handshake(Connected done) {
    protocol::SaslHandshakeRequest request;
    request.mechanism = client_->mechanism;
    auto self = shared_from_this();
    call<protocol::SaslHandshakeResponse>(
        request, kSaslHandshakeVersion,
        [self, done = std::move(done)](std::optional<std::string> error, protocol::SaslHandshakeResponse response) {
          if (error) return done(std::move(error));
          if (response.error_code != 0) {
            return done("SASL: the listener does not take " + self->client_->mechanism);
          }
          self->sasl_tokens(done);
        });
  }

  // Sends one token; `then` gets the server's.
  void token(const std::string& bytes, std::function<void(std::optional<std::string>, std::string)> then) {
    protocol::SaslAuthenticateRequest request;
    request.auth_bytes.assign(bytes.begin(), bytes.end());
    call<protocol::SaslAuthenticateResponse>(
        request, kSaslAuthenticateVersion,
        [then = std::move(then)](std::optional<std::string> error, protocol::SaslAuthenticateResponse response) {
          if (error) return then(std::move(error), std::string());
          if (response.error_code != 0) {
            return then("SASL: " + response.error_message.value_or("authentication failed"), std::string());
          }
          then(std::nullopt, std::string(response.auth_bytes.begin(), response.auth_bytes.end()));
        });
  }

  void sasl_tokens(Connected done) {
    const auto& c = *client_;
    if (c.mechanism == "PLAIN") {
      return token(std::string(1, '\0') + c.username + std::string(1, '\0') + c.password,
                   [done](std::optional<std::string> error, std::string) { done(std::move(error)); });
    }
    auto hash = scram_hash_by_name(c.mechanism);
    if (!hash) return done("SASL: " + c.mechanism + " is not a mechanism Fjord speaks");
    auto scram = std::make_shared<ScramClientExchange>(*hash, c.username, c.password);
    auto self = shared_from_this();
    token(scram->first_message(), [self, scram, done](std::optional<std::string> error, std::string server_first) {
      if (error) return done(std::move(error));
      auto final_message = scram->final_message(server_first);
      if (!final_message) return done("SASL: the listener's SCRAM answer does not continue this exchange");
      self->token(*final_message, [scram, done](std::optional<std::string> e, std::string server_final) {
        if (e) return done(std::move(e));
        if (!scram->verify_server_final(server_final)) {
          return done("SASL: the listener did not prove it knows the SCRAM credential");
        }
        done(std::nullopt);
      });
    });
  }

  tcp::socket socket_;
  std::shared_ptr<const InterBrokerClient> client_;
  std::unique_ptr<TlsSession> tls_;
  std::vector<uint8_t> chunk_;    // what one read of the socket takes
  std::vector<uint8_t> inbound_;  // plaintext received and not yet taken as a frame
  int32_t correlation_ = 0;
};

}  // namespace

cluster::BrokerLinkFactory broker_link_factory(std::shared_ptr<const InterBrokerClient> client) {
  if (!client || client->protocol == SecurityProtocol::kPlaintext) return cluster::plaintext_broker_link;
  return [client](asio::io_context& io) -> std::shared_ptr<cluster::BrokerLink> {
    return std::make_shared<SecuredLink>(io, client);
  };
}

}  // namespace fjord::server::security
