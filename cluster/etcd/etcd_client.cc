#include "cluster/etcd/etcd_client.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <utility>

namespace fjord::cluster::etcd {

namespace {

using json = nlohmann::json;

// Asked for progress notifications, etcd checks every 10 minutes and notifies a watch that had no events in the
// interval before, so an idle healthy stream is silent for up to 20 minutes; a longer silence means a dead peer
// that never closed the connection.
constexpr auto kWatchReadTimeout = std::chrono::minutes(25);

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<uint8_t>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<uint8_t>(in[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kBase64Alphabet[n & 63] : '=';
  }
  return out;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string base64_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t bits = 0;  // only the low `count` bits matter; older ones may shift out
  int count = 0;
  for (char c : in) {
    if (c == '=') break;
    int value = base64_value(c);
    if (value < 0) throw EtcdError("etcd sent invalid base64");
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return out;
}

// The smallest key greater than every key starting with `prefix`; "\0" (no upper bound) when there is none.
std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    auto last = static_cast<uint8_t>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');
}

// etcd rejects an empty key; "\0" is the smallest key, so with prefix_end("") it spans the whole keyspace.
std::string range_start(const std::string& prefix) { return prefix.empty() ? std::string(1, '\0') : prefix; }

std::string_view strip_scheme(std::string_view url) {
  constexpr std::string_view kScheme = "etcd://";
  if (url.starts_with(kScheme)) url.remove_prefix(kScheme.size());
  return url;
}

std::optional<std::pair<std::string, int>> split_endpoint(std::string_view url) {
  url = strip_scheme(url);
  auto colon = url.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = url.substr(0, colon);
  std::string_view port_text = url.substr(colon + 1);
  if (host.empty() || port_text.empty() || port_text.size() > 5) return std::nullopt;
  for (char c : port_text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int port = 0;
  std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port < 1 || port > 65535) return std::nullopt;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
    for (char c : host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return std::nullopt;
    }
  } else {
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return std::nullopt;
    }
  }
  return std::make_pair(std::string(host), port);
}

json parse_json(std::string_view text) {
  json parsed = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw EtcdError("etcd sent an unparsable response: " + std::string(text.substr(0, 200)));
  }
  return parsed;
}

const json& object_field(const json& object, const char* name) {
  static const json kEmpty = json::object();
  auto it = object.find(name);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

std::string string_field(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The gateway writes int64 fields as JSON strings (and leaves out zeros).
int64_t int_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const auto& text = it->get_ref<const std::string&>();
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size()) return value;
  }
  throw EtcdError(std::string("etcd sent a malformed ") + name + ": " + it->dump());
}

bool bool_field(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

// Unary calls fail with {"error": "...", "message": "...", "code": N}; streams with {"error": {"message": ...}}.
std::optional<std::string> error_message(const json& body) {
  auto it = body.find("error");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (auto message = string_field(body, "message"); !message.empty()) return message;
  if (it->is_string()) return it->get<std::string>();
  if (auto message = string_field(*it, "message"); !message.empty()) return message;
  return it->dump();
}

std::string describe_failure(int status, const std::string& body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::optional<std::string> message;
  if (parsed.is_object()) message = error_message(parsed);
  return "HTTP " + std::to_string(status) + ": " + message.value_or(body.substr(0, 200));
}

json checked(const std::string& path, const std::string& body) {
  json parsed = parse_json(body);
  if (auto message = error_message(parsed)) throw EtcdError("etcd " + path + ": " + *message);
  return parsed;
}

KeyValue parse_kv(const json& object) {
  KeyValue kv;
  kv.key = base64_decode(string_field(object, "key"));
  kv.value = base64_decode(string_field(object, "value"));
  kv.create_revision = int_field(object, "create_revision");
  kv.mod_revision = int_field(object, "mod_revision");
  kv.lease = int_field(object, "lease");
  return kv;
}

int64_t header_revision(const json& body) { return int_field(object_field(body, "header"), "revision"); }

RangeResult parse_range(const json& body) {
  RangeResult result;
  result.revision = header_revision(body);
  if (auto it = body.find("kvs"); it != body.end() && it->is_array()) {
    for (const auto& kv : *it) result.kvs.push_back(parse_kv(kv));
  }
  return result;
}

json operation_json(const Operation& operation) {
  if (operation.kind == Operation::Kind::kDelete) {
    return {{"request_delete_range", {{"key", base64_encode(operation.key)}}}};
  }
  json put = {{"key", base64_encode(operation.key)}, {"value", base64_encode(operation.value)}};
  if (operation.lease != 0) put["lease"] = std::to_string(operation.lease);
  return {{"request_put", put}};
}

json compare_json(const Compare& compare) {
  json result = {{"key", base64_encode(compare.key)}, {"result", "EQUAL"}};
  switch (compare.target) {
    case Compare::Target::kCreateRevision:
      result["target"] = "CREATE";
      result["create_revision"] = std::to_string(compare.revision);
      break;
    case Compare::Target::kModRevision:
      result["target"] = "MOD";
      result["mod_revision"] = std::to_string(compare.revision);
      break;
    case Compare::Target::kValue:
      result["target"] = "VALUE";
      result["value"] = base64_encode(compare.value);
      break;
  }
  return result;
}

}  // namespace

