#include "server/connection.h"

#include <spdlog/spdlog.h>
#include <sys/sendfile.h>

#include <asio/write.hpp>
#include <chrono>

#include "protocol/messages/api_versions.h"
#include "protocol/request_header.h"
#include "server/features.h"
#include "server/security/sasl_server.h"

namespace fjord::server {
namespace {

constexpr size_t kStagingSize = 64 * 1024;
constexpr size_t kMinimumRequestSize = 10;  // api key, version, correlation id, client id length
// Plaintext encrypted per write on a TLS connection: bounds what a large fetch response holds in memory at once.
constexpr size_t kTlsWriteBudget = 256 * 1024;
constexpr int16_t kSaslHandshakeKey = 17;
constexpr int16_t kSaslAuthenticateKey = 36;

uint32_t read_size(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void put_size(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, ServerContext& server, const HandlerRegistry& registry,
                       ConnectionLimits limits, std::shared_ptr<const security::ListenerSecurity> listener)
    : socket_(std::move(socket)),
      server_(server),
      registry_(registry),
      limits_(limits),
      listener_(std::move(listener)) {
  session_.listener = listener_.get();
  session_.authenticated = !security::uses_sasl(listener_->protocol);
  if (listener_->tls) tls_ = std::make_unique<security::TlsSession>(listener_->tls->current(), true);
  std::error_code ec;
  auto endpoint = socket_.remote_endpoint(ec);
  // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d; ACLs and logs name it a.b.c.d.
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  peer_ = ec ? "unknown" : address.to_string() + ":" + std::to_string(endpoint.port());
  peer_host_ = ec ? "" : "/" + address.to_string();
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // Non-blocking for this code's own reads and for sendfile: without it a synchronous read would wait in poll().
  socket_.non_blocking(true, ec);
  server_.probe.connections_accepted.Increment();
  server_.probe.open_connections.Increment();
}

Connection::~Connection() { server_.probe.open_connections.Decrement(); }

void Connection::start() { read_more(); }

void Connection::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  if (!reason.empty()) spdlog::debug("closing connection from {}: {}", peer_, reason);
  std::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (unmute_timer_) unmute_timer_->cancel();
  closed_listeners_.notify_all();
}

void Connection::mute_for(int64_t ms) {
  muted_until_ = std::max(muted_until_, std::chrono::steady_clock::now() + std::chrono::milliseconds(ms));
}

bool Connection::muted() {
  if (muted_until_ <= std::chrono::steady_clock::now()) return false;
  // Armed once per wait: reading is asked for again after every write, and each would otherwise re-arm it.
  if (unmute_armed_for_ == muted_until_) return true;
  unmute_armed_for_ = muted_until_;
  if (!unmute_timer_) unmute_timer_.emplace(socket_.get_executor());
  unmute_timer_->expires_at(muted_until_);
  // Holds the connection for at most the longest wait a quota asks; closing cancels it at once.
  unmute_timer_->async_wait([self = shared_from_this()](std::error_code error) {
    if (!error && !self->closed_) self->read_more();
  });
  return true;
}

void Connection::bad_input(const std::string& reason) {
  spdlog::warn("closing connection from {}: {}", peer_, reason);
  server_.probe.connections_closed_bad_input.Increment();
  close("");
}

void Connection::refuse(const std::string& reason, const std::string& log_line) {
  server_.probe.refused_connections(listener_->name, reason).Increment();
  spdlog::warn("closing connection from {} on listener {}: {}", peer_, listener_->name, log_line);
  close("");
}

void Connection::read_more() {
  if (closed_ || ending_ || reading_ || pending_.size() >= limits_.max_requests_in_flight) return;
  if (muted()) return;
  reading_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](std::error_code error) {
    self->reading_ = false;
    if (self->closed_) return;
    if (error) {
      self->close(error.message());
      return;
    }
    self->on_readable();
  });
}

