#include "cluster/replica_fetcher.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "protocol/messages/fetch.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/request_header.h"

namespace fjord::cluster {
namespace {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

constexpr int16_t kFetchVersion = 12;  // the last with topic names and replica_id in the body
constexpr int16_t kOffsetForLeaderEpochVersion = 3;
constexpr size_t kMaxResponseBytes = 256u << 20;

awaitable<void> sleep_for(int64_t ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await timer.async_wait(use_awaitable);
}

template <typename Response>
struct Reply {
  Response body;
  std::shared_ptr<std::vector<uint8_t>> frame;  // decoded records point into it
};

// One request on the connection, its response decoded. Replies come in order on a connection, and only one
// request is ever outstanding on it.
template <typename Response, typename Request>
awaitable<Reply<Response>> call(tcp::socket& socket, const Request& request, int16_t version, int32_t correlation_id,
                                int32_t node_id) {
  const auto& spec = *protocol::find_api_spec(Request::kApiKey);
  protocol::Writer writer;
  protocol::RequestHeader header;
  header.api_key = Request::kApiKey;
  header.api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = "fjord-replica-" + std::to_string(node_id);
  protocol::encode_request_header(writer, header, spec);
  request.encode(writer, version);
  auto body = writer.take().bytes;
  std::vector<uint8_t> frame(4 + body.size());
  const uint32_t size = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) frame[static_cast<size_t>(i)] = static_cast<uint8_t>(size >> (24 - 8 * i));
  std::copy(body.begin(), body.end(), frame.begin() + 4);
  co_await asio::async_write(socket, asio::buffer(frame), use_awaitable);

  uint8_t prefix[4];
  co_await asio::async_read(socket, asio::buffer(prefix), use_awaitable);
  const uint32_t length =
      (uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) | (uint32_t{prefix[2]} << 8) | uint32_t{prefix[3]};
  if (length < 4 || length > kMaxResponseBytes) throw std::runtime_error("bad response length");
  auto bytes = std::make_shared<std::vector<uint8_t>>(length);
  co_await asio::async_read(socket, asio::buffer(*bytes), use_awaitable);
  protocol::Reader reader(*bytes);
  if (reader.read_int32() != correlation_id) throw std::runtime_error("response out of order");
  if (protocol::is_flexible(spec, version)) {
    protocol::TaggedFields ignored;
    reader.read_tagged_fields([](uint32_t, protocol::Reader&) { return false; }, ignored);
  }
  Reply<Response> reply{Response{}, bytes};
  reply.body.decode(reader, version);
  co_return reply;
}

}  // namespace

ReplicaFetcher::ReplicaFetcher(asio::io_context& io, PartitionManager& partitions, const Membership& membership,
                               FetcherSettings settings)
    : io_(io), partitions_(partitions), membership_(membership), settings_(settings) {}

ReplicaFetcher::~ReplicaFetcher() { stop(); }

void ReplicaFetcher::stop() {
  stopped_ = true;
  *alive_ = false;
}

std::vector<ReplicaFetcher::Key> ReplicaFetcher::followed_from(int32_t leader) const {
  std::vector<Key> keys;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (auto* p : partitions_.partitions_of(name)) {
      if (!p->is_leader() && p->leader_id() == leader) keys.emplace_back(name, p->index());
    }
  }
  return keys;
}

void ReplicaFetcher::refresh() {
  if (stopped_) return;
  std::set<int32_t> leaders;
  for (const auto& [name, topic] : partitions_.metadata().topics) {
    for (auto* p : partitions_.partitions_of(name)) {
      if (!p->is_leader() && p->leader_id() >= 0) leaders.insert(p->leader_id());
    }
  }
  for (int32_t leader : leaders) {
    if (!sessions_.insert(leader).second) continue;
    auto alive = alive_;
    asio::co_spawn(io_, run_session(leader), [alive](std::exception_ptr error) {
      if (!error || !*alive) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("replica fetcher stopped: {}", e.what());
      }
    });
  }
}

