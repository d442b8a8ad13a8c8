// Fetch: record batches from each requested partition, up to the high watermark (the last stable offset under
// read_committed, with the aborted transactions the records returned overlap; a follower replica, which names
// itself by replica id, reads up to the log end and so tells the leader how far it has got), within the request's
// and each partition's byte limits (the first batch comes whole even when larger, KIP-74). When less than min_bytes is
// available the request waits, up to max_wait_ms, for a high watermark to move (long poll). Fetch sessions are
// not kept: every response is a full one with session id 0, which clients accept. Record data is referenced as
// file slices, which the connection sends with sendfile. From v11 a consumer may read from a follower, up to the
// follower's high watermark, and a leader whose replica.selector.class is the rack-aware one sends a consumer that
// names its rack to an in-sync follower there (KIP-392).
#include "protocol/messages/fetch.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "cluster/read_replica.h"
#include "server/handlers/partition_errors.h"
#include "server/handlers/registry.h"
#include "server/probe.h"
#include "server/security/listener_security.h"

namespace fjord::server {
namespace {

using protocol::FetchRequest;
using protocol::FetchResponse;

constexpr int8_t kReadCommitted = 1;

struct FetchInProgress : std::enable_shared_from_this<FetchInProgress> {
  FetchInProgress(RequestContext c, FetchRequest r) : context(std::move(c)), request(std::move(r)) {}

  RequestContext context;
  FetchRequest request;
  // The follower fetching, or -1 for a consumer.
  int32_t replica_id() const { return context.version() >= 15 ? request.replica_state.replica_id : request.replica_id; }
  // What a waiting fetch holds; all of it goes when the fetch ends, however it ends (answered, timed out, its
  // connection closed): the deadline holds the only strong reference, the waiters weak ones.
  std::unique_ptr<TimerHandle> deadline;
  std::map<std::pair<std::string, int32_t>, WaiterList::Registration> partition_waiters;
  WaiterList::Registration connection_waiter;
  bool answered = false;

