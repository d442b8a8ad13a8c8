#include "server/security/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstring>

namespace fjord::server::security {
namespace {

int password_callback(char* buffer, int size, int, void* userdata) {
  const auto* password = static_cast<const std::string*>(userdata);
  if (!password || password->empty() || static_cast<int>(password->size()) > size) return 0;
  std::memcpy(buffer, password->data(), password->size());
  return static_cast<int>(password->size());
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown TLS error" : out;
}

std::shared_ptr<TlsContext> TlsContext::server(TlsSettings settings) {
  if (settings.keystore_location.empty()) throw TlsError("a TLS listener needs ssl.keystore.location");
  if (settings.client_auth != ClientAuth::kNone && settings.truststore_location.empty()) {
    throw TlsError("ssl.client.auth needs ssl.truststore.location (the authorities whose client certificates count)");
  }
  std::shared_ptr<TlsContext> context(new TlsContext(std::move(settings), true));
  context->context_ = context->load();
  context->loaded_stamps_ = context->stamps();
  return context;
}

std::shared_ptr<TlsContext> TlsContext::client(TlsSettings settings) {
  std::shared_ptr<TlsContext> context(new TlsContext(std::move(settings), false));
  context->context_ = context->load();
  context->loaded_stamps_ = context->stamps();
  return context;
}

TlsContext::TlsContext(TlsSettings settings, bool server) : settings_(std::move(settings)), server_(server) {}

TlsContext::~TlsContext() = default;

std::vector<TlsContext::FileStamp> TlsContext::stamps() const {
  std::vector<FileStamp> out;
  for (const auto* path : {&settings_.keystore_location, &settings_.truststore_location}) {
    FileStamp stamp;
    struct stat info {};
    if (!path->empty() && ::stat(path->c_str(), &info) == 0) {
      stamp.modified_ns = int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
      stamp.size = info.st_size;
    }
    out.push_back(stamp);
  }
  return out;
}

std::shared_ptr<SSL_CTX> TlsContext::load() const {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(server_ ? TLS_server_method() : TLS_client_method()), SSL_CTX_free);
  if (!context) throw TlsError("cannot create a TLS context: " + openssl_errors());
  SSL_CTX* ctx = context.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // An idle connection gives its record buffers back: a broker holds thousands of mostly idle connections.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (!settings_.keystore_location.empty()) {
    SSL_CTX_set_default_passwd_cb(ctx, password_callback);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, const_cast<std::string*>(&settings_.key_password));
    if (SSL_CTX_use_certificate_chain_file(ctx, settings_.keystore_location.c_str()) != 1) {
      throw TlsError("ssl.keystore.location " + settings_.keystore_location +
                     ": no PEM certificate chain: " + openssl_errors());
    }
    const std::string& key = settings_.key_location.empty() ? settings_.keystore_location : settings_.key_location;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      throw TlsError(key + ": no PEM private key (or a wrong ssl.key.password): " + openssl_errors());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      throw TlsError("ssl.keystore.location " + settings_.keystore_location +
                     ": the private key does not match the certificate");
    }
    // The callback's userdata must not outlive this object; the key is loaded now, so it is no longer needed.
    SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);
  }
  if (!settings_.truststore_location.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, settings_.truststore_location.c_str(), nullptr) != 1) {
      throw TlsError("ssl.truststore.location " + settings_.truststore_location +
                     ": no PEM certificates: " + openssl_errors());
    }
  } else if (!server_) {
    SSL_CTX_set_default_verify_paths(ctx);
  }
  if (server_) {
    int mode = SSL_VERIFY_NONE;
    if (settings_.client_auth == ClientAuth::kRequested) mode = SSL_VERIFY_PEER;
    if (settings_.client_auth == ClientAuth::kRequired) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
    if (settings_.client_auth != ClientAuth::kNone) {
      if (auto* names = SSL_load_client_CA_file(settings_.truststore_location.c_str())) {
        SSL_CTX_set_client_CA_list(ctx, names);
      }
    }
    // Session tickets would let a client resume without showing its certificate again; a broker gains little
    // from resumption, so every connection does the full handshake.
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  return context;
}

