// TLS for Kafka listeners and clients, with OpenSSL.
//
// A TlsSession does no I/O of its own: the connection reads ciphertext from its socket and hands it in, and writes
// out what the session produces. So a TLS connection keeps the plaintext connection's reading discipline (one
// shared read buffer per event loop, bounded reads per wake-up) and its ordered responses; only the bytes change.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace fjord::server::security {

struct TlsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Kafka's ssl.client.auth.
enum class ClientAuth { kNone, kRequested, kRequired };

// Kafka's ssl.* settings, in PEM form: the key store holds the private key and the certificate chain; the trust
// store the certificates of the authorities whose certificates a peer may show.
struct TlsSettings {
  std::string keystore_location;    // ssl.keystore.location (a server must have one)
  std::string key_location;         // the private key, when not in the key store's file (librdkafka's ssl.key.location)
  std::string key_password;         // ssl.key.password: decrypts an encrypted private key
  std::string truststore_location;  // ssl.truststore.location
  ClientAuth client_auth = ClientAuth::kNone;
};

// The shared state of every TLS connection of one listener (or one client): keys, trust, verification rules.
// A server's key and trust store are read again when their files change, so a renewed certificate applies to new
// connections without a restart; a file that no longer loads is logged and the previous keys stay in use.
class TlsContext {
 public:
  // Throws TlsError when a file is missing or does not hold what it should.
  static std::shared_ptr<TlsContext> server(TlsSettings settings);
  static std::shared_ptr<TlsContext> client(TlsSettings settings);
  ~TlsContext();

  // The context for a new connection, reloaded first when a file changed since it was loaded.
  std::shared_ptr<SSL_CTX> current();
  bool is_server() const { return server_; }
  uint64_t reloads() const { return reloads_; }
  const TlsSettings& settings() const { return settings_; }

 private:
  TlsContext(TlsSettings settings, bool server);
  std::shared_ptr<SSL_CTX> load() const;
  struct FileStamp {
    int64_t modified_ns = 0;
    off_t size = -1;
    bool operator==(const FileStamp&) const = default;
  };
  std::vector<FileStamp> stamps() const;

  TlsSettings settings_;
  bool server_;
  std::mutex mutex_;
  std::shared_ptr<SSL_CTX> context_;
  std::vector<FileStamp> loaded_stamps_;
  std::atomic<uint64_t> reloads_{0};
};

// One TLS connection's state machine over memory buffers.
class TlsSession {
 public:
  explicit TlsSession(const std::shared_ptr<SSL_CTX>& context, bool server, const std::string& server_host = "");
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Takes ciphertext from the peer and appends the plaintext it completes to `plaintext`. Returns why the
  // connection must end (a failed handshake, a bad record, the peer's close_notify), or nullopt.
  std::optional<std::string> receive(std::span<const uint8_t> ciphertext, std::vector<uint8_t>& plaintext);
  // Encrypts `plaintext`; the records wait in the output until taken.
  std::optional<std::string> send(std::span<const uint8_t> plaintext);
  // Appends what waits to go to the peer (handshake messages, records, alerts) to `out`.
  void take_output(std::vector<uint8_t>& out);
  bool has_output() const;
  bool established() const { return established_; }
  // The verified peer certificate's subject as Kafka names principals (RFC 2253: "CN=alice,O=example"), if the
  // peer showed one.
  std::optional<std::string> peer_subject() const;

 private:
  std::optional<std::string> drive_handshake();
  SSL* ssl_ = nullptr;
  BIO* input_ = nullptr;   // ciphertext from the peer, owned by ssl_
  BIO* output_ = nullptr;  // ciphertext for the peer, owned by ssl_
  bool established_ = false;
};

// The OpenSSL error queue as one line (and cleared).
std::string openssl_errors();

}  // namespace fjord::server::security