std::optional<std::string> parse_endpoint(const std::string& url) {
  std::string normalized;
  size_t start = 0;
  while (true) {
    const size_t comma = url.find(',', start);
    std::string_view one = std::string_view(url).substr(start, comma == std::string::npos ? comma : comma - start);
    if (!split_endpoint(one)) return std::nullopt;
    if (!normalized.empty()) normalized += ',';
    normalized += strip_scheme(one);
    if (comma == std::string::npos) return normalized;
    start = comma + 1;
  }
}

EtcdClient::EtcdClient(std::string endpoint, int timeout_ms, EtcdSecurity security)
    : timeout_ms_(timeout_ms), security_(std::move(security)) {
  if (security_.tls()) {
    // OpenSSL writes with write(2), which raises SIGPIPE on a connection etcd has closed (a watch cancelled, an
    // idle connection dropped) and would end the process; as servers do, the process ignores it and the write
    // fails with EPIPE instead, which the client handles as any broken connection.
    static std::once_flag ignore_sigpipe;
    std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  }
  auto normalized = parse_endpoint(endpoint);
  if (!normalized) throw EtcdError("malformed etcd endpoint: " + endpoint);
  endpoint_ = *normalized;
  size_t start = 0;
  while (start <= endpoint_.size()) {
    const size_t comma = std::min(endpoint_.find(',', start), endpoint_.size());
    members_.push_back(*split_endpoint(std::string_view(endpoint_).substr(start, comma - start)));
    start = comma + 1;
  }
  use_member(0);
}

std::unique_ptr<httplib::Client> EtcdClient::connect(size_t member, std::chrono::milliseconds read_timeout) const {
  const auto& [host, port] = members_[member];
  std::unique_ptr<httplib::Client> http;
  if (security_.tls()) {
    const std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    http = std::make_unique<httplib::Client>("https://" + bracketed + ":" + std::to_string(port), security_.cert_file,
                                             security_.key_file);
    http->set_ca_cert_path(security_.ca_file.c_str());
    http->enable_server_certificate_verification(true);
  } else {
    http = std::make_unique<httplib::Client>(host, port);
  }
  http->set_connection_timeout(std::chrono::milliseconds(timeout_ms_));
  http->set_read_timeout(read_timeout);
  http->set_write_timeout(std::chrono::milliseconds(timeout_ms_));
  return http;
}

void EtcdClient::use_member(size_t index) {
  current_ = index;
  token_.clear();  // a simple token is good only with the member that handed it out
  http_ = connect(index, std::chrono::milliseconds(timeout_ms_));
  // httplib checks a kept connection before reusing it, so one closed by an etcd restart is replaced, not failed on.
  http_->set_keep_alive(true);
}

void EtcdClient::authenticate() {
  if (security_.username.empty() || !token_.empty()) return;
  json request = {{"name", security_.username}, {"password", security_.password}};
  // What etcd says on a refusal names the user, never the password.
  json response = checked("/v3/auth/authenticate", post("/v3/auth/authenticate", request.dump(), false));
  token_ = string_field(response, "token");
  if (token_.empty()) throw EtcdError("etcd /v3/auth/authenticate: no token in the answer");
  ++authentications_;
}

std::string EtcdClient::current_member() const {
  const auto& [host, port] = members_[current_];
  return host + ":" + std::to_string(port);
}

EtcdClient::~EtcdClient() = default;