void Connection::on_readable() {
  // The loop's read buffer: connections on one loop take turns, so one buffer serves them all.
  static thread_local std::vector<uint8_t> scratch(kStagingSize);
  if (muted()) return;
  // A bounded number of reads per wake-up, so that one busy client cannot starve the others.
  for (int round = 0; round < 16 && !closed_ && !ending_ && pending_.size() < limits_.max_requests_in_flight &&
                      muted_until_ <= std::chrono::steady_clock::now();
       ++round) {
    std::error_code error;
    size_t n = 0;
    if (large_frame_ && !tls_) {
      auto& frame = *large_frame_;
      if (large_frame_filled_ == frame.size()) {
        frame.resize(std::min(large_frame_size_, std::max(kStagingSize, 2 * large_frame_filled_)));
      }
      n = socket_.read_some(asio::buffer(frame.data() + large_frame_filled_, frame.size() - large_frame_filled_),
                            error);
    } else {
      n = socket_.read_some(asio::buffer(scratch), error);
    }
    if (error == asio::error::would_block || error == asio::error::try_again) break;
    if (error) {
      close(error == asio::error::eof ? "" : error.message());
      return;
    }
    server_.probe.request_bytes.Increment(static_cast<double>(n));
    last_active_ = std::chrono::steady_clock::now();
    if (tls_) {
      take_ciphertext(std::span<const uint8_t>(scratch.data(), n));
    } else if (large_frame_) {
      large_frame_filled_ += n;
      if (large_frame_filled_ == large_frame_size_) {
        auto frame = std::move(large_frame_);
        large_frame_.reset();
        dispatch(std::move(frame));
      }
    } else {
      take_bytes(std::span<const uint8_t>(scratch.data(), n));
    }
  }
  read_more();
}

void Connection::take_ciphertext(std::span<const uint8_t> bytes) {
  // The plaintext of one read; frames are copied out of it before the next.
  static thread_local std::vector<uint8_t> plaintext;
  plaintext.clear();
  const bool was_established = tls_->established();
  if (auto error = tls_->receive(bytes, plaintext)) {
    if (!was_established) {
      // The alert that says why (an untrusted or missing certificate) is worth one try before closing.
      std::vector<uint8_t> alert;
      tls_->take_output(alert);
      std::error_code ignored;
      if (!alert.empty()) socket_.write_some(asio::buffer(alert), ignored);
      refuse("tls", *error);
    } else {
      close(*error);
    }
    return;
  }
  if (!was_established && tls_->established() && listener_->protocol == security::SecurityProtocol::kSsl) {
    // On an SSL listener the client is who its verified certificate says (Kafka's default principal builder).
    if (auto subject = tls_->peer_subject()) session_.principal = "User:" + *subject;
  }
  if (!plaintext.empty()) take_bytes(plaintext);
  flush_tls();
}

void Connection::take_bytes(std::span<const uint8_t> bytes) {
  if (large_frame_) {
    // Only a TLS connection gets here with a large frame open: a plaintext one reads into the frame directly.
    auto& frame = *large_frame_;
    const size_t n = std::min(bytes.size(), large_frame_size_ - large_frame_filled_);
    if (frame.size() < large_frame_filled_ + n) {
      frame.resize(std::min(large_frame_size_, std::max(large_frame_filled_ + n, 2 * large_frame_filled_)));
    }
    std::copy_n(bytes.data(), n, frame.data() + large_frame_filled_);
    large_frame_filled_ += n;
    bytes = bytes.subspan(n);
    if (large_frame_filled_ == large_frame_size_) {
      auto complete = std::move(large_frame_);
      large_frame_.reset();
      dispatch(std::move(complete));
    }
    if (bytes.empty() || closed_ || ending_) return;
  }
  if (partial_.empty()) {
    size_t used = take_frames(bytes);
    bytes = bytes.subspan(used);
    if (closed_ || large_frame_ || bytes.empty()) return;
    partial_.assign(bytes.begin(), bytes.end());
    return;
  }
  partial_.insert(partial_.end(), bytes.begin(), bytes.end());
  size_t used = take_frames(partial_);
  partial_.erase(partial_.begin(), partial_.begin() + static_cast<long>(used));
  if (large_frame_) partial_.clear();  // its bytes moved into the large frame
  if (partial_.empty() && partial_.capacity() > 4096) partial_ = std::vector<uint8_t>();
}