std::shared_ptr<SSL_CTX> TlsContext::current() {
  std::lock_guard lock(mutex_);
  auto now = stamps();
  if (now != loaded_stamps_) {
    loaded_stamps_ = now;
    try {
      context_ = load();
      ++reloads_;
      spdlog::info("TLS key and trust stores reloaded ({})", settings_.keystore_location);
    } catch (const TlsError& e) {
      spdlog::error("TLS stores changed but do not load; keeping the previous ones: {}", e.what());
    }
  }
  return context_;
}

TlsSession::TlsSession(const std::shared_ptr<SSL_CTX>& context, bool server, const std::string& server_host) {
  ssl_ = SSL_new(context.get());
  if (!ssl_) throw TlsError("cannot create a TLS session: " + openssl_errors());
  input_ = BIO_new(BIO_s_mem());
  output_ = BIO_new(BIO_s_mem());
  // An empty input means "wait for more", not end of stream.
  BIO_set_mem_eof_return(input_, -1);
  BIO_set_mem_eof_return(output_, -1);
  SSL_set_bio(ssl_, input_, output_);
  if (server) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
    if (!server_host.empty()) {
      // The certificate must name the host: an address as an IP entry, a name as a DNS entry (and then sent as
      // the server name indication too).
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), server_host.c_str()) != 1) {
        SSL_set_tlsext_host_name(ssl_, server_host.c_str());
        SSL_set1_host(ssl_, server_host.c_str());
      }
    }
    drive_handshake();  // the ClientHello
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

std::optional<std::string> TlsSession::drive_handshake() {
  if (established_) return std::nullopt;
  ERR_clear_error();
  int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    established_ = true;
    return std::nullopt;
  }
  int error = SSL_get_error(ssl_, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return std::nullopt;
  std::string reason = "TLS handshake failed: " + openssl_errors();
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) reason += " (" + std::string(X509_verify_cert_error_string(verify)) + ")";
  return reason;
}

std::optional<std::string> TlsSession::receive(std::span<const uint8_t> ciphertext, std::vector<uint8_t>& plaintext) {
  while (!ciphertext.empty()) {
    int written = BIO_write(input_, ciphertext.data(), static_cast<int>(ciphertext.size()));
    if (written <= 0) return "TLS: cannot buffer input";
    ciphertext = ciphertext.subspan(static_cast<size_t>(written));
  }
  if (!established_) {
    if (auto error = drive_handshake()) return error;
    if (!established_) return std::nullopt;
  }
  while (true) {
    const size_t at = plaintext.size();
    plaintext.resize(at + 16384);
    ERR_clear_error();
    int n = SSL_read(ssl_, plaintext.data() + at, 16384);
    if (n > 0) {
      plaintext.resize(at + static_cast<size_t>(n));
      continue;
    }
    plaintext.resize(at);
    int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return std::nullopt;
    if (error == SSL_ERROR_ZERO_RETURN) return std::string("peer closed the TLS session");
    return "TLS: " + openssl_errors();
  }
}

std::optional<std::string> TlsSession::send(std::span<const uint8_t> plaintext) {
  while (!plaintext.empty()) {
    ERR_clear_error();
    int n = SSL_write(ssl_, plaintext.data(), static_cast<int>(std::min<size_t>(plaintext.size(), 1 << 30)));
    if (n <= 0) return "TLS: " + openssl_errors();
    plaintext = plaintext.subspan(static_cast<size_t>(n));
  }
  return std::nullopt;
}

void TlsSession::take_output(std::vector<uint8_t>& out) {
  size_t pending = BIO_ctrl_pending(output_);
  if (pending == 0) return;
  const size_t at = out.size();
  out.resize(at + pending);
  int n = BIO_read(output_, out.data() + at, static_cast<int>(pending));
  out.resize(at + static_cast<size_t>(std::max(n, 0)));
}

bool TlsSession::has_output() const { return BIO_ctrl_pending(output_) > 0; }

std::optional<std::string> TlsSession::peer_subject() const {
  X509* certificate = SSL_get1_peer_certificate(ssl_);
  if (!certificate) return std::nullopt;
  std::optional<std::string> out;
  if (SSL_get_verify_result(ssl_) == X509_V_OK) {
    BIO* text = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(text, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long length = BIO_get_mem_data(text, &data);
    out = std::string(data, static_cast<size_t>(length));
    BIO_free(text);
  }
  X509_free(certificate);
  return out;
}

}  // namespace fjord::server::security
