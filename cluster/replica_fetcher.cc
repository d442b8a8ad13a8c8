#include "cluster/replica_fetcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <functional>
#include <optional>
#include <set>

#include "protocol/messages/fetch.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/request_header.h"

namespace fjord::cluster {
namespace {

constexpr int16_t kFetchVersion = 12;  // the last with topic names and replica_id in the body
constexpr int16_t kOffsetForLeaderEpochVersion = 3;
constexpr size_t kMaxResponseBytes = 256u << 20;

// A request as it goes on the wire: size, header, body.
template <typename Request>
std::vector<uint8_t> frame_of(const Request& request, int16_t version, int32_t correlation_id, int32_t node_id) {
  return protocol::encode_request_frame(request, version, correlation_id, "fjord-replica-" + std::to_string(node_id));
}

}  // namespace

// One leader's connection and its loop: step() picks the next request, exchange() sends it and reads the answer,
// and every failure backs off and steps again. Callbacks hold the session alive; `stopped` ends the loop.
class ReplicaFetcher::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ReplicaFetcher& fetcher, int32_t leader) : fetcher_(fetcher), leader_(leader), timer_(fetcher.io_) {}

  void step();
  void stop() {
    stopped_ = true;
    timer_.cancel();
    if (link_) link_->close();
  }

 private:
  void connect(const BrokerEndpoint& endpoint);
  void exchange(std::vector<uint8_t> frame, std::function<void(std::vector<uint8_t>&)> on_response);
  void back_off();
  void fail(const std::string& what);
  bool check_truncation(const std::vector<Key>& followed);
  void fetch(const std::vector<Key>& followed);
  void on_truncation_answer(std::vector<uint8_t>& bytes, int32_t correlation);
  void on_fetch_answer(std::vector<uint8_t>& bytes, int32_t correlation);
  void wait_until_acknowledgeable(std::vector<Key> appended_to, bool stalled);

  ReplicaFetcher& fetcher_;
  const int32_t leader_;
  bool stopped_ = false;
  // A completion of an earlier connection, or of a stopped session: ignored.
  bool stale(uint64_t gen) const { return stopped_ || gen != generation_; }

  std::shared_ptr<BrokerLink> link_;
  uint64_t generation_ = 0;  // of the connection
  std::optional<BrokerEndpoint> connected_to_;
  asio::steady_timer timer_;
  int32_t correlation_ = 0;
};

void ReplicaFetcher::Session::step() {
  if (stopped_) return;
  auto followed = fetcher_.followed_from(leader_);
  if (followed.empty()) {
    stop();
    fetcher_.sessions_.erase(leader_);  // may destroy this session: callers hold a reference
    return;
  }
  auto endpoint = fetcher_.membership_.endpoint_of(leader_);
  if (!endpoint) return back_off();
  if (!link_ || connected_to_ != endpoint) return connect(*endpoint);
  if (check_truncation(followed)) return;
  fetch(followed);
}

void ReplicaFetcher::Session::connect(const BrokerEndpoint& endpoint) {
  link_ = fetcher_.links_(fetcher_.io_);
  connected_to_.reset();
  const uint64_t gen = ++generation_;
  auto self = shared_from_this();
  link_->connect(endpoint.host, endpoint.port, [self, endpoint, gen](std::optional<std::string> error) {
    if (self->stale(gen)) return;
    if (error) return self->fail(*error);
    self->connected_to_ = endpoint;
    self->step();
  });
}

void ReplicaFetcher::Session::exchange(std::vector<uint8_t> frame,
                                       std::function<void(std::vector<uint8_t>&)> on_response) {
  auto self = shared_from_this();
  link_->exchange(std::move(frame), kMaxResponseBytes,
                  [self, on_response, gen = generation_](std::optional<std::string> error, std::vector<uint8_t> body) {
                    if (self->stale(gen)) return;
                    if (error) return self->fail(*error);
                    try {
                      on_response(body);
                    } catch (const std::exception& decode_error) {
                      self->fail(std::string("bad response: ") + decode_error.what());
                    }
                  });
}

void ReplicaFetcher::Session::fail(const std::string& what) {
  spdlog::debug("replica fetcher: leader {}: {}", leader_, what);
  if (link_) link_->close();
  link_.reset();
  ++generation_;
  connected_to_.reset();
  back_off();
}

void ReplicaFetcher::Session::back_off() {
  auto self = shared_from_this();
  timer_.expires_after(std::chrono::milliseconds(fetcher_.settings_.retry_backoff_ms));
  timer_.async_wait([self](const std::error_code& error) {
    if (!error) self->step();
  });
}

