// What a handler gets for one request: the decoded header, the body bytes, the broker's services, and the one
// way to answer. The frame the request arrived in stays alive until the answer is given, so decoded records may
// point into it.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/membership.h"
#include "cluster/partition_manager.h"
#include "cluster/producer_ids.h"
#include "coordinator/cluster_transactions.h"
#include "coordinator/group_coordinator.h"
#include "coordinator/transaction_coordinator.h"
#include "model/acl.h"
#include "model/clock.h"
#include "model/executor.h"
#include "model/metrics.h"
#include "model/waiter_list.h"
#include "protocol/codec_runtime.h"
#include "protocol/request_header.h"
#include "server/client_activity.h"
#include "server/features.h"

namespace fjord::server {

// The address and identity this broker gives clients.
struct BrokerIdentity {
  int32_t node_id = 1;
  std::string advertised_host = "127.0.0.1";
  int32_t advertised_port = 9092;
  std::optional<std::string> rack;
  // Every listener's advertised address by name (the one above is the inter-broker listener's).
  std::map<std::string, cluster::ListenerEndpoint> listeners;
};

struct ServerProbe;
class ClientQuotaManager;

// The services a handler may use.
struct ServerContext {
  cluster::PartitionManager& partitions;
  cluster::ProducerIds& producer_ids;
  coordinator::GroupCoordinator& groups;
  coordinator::TransactionCoordinator& transactions;
  // Writes transaction markers to the partitions this broker leads (WriteTxnMarkers).
  coordinator::MarkerWriter& markers;
  // Whether a partition is in a producer's ongoing transaction, wherever its coordinator is.
  coordinator::TransactionVerifier& verifier;
  BrokerIdentity identity;
  const Clock& clock;
  Scheduler& scheduler;
  ServerProbe& probe;
  // Cluster mode: the registered brokers and the controller. Null on a single node, which is all of it.
  const cluster::Membership* membership = nullptr;
  // What ApiVersions reports as finalized, and which versions it therefore advertises.
  FinalizedFeatures features;
  // What clients were seen doing, for the checklist audit (null: not recorded).
  ClientActivity* activity = nullptr;
  // The cluster metadata, for the handlers that change what no layer below owns (users' credentials, ACLs).
  cluster::MetadataStore* metadata_store = nullptr;
  // authorizer.class.name set: every request is checked against the ACLs in the metadata (model/acl.h).
  bool authorizing = false;
  AclPolicy acl_policy;
  // Measures clients against the quotas in the metadata (null: quotas are not enforced).
  ClientQuotaManager* quotas = nullptr;
  // The listener other brokers reach this one on: the only one that takes requests only brokers send.
  std::string inter_broker_listener = "PLAINTEXT";
  // connection.failed.authentication.delay.ms: how long a failed authentication waits for its answer, so that
  // passwords cannot be tried at the rate the network allows.
  int64_t failed_authentication_delay_ms = 100;

  // The registered brokers, this one always among them: it is serving, and clients must be able to reach the
  // broker a Metadata answer names as controller (itself, before the others are known).
  std::vector<cluster::BrokerEndpoint> brokers() const {
    const cluster::BrokerEndpoint self{identity.node_id, identity.advertised_host, identity.advertised_port,
                                       identity.rack, identity.listeners};
    if (!membership) return {self};
    auto out = membership->live_brokers();
    auto mine = std::find_if(out.begin(), out.end(), [&](const auto& b) { return b.node_id == self.node_id; });
    if (mine == out.end()) {
      out.push_back(self);
      std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.node_id < b.node_id; });
    }
    return out;
  }
  // The brokers as a client of `listener` reaches them.
  std::vector<cluster::BrokerEndpoint> brokers_on(const std::string& listener) const {
    auto out = brokers();
    for (auto& b : out) b = b.on_listener(listener);
    return out;
  }
  // Clients send admin requests to the broker named here, and any Fjord broker can serve them (they write the
  // metadata to etcd themselves): while no controller is known yet (a cluster starting, a controller just gone),
  // this broker answers for itself rather than -1, which leaves librdkafka's admin requests waiting for minutes.
  int32_t controller_id() const {
    const int32_t known = membership ? membership->controller_id() : identity.node_id;
    return known >= 0 ? known : identity.node_id;
  }
};

class HandlerRegistry;
class Connection;
namespace security {
struct Session;
}

class RequestContext {
 public:
  using Responder = std::function<void(std::optional<protocol::EncodedMessage>)>;

  // `connection_closed` is notified when the connection the request came on closes; it outlives the context
  // (the responder holds the connection).
  RequestContext(ServerContext& server, const HandlerRegistry& registry, protocol::RequestHeader header,
                 std::string client_host, std::shared_ptr<std::vector<uint8_t>> frame, std::span<uint8_t> body,
                 Responder responder, WaiterList& connection_closed, ClientSoftware* software = nullptr,
                 Connection* connection = nullptr)
      : server_(server),
        registry_(registry),
        header_(std::move(header)),
        client_host_(std::move(client_host)),
        software_(software),
        connection_(connection),
        frame_(std::move(frame)),
        body_(body),
        responder_(std::move(responder)),
        connection_closed_(&connection_closed) {}