awaitable<void> ReplicaFetcher::run_session(int32_t leader) {
  auto alive = alive_;
  const int32_t self = partitions_.local_node();
  int32_t correlation = 0;
  std::optional<BrokerEndpoint> connected_to;
  std::unique_ptr<tcp::socket> socket;
  bool failed = false;  // co_await is not allowed in a catch block: the back-off waits after it
  while (*alive && !stopped_) {
    auto followed = followed_from(leader);
    if (followed.empty()) break;
    auto endpoint = membership_.endpoint_of(leader);
    if (!endpoint) {
      socket.reset();
      co_await sleep_for(settings_.retry_backoff_ms);
      continue;
    }
    try {
      if (!socket || connected_to != endpoint) {
        socket = std::make_unique<tcp::socket>(io_);
        tcp::resolver resolver(io_);
        auto addresses = co_await resolver.async_resolve(endpoint->host, std::to_string(endpoint->port), use_awaitable);
        co_await asio::async_connect(*socket, addresses, use_awaitable);
        socket->set_option(tcp::no_delay(true));
        connected_to = endpoint;
      }
      if (!*alive || stopped_) break;

      // A partition newly following this leader, or following it in a new epoch, first drops any tail the
      // leader does not have.
      protocol::OffsetForLeaderEpochRequest check;
      check.replica_id = self;
      std::map<std::string, size_t> check_topics;
      for (const auto& key : followed) {
        Partition* p = partitions_.partition(key.first, key.second);
        auto it = truncation_checked_.find(key);
        if (!p || (it != truncation_checked_.end() && it->second == p->leader_epoch())) continue;
        auto [slot, added] = check_topics.emplace(key.first, check.topics.size());
        if (added) check.topics.emplace_back().topic = key.first;
        auto& wanted = check.topics[slot->second].partitions.emplace_back();
        wanted.partition = key.second;
        wanted.current_leader_epoch = p->leader_epoch();
        wanted.leader_epoch = std::max(p->log().latest_leader_epoch(), 0);
      }
      if (!check.topics.empty()) {
        auto reply = co_await call<protocol::OffsetForLeaderEpochResponse>(*socket, check, kOffsetForLeaderEpochVersion,
                                                                           ++correlation, self);
        if (!*alive || stopped_) break;
        for (const auto& topic : reply.body.topics) {
          for (const auto& answer : topic.partitions) {
            Partition* p = partitions_.partition(topic.topic, answer.partition);
            if (!p || p->is_leader() || p->leader_id() != leader) continue;
            if (answer.error_code != 0) {
              spdlog::debug("{}-{}: leader {} answered OffsetForLeaderEpoch with error {}", topic.topic,
                            answer.partition, leader, answer.error_code);
              continue;
            }
            // The leader's end of the latest epoch both know; where the leader never saw this replica's epoch
            // it names an older one, whose end in this replica's own history also bounds what can be kept.
            int64_t keep = p->log_end_offset();
            if (answer.leader_epoch < 0) {
              keep = std::min(keep, p->high_watermark());
            } else {
              keep = std::min(keep, answer.end_offset);
              const auto own = p->log().end_offset_for_epoch(answer.leader_epoch);
              if (own.epoch == answer.leader_epoch) keep = std::min(keep, own.end_offset);
            }
            p->truncate_to(keep);
            truncation_checked_[{topic.topic, answer.partition}] = p->leader_epoch();
          }
        }
        continue;
      }

      protocol::FetchRequest fetch;
      fetch.replica_id = self;
      fetch.max_wait_ms = settings_.max_wait_ms;
      fetch.min_bytes = 1;
      fetch.max_bytes = settings_.max_bytes;
      fetch.session_id = 0;
      fetch.session_epoch = -1;
      std::map<std::string, size_t> fetch_topics;
      for (const auto& key : followed) {
        Partition* p = partitions_.partition(key.first, key.second);
        if (!p) continue;
        auto [slot, added] = fetch_topics.emplace(key.first, fetch.topics.size());
        if (added) fetch.topics.emplace_back().topic = key.first;
        auto& wanted = fetch.topics[slot->second].partitions.emplace_back();
        wanted.partition = key.second;
        wanted.current_leader_epoch = p->leader_epoch();
        wanted.fetch_offset = p->log_end_offset();
        wanted.last_fetched_epoch = p->log().latest_leader_epoch();
        wanted.log_start_offset = p->log_start_offset();
        wanted.partition_max_bytes = settings_.partition_max_bytes;
      }
      auto reply = co_await call<protocol::FetchResponse>(*socket, fetch, kFetchVersion, ++correlation, self);
      if (!*alive || stopped_) break;
      bool stalled = reply.body.error_code != 0;
      for (auto& topic : reply.body.responses) {
        for (auto& data : topic.partitions) {
          Partition* p = partitions_.partition(topic.topic, data.partition_index);
          if (!p || p->is_leader() || p->leader_id() != leader) continue;
          if (data.error_code != 0) {
            // Not leader any more, an epoch one side has not seen yet, out of range: the metadata will say
            // what to do next; until then this partition waits.
            spdlog::debug("{}-{}: fetch from leader {} failed with error {}", topic.topic, data.partition_index, leader,
                          data.error_code);
            stalled = true;
            continue;
          }
          std::span<uint8_t> records = data.records ? data.records->contiguous() : std::span<uint8_t>();
          auto appended = p->append_from_leader(records, data.high_watermark);
          // Records the leader deleted (DeleteRecords) are deleted here too.
          if (data.log_start_offset > p->log_start_offset() && data.log_start_offset <= p->log_end_offset()) {
            p->log().delete_records_before(data.log_start_offset);
          }
          if (appended.error != ErrorCode::kNone) {
            spdlog::warn("{}-{}: cannot append from leader {}: {}", topic.topic, data.partition_index, leader,
                         appended.message);
            truncation_checked_.erase({topic.topic, data.partition_index});  // check the tail again
            stalled = true;
          }
        }
      }
      if (stalled) co_await sleep_for(settings_.retry_backoff_ms);
    } catch (const std::exception& e) {
      spdlog::debug("replica fetcher: connection to leader {} failed: {}", leader, e.what());
      socket.reset();
      failed = true;
    }
    if (failed) {
      failed = false;
      if (!*alive || stopped_) break;
      co_await sleep_for(settings_.retry_backoff_ms);
    }
  }
  if (*alive) sessions_.erase(leader);
}

}  // namespace fjord::cluster