size_t Connection::take_frames(std::span<const uint8_t> bytes) {
  size_t at = 0;
  while (!closed_ && !ending_ && bytes.size() - at >= 4) {
    uint32_t size = read_size(bytes.data() + at);
    if (!session_.authenticated && size > listener_->max_unauthenticated_request_bytes) {
      refuse("oversized", "request of " + std::to_string(size) +
                              " bytes before authenticating exceeds sasl.server.max.receive.size (" +
                              std::to_string(listener_->max_unauthenticated_request_bytes) + ")");
      return at;
    }
    if (size > limits_.max_request_bytes) {
      bad_input("request of " + std::to_string(size) + " bytes exceeds socket.request.max.bytes (" +
                std::to_string(limits_.max_request_bytes) + ")");
      return at;
    }
    if (size < kMinimumRequestSize && !session_.raw_tokens) {
      bad_input("request of " + std::to_string(size) + " bytes is too short to hold a header");
      return at;
    }
    size_t available = bytes.size() - at - 4;
    const uint8_t* body = bytes.data() + at + 4;
    if (available >= size) {
      dispatch(std::make_shared<std::vector<uint8_t>>(body, body + size));
      at += 4 + size;
      continue;
    }
    if (size + 4 > kStagingSize) {
      // Too big to gather from the shared buffer: continue it in its own, growing one.
      large_frame_ = std::make_shared<std::vector<uint8_t>>(body, body + available);
      large_frame_->resize(std::min<size_t>(size, std::max(kStagingSize, 2 * available)));
      large_frame_size_ = size;
      large_frame_filled_ = available;
      return bytes.size();
    }
    return at;
  }
  return at;
}

bool Connection::admitted(int16_t api_key) {
  const bool unexpired = session_.expires_at_ms == 0 || server_.clock.monotonic_ms() < session_.expires_at_ms;
  if (session_.authenticated && unexpired) return true;
  if (api_key == protocol::kApiVersionsKey || api_key == kSaslHandshakeKey || api_key == kSaslAuthenticateKey) {
    return true;
  }
  if (session_.authenticated) {
    refuse("expired", "request (API key " + std::to_string(api_key) +
                          ") after the session expired without re-authentication (connections.max.reauth.ms)");
  } else {
    refuse("unauthenticated_request",
           "request (API key " + std::to_string(api_key) + ") before authenticating with SASL");
  }
  return false;
}

void Connection::take_raw_token(std::shared_ptr<std::vector<uint8_t>> frame) {
  auto outcome =
      security::take_token(session_, std::string_view(reinterpret_cast<const char*>(frame->data()), frame->size()),
                           server_.partitions.metadata(), server_.clock.monotonic_ms());
  security::report_authentication(server_.probe, session_, outcome, peer_host_);
  if (outcome.error != ErrorCode::kNone) {
    // A SaslHandshake v0 exchange has no way to carry an error: the connection just ends (as Kafka's does), after
    // connection.failed.authentication.delay.ms like any failed authentication.
    ending_ = true;
    if (server_.failed_authentication_delay_ms <= 0) return close("");
    auto timer = std::make_shared<std::unique_ptr<TimerHandle>>();
    *timer = server_.scheduler.schedule_after(server_.failed_authentication_delay_ms, [weak = weak_from_this(), timer] {
      auto fired = std::move(*timer);
      if (auto self = weak.lock()) self->close("");
    });
    return;
  }
  if (outcome.complete) session_.raw_tokens = false;
  auto slot = std::make_shared<PendingResponse>();
  slot->raw = true;
  slot->done = true;
  slot->message = protocol::EncodedMessage{};
  slot->message->bytes.assign(outcome.response.begin(), outcome.response.end());
  pending_.push_back(slot);
  write_ready_responses();
}