  ServerContext& server() const { return server_; }
  const HandlerRegistry& registry() const { return registry_; }
  const protocol::RequestHeader& header() const { return header_; }
  int16_t version() const { return header_.api_version; }
  // Where the request came from, as Kafka reports members' hosts ("/127.0.0.1").
  const std::string& client_host() const { return client_host_; }
  const std::string& client_id() const {
    static const std::string none;
    return header_.client_id ? *header_.client_id : none;
  }
  // The software the connection named in ApiVersions (ApiVersions records it here).
  void set_client_software(ClientSoftware software) const {
    if (software_) *software_ = std::move(software);
  }
  // Who sent the request, as the checklist audit names clients.
  ClientIdentity client_identity() const {
    ClientIdentity identity{client_id(), "", "", client_host_};
    if (software_) {
      identity.software_name = software_->name;
      identity.software_version = software_->version;
    }
    return identity;
  }

  // Decodes the body as `Request` in the header's version. A body that does not decode throws DecodeError, which
  // closes the connection.
  template <typename Request>
  Request decode() const {
    Request request;
    protocol::Reader reader(body_);
    request.decode(reader, version());
    return request;
  }

  // Answers with `response` encoded in the request's version, its throttle_time_ms raised to what the client's
  // quotas ask (and the connection then not read for that long, as Kafka mutes a throttled client). Call once.
  template <typename Response>
  void respond(const Response& response) const {
    const int32_t throttle = throttle_before_answer();
    protocol::Writer writer;
    if constexpr (requires { response.throttle_time_ms; }) {
      if (throttle > response.throttle_time_ms) {
        auto throttled = response;
        throttled.throttle_time_ms = throttle;
        throttled.encode(writer, version());
        responder_(writer.take());
        return;
      }
    }
    response.encode(writer, version());
    responder_(writer.take());
  }

  // acks=0 produce: the request is answered by nothing at all (a client over its quota is still not read for
  // the time it must wait).
  void respond_nothing() const {
    throttle_before_answer();
    responder_(std::nullopt);
  }

  // Client quotas (server/quotas/request_quotas.cc). Whether a consumer_byte_rate applies to this client:
  bool fetch_quota_applies() const;
  // Counts a fetch answer of `bytes` against the client's consumer_byte_rate. Over it, the fetch is to be answered
  // without data (Kafka's throttled fetch): the bytes are not counted, and the wait goes into the answer; returns
  // whether that is so.
  bool fetch_throttled(int64_t bytes) const;
  // A request between brokers (a follower's fetch, transaction markers): never held to client quotas, as Kafka
  // exempts them, so that a default quota cannot slow replication.
  void exempt_from_quotas() const { quota_exempt_ = true; }
  // Closes the client's connection (with `reason` in the log): how an acks=0 producer learns of a refusal.
  // (Defined in connection.cc.)
  void close_connection(const std::string& reason) const;

  // Runs `callback` if the client's connection closes before the registration is dropped: a request that waits
  // (a long poll) gives up what it holds at once rather than when its wait would have ended.
  [[nodiscard]] WaiterList::Registration on_connection_closed(std::function<void()> callback) const {
    return connection_closed_->add(std::move(callback));
  }

  // The connection's authentication (null for a request that did not come over a connection). (Defined in
  // connection.cc.)
  security::Session* session() const;
  // Who sent the request ("User:alice"; "User:ANONYMOUS" without authentication).
  const std::string& principal() const;
  // Whether the request's principal may do `operation` to the named resource: always without an authorizer.
  bool authorized(AclOperation operation, AclResourceType type, std::string_view name) const {
    if (!server_.authorizing) return true;
    return acl_allows(server_.partitions.metadata().acls, server_.acl_policy, principal(), acl_host(), operation, type,
                      name);
  }
  bool authorized_on_cluster(AclOperation operation) const {
    return authorized(operation, AclResourceType::kCluster, kClusterResourceName);
  }
  // Whether it may do `operation` to some resource of `type` (an idempotent producer that may write somewhere).
  bool authorized_on_any(AclOperation operation, AclResourceType type) const {
    if (!server_.authorizing) return true;
    return acl_allows_any(server_.partitions.metadata().acls, server_.acl_policy, principal(), acl_host(), operation,
                          type);
  }
  // The client's address as ACLs name hosts ("127.0.0.1").
  std::string acl_host() const {
    return client_host_.empty() || client_host_[0] != '/' ? client_host_ : client_host_.substr(1);
  }

  // The registered brokers at the addresses of the listener this request came in on. (Defined in connection.cc.)
  std::vector<cluster::BrokerEndpoint> brokers() const;
  std::optional<cluster::BrokerEndpoint> broker(int32_t node_id) const;

  // Keeps the request's frame (and so its decoded records) alive while an asynchronous handler works.
  const std::shared_ptr<std::vector<uint8_t>>& frame() const { return frame_; }

 private:
  ServerContext& server_;
  const HandlerRegistry& registry_;
  protocol::RequestHeader header_;
  std::string client_host_;
  ClientSoftware* software_;  // the connection's; it outlives the context (the responder holds the connection)
  Connection* connection_;    // the client's; it outlives the context (the responder holds the connection)
  std::shared_ptr<std::vector<uint8_t>> frame_;
  std::span<uint8_t> body_;
  Responder responder_;
  WaiterList* connection_closed_;
  // A wait a handler's own quota check asked (fetch_throttled), joined by the others in the answer.
  mutable int32_t throttle_ms_ = 0;
  mutable bool quota_exempt_ = false;

  // The wait the client's quotas ask before its next request, counting a produce request's bytes; mutes the
  // connection for that long. 0 without quotas.
  int32_t throttle_before_answer() const;
};

}  // namespace fjord::server