bool ReplicaFetcher::Session::check_truncation(const std::vector<Key>& followed) {
  // A partition newly following this leader, or following it in a new epoch, first drops any tail the leader
  // does not have.
  protocol::OffsetForLeaderEpochRequest check;
  check.replica_id = fetcher_.partitions_.local_node();
  std::map<std::string, size_t> topics;
  for (const auto& key : followed) {
    Partition* p = fetcher_.partitions_.partition(key.first, key.second);
    auto it = fetcher_.truncation_checked_.find(key);
    if (!p || (it != fetcher_.truncation_checked_.end() && it->second == p->leader_epoch())) continue;
    auto [slot, added] = topics.emplace(key.first, check.topics.size());
    if (added) check.topics.emplace_back().topic = key.first;
    auto& wanted = check.topics[slot->second].partitions.emplace_back();
    wanted.partition = key.second;
    wanted.current_leader_epoch = p->leader_epoch();
    wanted.leader_epoch = std::max(p->log().latest_leader_epoch(), 0);
  }
  if (check.topics.empty()) return false;
  const int32_t correlation = ++correlation_;
  auto self = shared_from_this();
  exchange(frame_of(check, kOffsetForLeaderEpochVersion, correlation, check.replica_id),
           [self, correlation](std::vector<uint8_t>& bytes) { self->on_truncation_answer(bytes, correlation); });
  return true;
}

void ReplicaFetcher::Session::on_truncation_answer(std::vector<uint8_t>& bytes, int32_t correlation) {
  auto reply = protocol::decode_response_frame<protocol::OffsetForLeaderEpochResponse>(
      bytes, kOffsetForLeaderEpochVersion, correlation);
  bool refused = false;
  for (const auto& topic : reply.topics) {
    for (const auto& answer : topic.partitions) {
      Partition* p = fetcher_.partitions_.partition(topic.topic, answer.partition);
      if (!p || p->is_leader() || p->leader_id() != leader_) continue;
      if (answer.error_code != 0) {
        // Most often the leader has not heard of its new epoch yet: ask again after a pause.
        spdlog::debug("{}-{}: leader {} answered OffsetForLeaderEpoch with error {}", topic.topic, answer.partition,
                      leader_, answer.error_code);
        refused = true;
        continue;
      }
      // The leader's end of the latest epoch both know. Where the leader never saw this replica's epoch it names
      // an older one, whose end in this replica's own history also bounds what may be kept.
      int64_t keep = p->log_end_offset();
      if (answer.leader_epoch < 0) {
        keep = std::min(keep, p->high_watermark());
      } else {
        keep = std::min(keep, answer.end_offset);
        const auto own = p->log().end_offset_for_epoch(answer.leader_epoch);
        if (own.epoch == answer.leader_epoch) keep = std::min(keep, own.end_offset);
      }
      p->truncate_to(keep);
      fetcher_.truncation_checked_[{topic.topic, answer.partition}] = p->leader_epoch();
    }
  }
  if (refused) return back_off();
  step();
}

void ReplicaFetcher::Session::fetch(const std::vector<Key>& followed) {
  const auto& settings = fetcher_.settings_;
  protocol::FetchRequest request;
  request.replica_id = fetcher_.partitions_.local_node();
  request.max_wait_ms = settings.max_wait_ms;
  request.min_bytes = 1;
  request.max_bytes = settings.max_bytes;
  request.session_id = 0;
  request.session_epoch = -1;  // no fetch session: every request names every partition
  std::map<std::string, size_t> topics;
  constexpr auto kFollowerSide = PartitionManager::ThrottleSide::kFollower;
  auto& partitions = fetcher_.partitions_;
  const bool budget_spent = partitions.throttle_budget(kFollowerSide).spent(partitions.throttle_rate(kFollowerSide));
  bool held_back = false;
  for (const auto& key : followed) {
    if (budget_spent && fetcher_.throttled(key)) {
      held_back = true;
      continue;
    }
    Partition* p = fetcher_.partitions_.partition(key.first, key.second);
    // The fetch offset is what the leader counts as this replica's: only what is durable here may be reported
    // (a failed log reports nothing again).
    if (!p || p->log().failed() || p->acknowledgeable_end() < p->log_end_offset()) continue;
    auto [slot, added] = topics.emplace(key.first, request.topics.size());
    if (added) request.topics.emplace_back().topic = key.first;
    auto& wanted = request.topics[slot->second].partitions.emplace_back();
    wanted.partition = key.second;
    wanted.current_leader_epoch = p->leader_epoch();
    wanted.fetch_offset = p->log_end_offset();
    wanted.last_fetched_epoch = p->log().latest_leader_epoch();
    wanted.log_start_offset = p->log_start_offset();
    wanted.partition_max_bytes = settings.partition_max_bytes;
  }
  // Everything followed is throttled and the budget is spent: ask again once some of it has come back.
  if (request.topics.empty() && held_back) return back_off();
  const int32_t correlation = ++correlation_;
  auto self = shared_from_this();
  exchange(frame_of(request, kFetchVersion, correlation, request.replica_id),
           [self, correlation](std::vector<uint8_t>& bytes) { self->on_fetch_answer(bytes, correlation); });
}

