// One client connection. Reads size-prefixed requests, hands each to its API's handler as soon as it arrives (so
// pipelined produce requests share an fsync), and writes the responses strictly in request order. Record data
// of fetch responses goes from the log file to the socket with sendfile.
//
// Bad input closes this connection only: a frame larger than socket.request.max.bytes, a request that does not
// decode, an API or version the broker does not serve (ApiVersions excepted: it is answered, KIP-511).
#pragma once

#include <asio/ip/tcp.hpp>
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

namespace fjord::server {

struct ConnectionLimits {
  size_t max_request_bytes = 100 * 1024 * 1024;  // socket.request.max.bytes
  size_t max_requests_in_flight = 64;            // reading pauses beyond this many unanswered requests
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::ip::tcp::socket socket, ServerContext& server, const HandlerRegistry& registry,
             ConnectionLimits limits);
  ~Connection();
  void start();
  void close(const std::string& reason);
  bool closed() const { return closed_; }
  const std::string& peer() const { return peer_; }

 private:
  struct PendingResponse {
    int32_t correlation_id = 0;
    int16_t api_key = 0;
    bool flexible_header = false;
    bool done = false;
    std::optional<protocol::EncodedMessage> message;  // nullopt once done: no response (acks=0)
    std::shared_ptr<std::vector<uint8_t>> frame;      // the request, kept until the response is written
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
  void answer_unsupported_api_versions(const std::shared_ptr<PendingResponse>& slot, int16_t version);
  void write_ready_responses();
  void write_next_chunk();
  void send_file_part(protocol::FileSlice slice);
  void bad_input(const std::string& reason);

  asio::ip::tcp::socket socket_;
  ServerContext& server_;
  const HandlerRegistry& registry_;
  ConnectionLimits limits_;
  std::string peer_;
  std::string peer_host_;    // as Kafka shows it to group tools: "/" and the address
  ClientSoftware software_;  // as named in ApiVersions
  bool closed_ = false;
  bool reading_ = false;
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