std::string EtcdClient::post(const std::string& path, const std::string& body, bool authenticated) {
  // With several members, a request goes round them until one answers or, once each has been tried, the timeout
  // has passed: while the survivors of a killed leader elect a new one (about a second) every member fails fast,
  // and a single round would give up on a cluster that is about to answer.
  const auto started = std::chrono::steady_clock::now();
  bool token_renewed = false;
  for (size_t tried = 1;; ++tried) {
    httplib::Headers headers;
    if (authenticated && !security_.username.empty()) {
      authenticate();
      headers.emplace("Authorization", token_);
    }
    auto result = http_->Post(path, headers, body, "application/json");
    if (result && result->status == 401 && authenticated && !security_.username.empty() && !token_renewed) {
      // The token expired (etcd's --auth-token-ttl) or was handed out by another member (simple tokens are each
      // member's own): a new one, once.
      token_.clear();
      token_renewed = true;
      --tried;
      continue;
    }
    if (result && result->status < 500) {
      if (result->status != 200)
        throw EtcdError("etcd " + path + ": " + describe_failure(result->status, result->body));
      return std::move(result->body);
    }
    // Unreachable, or a member that cannot serve now (no leader, no quorum): another member of the cluster may.
    // A request that reached a member before it failed may have been applied there. Repeating it is harmless for
    // every caller: reads, keep-alives and puts of the same value change nothing more; a compare-and-swap's compare
    // fails the second time, and its caller reads and tries again; a lease granted twice leaves one unused, which
    // expires after its time to live.
    std::string why = result ? describe_failure(result->status, result->body) : httplib::to_string(result.error());
    if (tried >= members_.size() &&
        (members_.size() == 1 || std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(timeout_ms_)))
      throw EtcdError("etcd " + current_member() + path + ": " + why);
    // After a whole round a short pause, so that a cluster between leaders is not asked in a tight loop.
    if (tried % members_.size() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    use_member((current_ + 1) % members_.size());
  }
}

RangeResult EtcdClient::get(const std::string& key) {
  json request = {{"key", base64_encode(key)}};
  return parse_range(checked("/v3/kv/range", post("/v3/kv/range", request.dump())));
}

RangeResult EtcdClient::get_prefix(const std::string& prefix) {
  json request = {{"key", base64_encode(range_start(prefix))}, {"range_end", base64_encode(prefix_end(prefix))}};
  return parse_range(checked("/v3/kv/range", post("/v3/kv/range", request.dump())));
}

int64_t EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  json request = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0) request["lease"] = std::to_string(lease);
  return header_revision(checked("/v3/kv/put", post("/v3/kv/put", request.dump())));
}

TxnResult EtcdClient::txn(const std::vector<Compare>& compares, const std::vector<Operation>& success,
                          const std::vector<Operation>& failure) {
  json request = {{"compare", json::array()}, {"success", json::array()}, {"failure", json::array()}};
  for (const auto& compare : compares) request["compare"].push_back(compare_json(compare));
  for (const auto& operation : success) request["success"].push_back(operation_json(operation));
  for (const auto& operation : failure) request["failure"].push_back(operation_json(operation));
  json response = checked("/v3/kv/txn", post("/v3/kv/txn", request.dump()));
  return TxnResult{.succeeded = bool_field(response, "succeeded"), .revision = header_revision(response)};
}

void EtcdClient::remove(const std::string& key) {
  json request = {{"key", base64_encode(key)}};
  checked("/v3/kv/deleterange", post("/v3/kv/deleterange", request.dump()));
}

int64_t EtcdClient::lease_grant(int64_t ttl_seconds) {
  json request = {{"TTL", std::to_string(ttl_seconds)}};
  return int_field(checked("/v3/lease/grant", post("/v3/lease/grant", request.dump())), "ID");
}

int64_t EtcdClient::lease_keepalive(int64_t lease) {
  // A one-message use of the keepalive stream: the gateway answers {"result": {...}} and ends the stream, leaving
  // TTL out (zero) when the lease no longer exists.
  json request = {{"ID", std::to_string(lease)}};
  json response = checked("/v3/lease/keepalive", post("/v3/lease/keepalive", request.dump()));
  return int_field(object_field(response, "result"), "TTL");
}

void EtcdClient::lease_revoke(int64_t lease) {
  json request = {{"ID", std::to_string(lease)}};
  checked("/v3/lease/revoke", post("/v3/lease/revoke", request.dump()));
}