void ReplicaFetcher::Session::on_fetch_answer(std::vector<uint8_t>& bytes, int32_t correlation) {
  // The records point into `bytes`, which lives until this returns.
  auto reply = protocol::decode_response_frame<protocol::FetchResponse>(bytes, kFetchVersion, correlation);
  bool stalled = reply.error_code != 0;
  std::vector<Key> appended_to;
  // Without a follower rate nothing is throttled, and no partition's settings need looking at.
  const int64_t follower_rate = fetcher_.partitions_.throttle_rate(PartitionManager::ThrottleSide::kFollower);
  for (auto& topic : reply.responses) {
    for (auto& data : topic.partitions) {
      Partition* p = fetcher_.partitions_.partition(topic.topic, data.partition_index);
      if (!p || p->is_leader() || p->leader_id() != leader_) continue;
      if (data.error_code == wire(ErrorCode::kOffsetOutOfRange) && data.log_start_offset > p->log_end_offset()) {
        // Retention or DeleteRecords removed what this replica needs next: it starts again at the leader's log
        // start, as Kafka's followers do, rather than asking for offsets that are gone.
        p->restart_at(data.log_start_offset);
        continue;
      }
      if (data.error_code != 0) {
        // Not leader any more, an epoch one side has not seen yet, ahead of the leader: the metadata (or a new
        // OffsetForLeaderEpoch check) will say what to do next; until then this partition waits.
        spdlog::debug("{}-{}: fetch from leader {} failed with error {}", topic.topic, data.partition_index, leader_,
                      data.error_code);
        if (data.error_code == wire(ErrorCode::kOffsetOutOfRange)) {
          fetcher_.truncation_checked_.erase({topic.topic, data.partition_index});
        }
        stalled = true;
        continue;
      }
      std::span<uint8_t> records = data.records ? data.records->contiguous() : std::span<uint8_t>();
      auto appended = p->append_from_leader(records, data.high_watermark);
      if (appended.error != ErrorCode::kNone) {
        spdlog::warn("{}-{}: cannot append from leader {}: {}", topic.topic, data.partition_index, leader_,
                     appended.message);
        fetcher_.truncation_checked_.erase({topic.topic, data.partition_index});  // check the tail again
        stalled = true;
        continue;
      }
      if (!records.empty()) appended_to.emplace_back(topic.topic, data.partition_index);
      if (!records.empty() && follower_rate != RateBudget::kUnlimited &&
          fetcher_.throttled({topic.topic, data.partition_index})) {
        fetcher_.partitions_.throttle_budget(PartitionManager::ThrottleSide::kFollower)
            .record(static_cast<int64_t>(records.size()), follower_rate);
      }
      // Records the leader deleted (DeleteRecords) are deleted here too.
      if (data.log_start_offset > p->log_start_offset() && data.log_start_offset <= p->log_end_offset()) {
        p->log().delete_records_before(data.log_start_offset);
      }
    }
  }
  // The next fetch tells the leader how far this replica has got, which the leader counts as in sync: so it is
  // sent only once what was appended now is durable here.
  wait_until_acknowledgeable(std::move(appended_to), stalled);
}

void ReplicaFetcher::Session::wait_until_acknowledgeable(std::vector<Key> appended_to, bool stalled) {
  auto remaining = std::make_shared<size_t>(appended_to.size() + 1);
  auto self = shared_from_this();
  auto one_done = [self, remaining, stalled](bool) {
    if (--*remaining > 0 || self->stopped_) return;
    if (stalled) return self->back_off();
    self->step();
  };
  for (const auto& [topic, index] : appended_to) {
    Partition* p = fetcher_.partitions_.partition(topic, index);
    if (!p) {
      one_done(true);
      continue;
    }
    p->when_appended_acknowledgeable(one_done);
  }
  one_done(true);
}

ReplicaFetcher::ReplicaFetcher(asio::io_context& io, PartitionManager& partitions, const Membership& membership,
                               FetcherSettings settings, BrokerLinkFactory links)
    : io_(io),
      partitions_(partitions),
      membership_(membership),
      settings_(settings),
      links_(links ? std::move(links) : BrokerLinkFactory(plaintext_broker_link)) {}

ReplicaFetcher::~ReplicaFetcher() { stop(); }

bool ReplicaFetcher::throttled(const Key& key) const {
  const auto* topic = partitions_.topic(key.first);
  if (!topic || key.second < 0 || static_cast<size_t>(key.second) >= topic->assignments.size()) return false;
  const auto& isr = topic->assignments[static_cast<size_t>(key.second)].isr;
  if (std::find(isr.begin(), isr.end(), partitions_.local_node()) != isr.end()) return false;
  return partitions_.replication_throttled(*topic, key.second, PartitionManager::ThrottleSide::kFollower);
}

void ReplicaFetcher::stop() {
  stopped_ = true;
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [leader, session] : sessions) session->stop();
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
    if (sessions_.count(leader)) continue;
    auto session = std::make_shared<Session>(*this, leader);
    sessions_[leader] = session;
    session->step();
  }
}

}  // namespace fjord::cluster
