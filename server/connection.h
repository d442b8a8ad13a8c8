// One client connection. Reads size-prefixed requests, hands each to its API's handler as soon as it arrives (so
// pipelined produce requests share an fsync), and writes the responses strictly in request order. Record data
// of fetch responses goes from the log file to the socket with sendfile.
//
// Bad input closes this connection only: a frame larger than socket.request.max.bytes, a request that does not
// decode, an API or version the broker does not serve (ApiVersions excepted: it is answered, KIP-511).
//
// On a listener that asks for it, the connection speaks TLS (the bytes read are decrypted before frames are cut
// from them; responses, file ranges included, are encrypted on their way out) and must authenticate with SASL
// before anything but ApiVersions and the SASL exchange is served: any other request, or one larger than
// sasl.server.max.receive.size, closes it, and so does a failed authentication once its answer has gone.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol/codec_runtime.h"
#include "server/client_activity.h"
#include "server/handlers/registry.h"
#include "server/probe.h"
#include "server/request_context.h"
#include "server/security/listener_security.h"
#include "server/security/tls.h"

namespace fjord::server {

struct ConnectionLimits {
  size_t max_request_bytes = 100 * 1024 * 1024;  // socket.request.max.bytes
  size_t max_requests_in_flight = 64;            // reading pauses beyond this many unanswered requests
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, ServerContext& server, const HandlerRegistry& registry,
             ConnectionLimits limits, std::shared_ptr<const security::ListenerSecurity> listener);
  ~Connection();
  void start();
  void close(const std::string& reason);
  bool closed() const { return closed_; }
  const std::string& peer() const { return peer_; }
  security::Session& session() { return session_; }
  // Stops reading requests for `ms` (a client over its quota, told to wait that long).
  void mute_for(int64_t ms);
  // Whether nothing has been read or written for `limit` and no request is in progress (a long poll is).
  bool idle_for(std::chrono::milliseconds limit, std::chrono::steady_clock::time_point now) const {
    return !closed_ && pending_.empty() && !write_in_progress_ && now - last_active_ >= limit;
  }

 private:
  struct PendingResponse {
    int32_t correlation_id = 0;
    int16_t api_key = 0;
    bool flexible_header = false;
    bool done = false;
    std::optional<protocol::EncodedMessage> message;  // nullopt once done: no response (acks=0)
    std::shared_ptr<std::vector<uint8_t>> frame;      // the request, kept until the response is written
    bool raw = false;                                 // a bare SASL token (SaslHandshake v0): no response header
    bool close_after = false;  // the connection ends once this response has gone (a failed authentication)
  };
  // A piece of what is being written: bytes, or a file range for sendfile.
  struct Chunk {
    std::span<const uint8_t> bytes;
    std::optional<protocol::FileSlice> file;
  };

  void read_more();
  void on_readable();
  // Takes bytes just read: whole frames are dispatched, an incomplete one is kept.
  void take_bytes(std::span<const uint8_t> bytes);
  // Dispatches the whole frames at the start of `bytes`; returns how many bytes they took.
  size_t take_frames(std::span<const uint8_t> bytes);
  void dispatch(std::shared_ptr<std::vector<uint8_t>> frame);
  // A SaslHandshake v0 client's bare token.
  void take_raw_token(std::shared_ptr<std::vector<uint8_t>> frame);
  // Whether the session may send `api_key` now; closes the connection (counted, logged) when it may not.
  bool admitted(int16_t api_key);
  // Ends the connection for want of authentication, counted by `reason`.
  void refuse(const std::string& reason, const std::string& log_line);
  // Decrypts what was read and takes the frames it completes.
  void take_ciphertext(std::span<const uint8_t> bytes);
  // Writes what the TLS session has to send (its handshake) while no response is being written.
  void flush_tls();
  // Fills tls_out_ with the encryption of the next chunks (file ranges read from the log); false when the
  // connection had to close.
  bool encrypt_next_chunks();
  void answer_unsupported_api_versions(const std::shared_ptr<PendingResponse>& slot, int16_t version);
  void write_ready_responses();
  void write_next_chunk();
  void send_file_part(protocol::FileSlice slice);
  void bad_input(const std::string& reason);
  // Counts a handler's time on the event loop against the client's request_percentage
  // (server/quotas/request_quotas.cc).
  void record_request_time(const std::string& client_id, std::chrono::nanoseconds spent);
  bool muted();

  asio::ip::tcp::socket socket_;
  ServerContext& server_;
  const HandlerRegistry& registry_;
  ConnectionLimits limits_;
  std::string peer_;
  std::string peer_host_;    // as Kafka shows it to group tools: "/" and the address
  ClientSoftware software_;  // as named in ApiVersions
  std::shared_ptr<const security::ListenerSecurity> listener_;
  security::Session session_;
  std::unique_ptr<security::TlsSession> tls_;  // null on a plaintext listener
  std::vector<uint8_t> tls_out_;               // ciphertext being written
  bool closed_ = false;
  std::chrono::steady_clock::time_point last_active_ = std::chrono::steady_clock::now();  // last read or write
  // Set once the connection is to end after its queued answers: nothing more is read or dispatched.
  bool ending_ = false;
  bool reading_ = false;
  // Quotas: no request is read before this time; the timer resumes reading then.
  std::chrono::steady_clock::time_point muted_until_{};
  std::optional<asio::steady_timer> unmute_timer_;
  std::chrono::steady_clock::time_point unmute_armed_for_{};  // the time the timer waits for, once armed
  // Requests still waiting (long polls) that give up when the connection closes.
  WaiterList closed_listeners_;

  // Bytes are read only once the socket is readable, into a buffer the event loop shares among all its
  // connections, so an idle connection holds no read buffer at all. What is left of an incomplete small request
  // waits in `partial_`; a large request gets its own buffer, grown as its bytes arrive so that a client claiming
  // a large size costs only what it actually sends.
  std::vector<uint8_t> partial_;
  std::shared_ptr<std::vector<uint8_t>> large_frame_;
  size_t large_frame_size_ = 0;
  size_t large_frame_filled_ = 0;

  std::deque<std::shared_ptr<PendingResponse>> pending_;
  // The responses being written and the chunks they were cut into.
  std::vector<std::shared_ptr<PendingResponse>> writing_;
  std::vector<std::vector<uint8_t>> headers_;
  std::vector<Chunk> chunks_;
  size_t next_chunk_ = 0;
  bool write_in_progress_ = false;
};

}  // namespace fjord::server