void EtcdClient::watch_prefix(const std::string& prefix, int64_t start_revision,
                              const std::function<bool(const std::vector<WatchEvent>&, int64_t)>& on_events) {
  json create = {{"key", base64_encode(range_start(prefix))},
                 {"range_end", base64_encode(prefix_end(prefix))},
                 {"progress_notify", true}};
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  json request_body = {{"create_request", create}};

  // A fresh token for each watch: etcd refuses a watch opened with an expired one inside its stream (not with
  // HTTP 401), and a watch is opened rarely.
  token_.clear();
  authenticate();
  auto connection = connect(current_, kWatchReadTimeout);
  httplib::Client& http = *connection;
  {
    std::lock_guard lock(watch_mutex_);
    if (watch_cancelled_.exchange(false)) return;
    watch_http_ = &http;
  }
  // Clearing the flag on the way out consumes a cancel that raced with this watch ending, so it cannot stop the
  // next one.
  struct Unregister {
    EtcdClient* client;
    ~Unregister() {
      std::lock_guard lock(client->watch_mutex_);
      client->watch_http_ = nullptr;
      client->watch_cancelled_ = false;
    }
  } unregister{this};

  int status = 0;
  std::string buffer;
  std::string error_body;
  std::exception_ptr failure;
  bool stopped_by_caller = false;

  // One message, parsed from one line of the stream; returns whether to go on.
  auto handle_message = [&](std::string_view line) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;
    json message = parse_json(line);
    if (auto error = error_message(message)) throw EtcdError("etcd watch: " + *error);
    const json& result = object_field(message, "result");
    if (bool_field(result, "canceled")) {
      std::string reason = string_field(result, "cancel_reason");
      if (int64_t compacted = int_field(result, "compact_revision"); compacted > 0) {
        reason = "the start revision is compacted, the oldest available is " + std::to_string(compacted);
      }
      throw EtcdError("etcd canceled the watch: " + reason);
    }
    std::vector<WatchEvent> events;
    if (auto it = result.find("events"); it != result.end() && it->is_array()) {
      for (const auto& event : *it) {
        auto type = string_field(event, "type") == "DELETE" ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
        events.push_back(WatchEvent{.type = type, .kv = parse_kv(object_field(event, "kv"))});
      }
    }
    if (events.empty()) return true;
    return on_events(events, header_revision(result));
  };

  httplib::Request request;
  request.method = "POST";
  request.path = "/v3/watch";
  request.body = request_body.dump();
  request.set_header("Content-Type", "application/json");
  if (!token_.empty()) request.set_header("Authorization", token_);
  request.response_handler = [&](const httplib::Response& response) {
    status = response.status;
    return true;
  };
  // The gateway writes each message as one JSON object followed by "\n", but a chunk may hold several messages or
  // end inside one; keep the unterminated tail for the next chunk.
  request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    if (watch_cancelled_) return false;
    if (status != 200) {
      if (error_body.size() < 4096) error_body.append(data, length);
      return true;
    }
    buffer.append(data, length);
    // What was buffered before holds no newline, so a piece without one completes nothing; skipping the rescan keeps
    // a big value arriving in 4 KiB pieces from costing quadratic time.
    if (std::memchr(data, '\n', length) == nullptr) return true;
    size_t start = 0;
    try {
      for (size_t end; (end = buffer.find('\n', start)) != std::string::npos; start = end + 1) {
        if (!handle_message(std::string_view(buffer).substr(start, end - start))) {
          stopped_by_caller = true;
          return false;
        }
      }
    } catch (...) {
      // Thrown across httplib it would leave its connection state unknown; rethrown once send() returns.
      failure = std::current_exception();
      return false;
    }
    buffer.erase(0, start);
    return true;
  };

  auto result = http.send(request);
  if (failure) std::rethrow_exception(failure);
  if (stopped_by_caller || watch_cancelled_) return;
  if (!result) {
    // The member went away: the next watch (after a read through post(), which finds a member that answers)
    // starts on the next one.
    const std::string member = current_member();
    use_member((current_ + 1) % members_.size());
    throw EtcdError("etcd watch stream from " + member + " broke: " + httplib::to_string(result.error()));
  }
  if (status != 200) throw EtcdError("etcd /v3/watch: " + describe_failure(status, error_body));
  throw EtcdError("etcd ended the watch stream");
}

void EtcdClient::cancel_watch() {
  std::lock_guard lock(watch_mutex_);
  watch_cancelled_ = true;
  // stop() shuts the socket down, waking the read the watch blocks in. If the watch has not connected yet, its
  // first message (etcd confirms the watch at once) finds the flag instead.
  if (watch_http_) watch_http_->stop();
}

}  // namespace fjord::cluster::etcd
