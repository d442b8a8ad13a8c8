#include "cluster/broker_link.h"

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace fjord::cluster {
namespace {

using asio::ip::tcp;

class PlaintextLink : public BrokerLink, public std::enable_shared_from_this<PlaintextLink> {
 public:
  explicit PlaintextLink(asio::io_context& io) : socket_(io) {}

  void connect(const std::string& host, int32_t port, Connected done) override {
    connect_socket(socket_, host, port,
                   [self = shared_from_this(), done = std::move(done)](auto error) { done(std::move(error)); });
  }

  void exchange(std::vector<uint8_t> request, size_t max_response_bytes, Answered done) override {
    auto self = shared_from_this();
    auto bytes = std::make_shared<std::vector<uint8_t>>(std::move(request));
    asio::async_write(
        socket_, asio::buffer(*bytes),
        [self, bytes, max_response_bytes, done = std::move(done)](const std::error_code& e, size_t) mutable {
          if (e) return done("sending: " + e.message(), {});
          self->read_response(max_response_bytes, std::move(done));
        });
  }

  void close() override {
    std::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read_response(size_t max_bytes, Answered done) {
    auto self = shared_from_this();
    asio::async_read(socket_, asio::buffer(size_),
                     [self, max_bytes, done = std::move(done)](const std::error_code& e, size_t) mutable {
                       if (e) return done("reading: " + e.message(), {});
                       const uint8_t* p = self->size_;
                       const uint32_t length =
                           (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
                       if (length < 4 || length > max_bytes)
                         return done("bad response length " + std::to_string(length), {});
                       auto body = std::make_shared<std::vector<uint8_t>>(length);
                       asio::async_read(self->socket_, asio::buffer(*body),
                                        [body, done = std::move(done)](const std::error_code& e2, size_t) mutable {
                                          if (e2) return done("reading: " + e2.message(), {});
                                          done(std::nullopt, std::move(*body));
                                        });
                     });
  }

  tcp::socket socket_;
  uint8_t size_[4] = {};
};

}  // namespace

void connect_socket(tcp::socket& socket, const std::string& host, int32_t port, BrokerLink::Connected done) {
  auto resolver = std::make_shared<tcp::resolver>(socket.get_executor());
  resolver->async_resolve(host, std::to_string(port),
                          [&socket, resolver, host, done = std::move(done)](
                              const std::error_code& error, tcp::resolver::results_type addresses) mutable {
                            if (error) return done("resolving " + host + ": " + error.message());
                            asio::async_connect(
                                socket, addresses,
                                [&socket, done = std::move(done)](const std::error_code& e, const tcp::endpoint&) {
                                  if (e) return done("connecting: " + e.message());
                                  std::error_code ignored;
                                  socket.set_option(tcp::no_delay(true), ignored);
                                  done(std::nullopt);
                                });
                          });
}

std::shared_ptr<BrokerLink> plaintext_broker_link(asio::io_context& io) { return std::make_shared<PlaintextLink>(io); }

}  // namespace fjord::cluster