void Connection::dispatch(std::shared_ptr<std::vector<uint8_t>> frame) {
  if (closed_ || ending_) return;
  if (session_.raw_tokens) {
    take_raw_token(std::move(frame));
    return;
  }
  auto prefix = protocol::peek_request_prefix(*frame);
  if (!admitted(prefix.api_key)) return;
  const ServedApi* api = registry_.find(prefix.api_key);
  if (!api) {
    bad_input("unknown API key " + std::to_string(prefix.api_key));
    return;
  }
  const auto& spec = *api->spec;
  const int16_t max_version = advertised_max_version(spec, server_.features);
  auto slot = std::make_shared<PendingResponse>();
  slot->correlation_id = prefix.correlation_id;
  slot->api_key = prefix.api_key;
  if (prefix.api_version < spec.min_version || prefix.api_version > max_version) {
    if (prefix.api_key == protocol::kApiVersionsKey) {
      pending_.push_back(slot);
      answer_unsupported_api_versions(slot, prefix.api_version);
      return;
    }
    bad_input(std::string(spec.name) + " v" + std::to_string(prefix.api_version) + " is not supported (" +
              std::to_string(spec.min_version) + "-" + std::to_string(max_version) + ")");
    return;
  }
  slot->flexible_header = protocol::is_flexible(spec, prefix.api_version);
  slot->frame = frame;
  protocol::RequestHeader header;
  protocol::Reader reader(*frame);
  try {
    header = protocol::decode_request_header(reader, spec);
  } catch (const protocol::DecodeError& e) {
    bad_input(std::string("malformed request header: ") + e.what());
    return;
  }
  if (server_.authorizing && api->authorization == Authorization::kClusterAction) {
    const auto operation = AclOperation::kClusterAction;
    const std::string host = peer_host_.empty() ? peer_host_ : peer_host_.substr(1);
    if (!acl_allows(server_.partitions.metadata().acls, server_.acl_policy, session_.principal, host, operation,
                    AclResourceType::kCluster, kClusterResourceName)) {
      // A request only brokers send (transaction markers): from anyone else it is not answered but ends the
      // connection, and is counted.
      refuse("unauthorized_api", std::string(spec.name) + " from " + session_.principal +
                                     ": served only to principals " + "allowed " +
                                     std::string(acl_operation_name(operation)) + " on the cluster");
      return;
    }
  }
  server_.probe.requests(spec.key, std::string(spec.name)).Increment();
  auto* latency = &server_.probe.latency(spec.key, std::string(spec.name));
  const auto arrived = std::chrono::steady_clock::now();
  pending_.push_back(slot);
  auto body = std::span<uint8_t>(*frame).subspan(reader.position());
  // Only under a quota is the handler's time counted (request_percentage).
  const bool between_brokers = api->authorization == Authorization::kClusterAction;
  const bool timed = server_.quotas && session_.authenticated && !between_brokers && !server_.partitions.closing() &&
                     !server_.partitions.metadata().client_quotas.empty();
  const std::string client_id = timed && header.client_id ? *header.client_id : std::string();
  // The responder holds the connection: a request waiting for an fsync or a long poll keeps it open even when
  // nothing is being read or written meanwhile.
  RequestContext context(
      server_, registry_, std::move(header), peer_host_, frame, body,
      [self = shared_from_this(), slot, latency, arrived](std::optional<protocol::EncodedMessage> message) {
        latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - arrived).count());
        slot->done = true;
        slot->message = std::move(message);
        slot->frame.reset();
        self->write_ready_responses();
      },
      closed_listeners_, &software_, this);
  if (between_brokers) context.exempt_from_quotas();
  try {
    api->handler(std::move(context));
    if (timed) record_request_time(client_id, std::chrono::steady_clock::now() - arrived);
  } catch (const protocol::DecodeError& e) {
    bad_input(std::string(spec.name) + " v" + std::to_string(prefix.api_version) + " did not decode: " + e.what());
  } catch (const std::exception& e) {
    spdlog::error("{} v{} from {} failed: {}", spec.name, prefix.api_version, peer_, e.what());
    close("handler failure");
  }
  if (session_.end_after_answer) {
    // The answer (a failed authentication) still goes out; nothing after it is read or served.
    slot->close_after = true;
    ending_ = true;
  }
}

