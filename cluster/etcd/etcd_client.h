// A small blocking client for etcd's v3 API through its JSON gateway (HTTP/1.1), enough for metadata that lives in
// etcd: reads, writes, compare-and-swap transactions, leases and prefix watches.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace httplib {
class Client;
}

namespace fjord::cluster::etcd {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  int64_t revision = 0;  // the store's revision at the read
};

// Always compared for equality. A create_revision of 0 means "the key does not exist".
struct Compare {
  enum class Target { kCreateRevision, kModRevision, kValue };
  std::string key;
  Target target;
  int64_t revision = 0;
  std::string value;
};

struct Operation {
  enum class Kind { kPut, kDelete };
  Kind kind;
  std::string key;
  std::string value;
  int64_t lease = 0;
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type;
  KeyValue kv;  // for a delete, only the key and mod_revision (the deletion's revision) are set
};

class EtcdError : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

// How to reach an etcd that asks for more than an address. With ca_file set every member is spoken to over TLS
// and its certificate checked against that CA (etcd's --cert-file/--key-file); cert_file and key_file give this
// client's own certificate, for an etcd started with --client-cert-auth. With username set the client
// authenticates as that user (etcd's `auth enable`) and sends the token etcd hands out with every request, asking
// for a new one when etcd says it has expired or comes from another member.
struct EtcdSecurity {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string username;
  std::string password;
  bool tls() const { return !ca_file.empty(); }
};

class EtcdClient {
 public:
  // endpoint "host:port" (or "etcd://host:port"), or several members of one etcd cluster separated by commas;
  // throws EtcdError when malformed. Every call is blocking and throws EtcdError on a transport error, an HTTP
  // status other than 200, or an error body. A member that cannot be reached or cannot serve (HTTP 5xx) is left for
  // the next one, in turn; a call fails once every member has been tried and timeout_ms has passed (a single member:
  // once it has been tried). The client stays with the member that answered. One instance per thread
  // (not thread-safe), except that cancel_watch() may be called from any thread.
  explicit EtcdClient(std::string endpoint, int timeout_ms = 5000, EtcdSecurity security = {});
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  // The member requests go to now, "host:port".
  std::string current_member() const;

  RangeResult get(const std::string& key);
  RangeResult get_prefix(const std::string& prefix);
  // Returns the new revision.
  int64_t put(const std::string& key, const std::string& value, int64_t lease = 0);
  TxnResult txn(const std::vector<Compare>& compares, const std::vector<Operation>& success,
                const std::vector<Operation>& failure = {});
  void remove(const std::string& key);

  // Returns the lease id.
  int64_t lease_grant(int64_t ttl_seconds);
  // Returns the remaining TTL in seconds; 0 or less means the lease is gone.
  int64_t lease_keepalive(int64_t lease);
  // Throws when the lease does not exist (any more).
  void lease_revoke(int64_t lease);

  // Streams changes of every key under `prefix` from `start_revision` (0 = from now) and calls on_events for each
  // batch (batches without events, such as progress notifications, are skipped). Returns when on_events returns
  // false or cancel_watch() is called; throws EtcdError when the stream breaks or etcd cancels the watch (e.g. the
  // start revision was compacted). Uses a connection of its own. Exceptions from on_events propagate.
  void watch_prefix(const std::string& prefix, int64_t start_revision,
                    const std::function<bool(const std::vector<WatchEvent>&, int64_t revision)>& on_events);
  // Makes the running watch_prefix() return promptly. When no watch is running, the next one returns at once, so
  // that a cancel racing with the watch's start is not lost.
  void cancel_watch();
  // Tokens obtained so far (tests: an expired one is replaced).
  int authentications() const { return authentications_; }

 private:
  std::string post(const std::string& path, const std::string& body, bool authenticated = true);
  void use_member(size_t index);
  std::unique_ptr<httplib::Client> connect(size_t member, std::chrono::milliseconds read_timeout) const;
  // Asks the current member for a token for the configured user (when there is one and no token yet).
  void authenticate();

  std::string endpoint_;
  std::vector<std::pair<std::string, int>> members_;  // host, port
  size_t current_ = 0;
  int timeout_ms_;
  EtcdSecurity security_;
  std::string token_;  // etcd's auth token, empty until authenticated
  int authentications_ = 0;
  std::unique_ptr<httplib::Client> http_;

  std::mutex watch_mutex_;
  httplib::Client* watch_http_ = nullptr;  // guarded by watch_mutex_; set while a watch runs
  std::atomic<bool> watch_cancelled_{false};
};

// Parses "etcd://host:port" or "host:port" (host may be a bracketed IPv6 address), or several separated by commas
// (each with or without the scheme), into "host:port[,host:port...]"; std::nullopt when any is malformed.
std::optional<std::string> parse_endpoint(const std::string& url);

}  // namespace fjord::cluster::etcd
