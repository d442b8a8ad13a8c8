#include "cluster/broker_channels.h"

#include <spdlog/spdlog.h>

#include <asio/steady_timer.hpp>
#include <deque>

namespace fjord::cluster {
namespace {

constexpr size_t kMaxResponseBytes = 64u << 20;

}  // namespace

// One broker's connection: requests queue and go one at a time; a failure answers the one in flight and every
// queued one with nothing, and the next request connects again.
class BrokerChannels::Channel : public std::enable_shared_from_this<Channel> {
 public:
  Channel(BrokerChannels& owner, int32_t node_id) : owner_(owner), node_id_(node_id), timer_(owner.io_) {}

  struct Pending {
    std::vector<uint8_t> request;
    bool flexible;
    Answer done;
  };

  void enqueue(Pending pending) {
    queue_.push_back(std::move(pending));
    if (!busy_) next();
  }

  void close() {
    closed_ = true;
    fail_all("closed");
  }

 private:
  void next() {
    if (closed_ || queue_.empty()) {
      busy_ = false;
      return;
    }
    busy_ = true;
    if (!link_) return connect();
    auto& pending = queue_.front();
    const int32_t correlation = ++correlation_;
    for (size_t i = 0; i < 4; ++i) pending.request[4 + i] = static_cast<uint8_t>(correlation >> (24 - 8 * i));
    std::vector<uint8_t> frame(4 + pending.request.size());
    const auto size = static_cast<uint32_t>(pending.request.size());
    for (size_t i = 0; i < 4; ++i) frame[i] = static_cast<uint8_t>(size >> (24 - 8 * i));
    std::copy(pending.request.begin(), pending.request.end(), frame.begin() + 4);
    arm_timeout();
    auto self = shared_from_this();
    link_->exchange(
        std::move(frame), kMaxResponseBytes,
        [self, correlation, gen = generation_](std::optional<std::string> error, std::vector<uint8_t> body) {
          if (self->stale(gen)) return;
          if (error) return self->fail_all(*error);
          self->on_response(correlation, body);
        });
  }

  void on_response(int32_t correlation, std::vector<uint8_t>& body) {
    timer_.cancel();
    auto pending = std::move(queue_.front());
    queue_.pop_front();
    std::optional<std::vector<uint8_t>> answer;
    try {
      protocol::Reader reader(body);
      if (reader.read_int32() != correlation) throw protocol::DecodeError("response out of order");
      if (pending.flexible) {
        protocol::TaggedFields ignored;
        reader.read_tagged_fields([](uint32_t, protocol::Reader&) { return false; }, ignored);
      }
      answer.emplace(body.begin() + static_cast<std::ptrdiff_t>(reader.position()), body.end());
    } catch (const std::exception& error) {
      spdlog::debug("broker {}: unreadable response: {}", node_id_, error.what());
      pending.done(std::nullopt);
      return fail_all("unreadable response");
    }
    pending.done(std::move(answer));
    next();
  }

  void connect() {
    auto endpoint = owner_.membership_.endpoint_of(node_id_);
    if (!endpoint) return fail_all("broker " + std::to_string(node_id_) + " is not registered");
    link_ = owner_.links_(owner_.io_);
    const uint64_t gen = ++generation_;
    auto self = shared_from_this();
    arm_timeout();
    link_->connect(endpoint->host, endpoint->port, [self, gen](std::optional<std::string> error) {
      if (self->stale(gen)) return;
      if (error) return self->fail_all(*error);
      self->next();
    });
  }

  void arm_timeout() {
    timer_.expires_after(owner_.timeout_);
    std::weak_ptr<Channel> weak = shared_from_this();
    timer_.async_wait([weak, gen = generation_](const std::error_code& error) {
      auto self = weak.lock();
      if (!error && self && !self->stale(gen)) self->fail_all("no answer in time");
    });
  }

  // A completion of an earlier connection (or of a closed channel): ignored.
  bool stale(uint64_t gen) const { return closed_ || !link_ || gen != generation_; }

  void fail_all(const std::string& why) {
    spdlog::debug("broker {}: {}", node_id_, why);
    timer_.cancel();
    if (link_) {
      link_->close();
      link_.reset();
    }
    ++generation_;
    auto failed = std::move(queue_);
    queue_.clear();
    busy_ = false;
    for (auto& pending : failed) pending.done(std::nullopt);
  }

  BrokerChannels& owner_;
  const int32_t node_id_;
  std::shared_ptr<BrokerLink> link_;
  asio::steady_timer timer_;
  std::deque<Pending> queue_;
  bool busy_ = false;
  bool closed_ = false;
  int32_t correlation_ = 0;
  uint64_t generation_ = 0;  // of the connection: completions of an earlier one are ignored
};

BrokerChannels::BrokerChannels(asio::io_context& io, const Membership& membership, int32_t local_node,
                               std::chrono::milliseconds request_timeout, BrokerLinkFactory links)
    : io_(io),
      membership_(membership),
      local_node_(local_node),
      timeout_(request_timeout),
      links_(links ? std::move(links) : BrokerLinkFactory(plaintext_broker_link)) {}

BrokerChannels::~BrokerChannels() { stop(); }

void BrokerChannels::stop() {
  stopped_ = true;
  auto channels = std::move(channels_);
  channels_.clear();
  for (auto& [id, channel] : channels) channel->close();
}

void BrokerChannels::send(int32_t node_id, std::vector<uint8_t> request, bool flexible_response_header, Answer done) {
  if (stopped_) return done(std::nullopt);
  auto& channel = channels_[node_id];
  if (!channel) channel = std::make_shared<Channel>(*this, node_id);
  channel->enqueue({std::move(request), flexible_response_header, std::move(done)});
}

}  // namespace fjord::cluster