void Connection::answer_unsupported_api_versions(const std::shared_ptr<PendingResponse>& slot, int16_t version) {
  // KIP-511: answer in v0 with UNSUPPORTED_VERSION and the supported ranges, so the client can retry at a version
  // both sides know.
  (void)version;
  protocol::ApiVersionsResponse response;
  response.error_code = wire(ErrorCode::kUnsupportedVersion);
  for (const auto& api : registry_.apis()) {
    response.api_keys.push_back(
        {api.spec->key, api.spec->min_version, advertised_max_version(*api.spec, server_.features), {}});
  }
  protocol::Writer writer;
  response.encode(writer, 0);
  slot->done = true;
  slot->message = writer.take();
  write_ready_responses();
}

void Connection::write_ready_responses() {
  if (closed_ || write_in_progress_) return;
  writing_.clear();
  headers_.clear();
  chunks_.clear();
  next_chunk_ = 0;
  // Take every finished response at the head of the queue: responses leave in request order, never out of it.
  while (!pending_.empty() && pending_.front()->done && writing_.size() < 32) {
    auto slot = std::move(pending_.front());
    pending_.pop_front();
    if (!slot->message) continue;  // acks=0
    writing_.push_back(slot);
  }
  headers_.reserve(writing_.size());
  for (const auto& slot : writing_) {
    auto& message = *slot->message;
    std::vector<uint8_t> header;
    protocol::Writer response_header;
    if (slot->raw) {
      put_size(header, static_cast<uint32_t>(message.total_size()));
    } else {
      protocol::encode_response_header(response_header, slot->correlation_id, slot->api_key, slot->flexible_header);
      const auto& header_bytes = response_header.output().bytes;
      put_size(header, static_cast<uint32_t>(header_bytes.size() + message.total_size()));
      header.insert(header.end(), header_bytes.begin(), header_bytes.end());
    }
    headers_.push_back(std::move(header));
    chunks_.push_back({headers_.back(), std::nullopt});
    size_t at = 0;
    for (const auto& [position, slice] : message.file_slices) {
      if (position > at) chunks_.push_back({std::span(message.bytes).subspan(at, position - at), std::nullopt});
      chunks_.push_back({{}, slice});
      at = position;
    }
    if (at < message.bytes.size()) chunks_.push_back({std::span(message.bytes).subspan(at), std::nullopt});
  }
  if (chunks_.empty()) {
    read_more();
    return;
  }
  write_in_progress_ = true;
  write_next_chunk();
}

void Connection::flush_tls() {
  if (!tls_ || closed_ || write_in_progress_ || !tls_->has_output()) return;
  writing_.clear();
  headers_.clear();
  chunks_.clear();
  next_chunk_ = 0;
  write_in_progress_ = true;
  write_next_chunk();
}

bool Connection::encrypt_next_chunks() {
  static thread_local std::vector<uint8_t> file_bytes;
  tls_out_.clear();
  size_t budget = kTlsWriteBudget;
  while (next_chunk_ < chunks_.size() && budget > 0) {
    auto& chunk = chunks_[next_chunk_];
    std::optional<std::string> error;
    if (chunk.file) {
      // No sendfile through TLS: the record bytes are read, encrypted and written, a bounded piece at a time.
      auto& slice = *chunk.file;
      file_bytes.resize(std::min<size_t>(static_cast<size_t>(slice.length), std::min(budget, kStagingSize)));
      ssize_t n;
      do {
        n = ::pread(slice.fd, file_bytes.data(), file_bytes.size(), slice.position);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        close(n == 0 ? "log file shorter than the fetch response promised" : std::string("pread: ") + strerror(errno));
        return false;
      }
      error = tls_->send(std::span<const uint8_t>(file_bytes.data(), static_cast<size_t>(n)));
      server_.probe.copied_record_bytes.Increment(static_cast<double>(n));
      slice.position += n;
      slice.length -= n;
      budget -= std::min(budget, static_cast<size_t>(n));
      if (slice.length == 0) ++next_chunk_;
    } else {
      error = tls_->send(chunk.bytes);
      budget -= std::min(budget, chunk.bytes.size());
      ++next_chunk_;
    }
    if (error) {
      close(*error);
      return false;
    }
  }
  tls_->take_output(tls_out_);
  return true;
}