  // Reads what is available now. Returns the bytes of record data and whether the answer should go now whatever
  // its size: a partition reported an error, or its leader sends the consumer to another replica.
  // `for_sending` is false when a waiting fetch only checks whether enough has arrived; `only`, when given,
  // limits the look to that one partition.
  using PartitionKey = std::pair<std::string, int32_t>;
  FetchResponse build(int64_t& bytes, bool& answer_now, bool for_sending, const PartitionKey* only = nullptr) const;
  void answer();
  // Ends the wait without an answer: the connection is gone.
  void abandon();
  void release();
  void wait();
  void wait_on(const std::string& topic, int32_t index);
  void on_partition_change(const std::string& topic, int32_t index);
};

FetchResponse FetchInProgress::build(int64_t& bytes, bool& answer_now, bool for_sending,
                                     const PartitionKey* only) const {
  auto& partitions = context.server().partitions;
  const int16_t version = context.version();
  FetchResponse response;
  bytes = 0;
  answer_now = false;
  // KIP-392: from v11 a consumer may read from a follower, and a leader may send a consumer that names its rack
  // to an in-sync follower there (cluster/read_replica.h).
  const bool followers_serve = replica_id() < 0 && version >= 11;
  const bool may_redirect = followers_serve && !request.rack_id.empty() &&
                            partitions.settings().get("replica.selector.class") == cluster::kRackAwareReplicaSelector;
  std::optional<cluster::BrokerRacks> racks;  // looked up once, the first time a redirect is considered
  const int64_t max_bytes = request.max_bytes > 0 ? request.max_bytes : INT32_MAX;
  for (const auto& topic : request.topics) {
    auto& topic_out = response.responses.emplace_back();
    topic_out.topic = topic.topic;
    topic_out.topic_id = topic.topic_id;
    std::string name = topic.topic;
    if (version >= 13) {
      const auto* metadata = partitions.topic_by_id(topic.topic_id);
      name = metadata ? metadata->name : std::string();
    }
    // A topic deleted meanwhile (its id no longer named) is looked at: it answers with an error at once.
    if (only && !name.empty() && name != only->first) continue;
    // A follower was authorized for the whole request (CLUSTER_ACTION); a consumer needs READ on each topic.
    const bool may_read =
        replica_id() >= 0 || name.empty() || context.authorized(AclOperation::kRead, AclResourceType::kTopic, name);
    for (const auto& wanted : topic.partitions) {
      if (only && wanted.partition != only->second) continue;
      auto& out = topic_out.partitions.emplace_back();
      out.partition_index = wanted.partition;
      out.high_watermark = -1;
      out.last_stable_offset = -1;
      out.log_start_offset = -1;
      out.records = protocol::Records();  // empty, never null: clients reject a null record set
      cluster::Partition* partition = name.empty() ? nullptr : partitions.partition(name, wanted.partition);
      auto fail = [&](ErrorCode error) {
        out.error_code = wire(error);
        answer_now = true;
      };
      if (!may_read) {
        fail(ErrorCode::kTopicAuthorizationFailed);
        continue;
      }
      if (!partition) {
        fail(version >= 13 && name.empty() ? ErrorCode::kUnknownTopicId
                                           : absent_partition_error(partitions, name, wanted.partition));
        continue;
      }
      const int64_t high_watermark = partition->high_watermark();
      const int64_t last_stable = partition->last_stable_offset();
      const bool read_committed = request.isolation_level == kReadCommitted && replica_id() < 0;
      out.high_watermark = high_watermark;
      out.last_stable_offset = last_stable;
      out.log_start_offset = partition->log_start_offset();
      // Under read_uncommitted the list is absent (null): some clients skip records when it is present.
      if (request.isolation_level == kReadCommitted) {
        out.aborted_transactions.emplace();
      } else {
        out.aborted_transactions.reset();
      }
      const ErrorCode role_error = followers_serve ? partition->replica_read_error(wanted.current_leader_epoch)
                                                   : partition->leader_error(wanted.current_leader_epoch);
      if (role_error != ErrorCode::kNone) {
        fail(role_error);
        continue;
      }
      if (wanted.fetch_offset < partition->log_start_offset() || wanted.fetch_offset > partition->log_end_offset()) {
        fail(ErrorCode::kOffsetOutOfRange);
        continue;
      }
      if (may_redirect && partition->is_leader()) {
        if (!racks) {
          const auto* membership = context.server().membership;
          racks = membership ? cluster::live_racks(*membership) : cluster::BrokerRacks{};
        }
        std::vector<cluster::ReadCandidate> candidates;
        for (const auto& [node, end] : partition->in_sync_followers_holding(wanted.fetch_offset)) {
          candidates.push_back({node, end});
        }
        const int32_t self = partitions.local_node();
        if (const int32_t chosen = cluster::select_read_replica(request.rack_id, self, *racks, candidates);
            chosen != self) {
          // No records: the consumer reads them from the replica named, and is told at once.
          out.preferred_read_replica = chosen;
          out.aborted_transactions.reset();
          answer_now = true;
          continue;
        }
      }
      // Replication throttle (leader side): a throttled replica's follower that is out of sync gets nothing more
      // once this broker's leader budget is spent.
      constexpr auto kLeaderSide = cluster::PartitionManager::ThrottleSide::kLeader;
      bool throttled = false;
      if (replica_id() >= 0) {
        // A follower in sync is never throttled: only one that is not costs a look at the topic's settings.
        const auto& isr = partition->isr();
        if (std::find(isr.begin(), isr.end(), replica_id()) == isr.end()) {
          const auto* metadata = partitions.topic(name);
          throttled = metadata && partitions.replication_throttled(*metadata, wanted.partition, kLeaderSide);
        }
        if (throttled && partitions.throttle_budget(kLeaderSide).spent(partitions.throttle_rate(kLeaderSide))) {
          continue;
        }
      }
      const int64_t room = max_bytes - bytes;
      if (room <= 0 && bytes > 0) continue;
      const int64_t limit = std::min<int64_t>(wanted.partition_max_bytes, std::max<int64_t>(room, 0));
      // A follower reads to the log end, a consumer to the high watermark (a follower's own, when a follower
      // serves it), or under read_committed to the last stable offset, with the aborted transactions its records
      // overlap.
      const int64_t readable_end =
          replica_id() >= 0 ? partition->log_end_offset() : (read_committed ? last_stable : high_watermark);
      auto read = partition->log().read(wanted.fetch_offset, readable_end, limit, bytes == 0);
      if (read.bytes == 0) continue;
      if (read_committed) {
        for (const auto& aborted :
             partition->log().producers().aborted_between(wanted.fetch_offset, read.next_offset)) {
          auto& listed = out.aborted_transactions->emplace_back();
          listed.producer_id = aborted.producer_id;
          listed.first_offset = aborted.first_offset;
        }
      }
      protocol::Records records;
      for (auto& slice : read.slices) records.append_file(std::move(slice));
      for (auto& owned : read.owned) {
        if (for_sending) context.server().probe.copied_record_bytes.Increment(static_cast<double>(owned.size()));
        records.append_owned(std::move(owned));
      }
      out.records = std::move(records);
      bytes += read.bytes;
      if (throttled && for_sending) {
        partitions.throttle_budget(kLeaderSide).record(read.bytes, partitions.throttle_rate(kLeaderSide));
      }
      if (for_sending && replica_id() < 0 && partition->traffic())
        partition->traffic()->bytes_out.Increment(static_cast<double>(read.bytes));
    }
  }
  return response;
}

void FetchInProgress::release() {
  partition_waiters.clear();
  connection_waiter.cancel();
  deadline.reset();  // last: it may hold the last reference to this fetch
}

void FetchInProgress::answer() {
  if (answered) return;
  answered = true;
  auto self = shared_from_this();  // alive until this returns, whatever release() drops
  int64_t bytes = 0;
  bool answer_now = false;
  // A consumer over its consumer_byte_rate gets no data (Kafka's throttled fetch): what it would have read is not
  // counted, and the wait goes into throttle_time_ms.
  if (replica_id() < 0 && context.fetch_quota_applies()) {
    build(bytes, answer_now, false);
    if (context.fetch_throttled(bytes)) {
      context.respond(FetchResponse{});
      release();
      return;
    }
  }
  context.respond(build(bytes, answer_now, true));
  release();
}

void FetchInProgress::abandon() {
  if (answered) return;
  answered = true;
  auto self = shared_from_this();
  release();
}

void FetchInProgress::wait_on(const std::string& topic, int32_t index) {
  auto* partition = context.server().partitions.partition(topic, index);
  if (!partition) return;
  partition_waiters[{topic, index}] = partition->on_next_high_watermark_change([weak = weak_from_this(), topic, index] {
    if (auto me = weak.lock()) me->on_partition_change(topic, index);
  });
}

void FetchInProgress::wait() {
  auto& partitions = context.server().partitions;
  for (const auto& topic : request.topics) {
    std::string name = topic.topic;
    if (context.version() >= 13) {
      const auto* metadata = partitions.topic_by_id(topic.topic_id);
      if (!metadata) continue;
      name = metadata->name;
    }
    for (const auto& wanted : topic.partitions) wait_on(name, wanted.partition);
  }
  connection_waiter = context.on_connection_closed([weak = weak_from_this()] {
    if (auto me = weak.lock()) me->abandon();
  });
  deadline =
      context.server().scheduler.schedule_after(request.max_wait_ms, [self = shared_from_this()] { self->answer(); });
}

void FetchInProgress::on_partition_change(const std::string& topic, int32_t index) {
  if (answered) return;
  int64_t bytes = 0;
  bool answer_now = false;
  // What changed is this one partition: with min_bytes of one (followers, and consumers by default) it alone
  // decides, so a follower's fetch of thousands of partitions is not read through again on every write to one
  // of them. A larger min_bytes counts every partition.
  const PartitionKey changed{topic, index};
  build(bytes, answer_now, false, request.min_bytes <= 1 ? &changed : nullptr);
  if (bytes >= request.min_bytes || answer_now) {
    answer();
    return;
  }
  wait_on(topic, index);
}

bool may_fetch_as_replica(const RequestContext& context) {
  auto& server = context.server();
  if (!server.partitions.cluster_mode()) return false;  // a single node has no followers
  const auto* session = context.session();
  if (session && session->listener && session->listener->name != server.inter_broker_listener) return false;
  return context.authorized_on_cluster(AclOperation::kClusterAction);
}

}  // namespace

void handle_fetch(RequestContext context) {
  auto request = context.decode<FetchRequest>();
  if (request.session_id != 0) {
    // Sessions are never handed out, so a session id can only be stale.
    FetchResponse response;
    response.error_code = wire(ErrorCode::kFetchSessionIdNotFound);
    context.respond(response);
    return;
  }
  auto fetch = std::make_shared<FetchInProgress>(std::move(context), std::move(request));
  if (fetch->replica_id() >= 0 && !may_fetch_as_replica(fetch->context)) {
    // Claiming a replica id reads past the high watermark and moves the ISR: only another broker may, on the
    // inter-broker listener, and with an authorizer only a principal allowed CLUSTER_ACTION.
    FetchResponse response;
    response.error_code = wire(ErrorCode::kClusterAuthorizationFailed);
    fetch->context.respond(response);
    return;
  }
  if (const int32_t follower = fetch->replica_id(); follower >= 0) {
    fetch->context.exempt_from_quotas();
    // The fetch offset is what the follower has: the leader's high watermark and ISR move on it.
    auto& partitions = fetch->context.server().partitions;
    for (const auto& topic : fetch->request.topics) {
      for (const auto& wanted : topic.partitions) {
        auto* partition = partitions.partition(topic.topic, wanted.partition);
        if (partition && partition->is_leader() && wanted.current_leader_epoch == partition->leader_epoch()) {
          partition->on_follower_fetch(follower, wanted.fetch_offset);
        }
      }
    }
  }
  int64_t bytes = 0;
  bool answer_now = false;
  // Under a fetch quota the answer is sized before anything counts as sent (answer() decides).
  const bool under_quota = fetch->replica_id() < 0 && fetch->context.fetch_quota_applies();
  auto response = fetch->build(bytes, answer_now, !under_quota);
  if (bytes >= fetch->request.min_bytes || answer_now || fetch->request.max_wait_ms <= 0) {
    if (under_quota) return fetch->answer();
    fetch->answered = true;
    fetch->context.respond(response);
    return;
  }
  fetch->wait();
}

}  // namespace fjord::server