void Connection::write_next_chunk() {
  if (closed_) return;
  if (tls_) {
    if (!encrypt_next_chunks()) return;
    if (!tls_out_.empty()) {
      auto self = shared_from_this();
      asio::async_write(socket_, asio::buffer(tls_out_), [self](std::error_code error, size_t written) {
        if (error) {
          self->close(error.message());
          return;
        }
        self->server_.probe.response_bytes.Increment(static_cast<double>(written));
        self->write_next_chunk();
      });
      return;
    }
    // Written out: an idle connection keeps no output buffer.
    tls_out_ = std::vector<uint8_t>();
  }
  if (next_chunk_ == chunks_.size()) {
    write_in_progress_ = false;
    last_active_ = std::chrono::steady_clock::now();
    for (const auto& slot : writing_) {
      if (slot->close_after) {
        close("authentication failed");
        return;
      }
    }
    writing_.clear();
    write_ready_responses();
    read_more();
    return;
  }
  if (chunks_[next_chunk_].file) {
    auto slice = *chunks_[next_chunk_].file;
    ++next_chunk_;
    send_file_part(slice);
    return;
  }
  // Every memory chunk up to the next file slice goes in one gathered write.
  std::vector<asio::const_buffer> buffers;
  size_t bytes = 0;
  while (next_chunk_ < chunks_.size() && !chunks_[next_chunk_].file) {
    buffers.emplace_back(chunks_[next_chunk_].bytes.data(), chunks_[next_chunk_].bytes.size());
    bytes += chunks_[next_chunk_].bytes.size();
    ++next_chunk_;
  }
  auto self = shared_from_this();
  asio::async_write(socket_, buffers, [self, bytes](std::error_code error, size_t) {
    if (error) {
      self->close(error.message());
      return;
    }
    self->server_.probe.response_bytes.Increment(static_cast<double>(bytes));
    self->write_next_chunk();
  });
}

void Connection::send_file_part(protocol::FileSlice slice) {
  while (slice.length > 0) {
    off_t offset = slice.position;
    ssize_t n = ::sendfile(socket_.native_handle(), slice.fd, &offset, static_cast<size_t>(slice.length));
    if (n > 0) {
      server_.probe.sendfile_calls.Increment();
      server_.probe.sendfile_bytes.Increment(static_cast<double>(n));
      server_.probe.response_bytes.Increment(static_cast<double>(n));
      slice.position += n;
      slice.length -= n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto self = shared_from_this();
      socket_.async_wait(asio::ip::tcp::socket::wait_write, [self, slice](std::error_code error) {
        if (error) {
          self->close(error.message());
          return;
        }
        self->send_file_part(slice);
      });
      return;
    }
    if (n < 0 && errno == EINTR) continue;
    // The file ended before the slice did, or the socket failed: the response cannot be completed.
    close(n == 0 ? "log file shorter than the fetch response promised" : std::string("sendfile: ") + strerror(errno));
    return;
  }
  write_next_chunk();
}

security::Session* RequestContext::session() const { return connection_ ? &connection_->session() : nullptr; }

const std::string& RequestContext::principal() const {
  return connection_ ? connection_->session().principal : security::kAnonymousPrincipal;
}

std::vector<cluster::BrokerEndpoint> RequestContext::brokers() const {
  if (!connection_) return server_.brokers();
  return server_.brokers_on(connection_->session().listener->name);
}

std::optional<cluster::BrokerEndpoint> RequestContext::broker(int32_t node_id) const {
  for (auto& b : brokers()) {
    if (b.node_id == node_id) return b;
  }
  return std::nullopt;
}

void RequestContext::close_connection(const std::string& reason) const {
  if (!connection_) return;
  spdlog::warn("closing connection from {}: {}", connection_->peer(), reason);
  connection_->close(reason);
}

}  // namespace fjord::server
