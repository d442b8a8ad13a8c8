#include "cluster/config_definitions.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "cluster/replication_throttle.h"

namespace fjord::cluster {
namespace {

constexpr std::string_view kLongMax = "9223372036854775807";
constexpr std::string_view kCleanupPolicies[] = {"delete", "compact", "compact,delete", "delete,compact"};
constexpr std::string_view kReplicaSelectors[] = {"", "org.apache.kafka.common.replica.RackAwareReplicaSelector"};
constexpr std::string_view kCompressionTypes[] = {"producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"};
constexpr std::string_view kTimestampTypes[] = {"CreateTime", "LogAppendTime"};
constexpr std::string_view kTrue[] = {"true"};
constexpr std::string_view kMigrationPolicies[] = {"bidirectional", "upgrade", "downgrade", "disabled"};
constexpr std::string_view kTransactionVersions[] = {"0", "1", "2"};

struct NotImplemented {
  std::string_view name;
  std::string_view what;
};
// Each returns when what it belongs to is built.
constexpr std::string_view kPemOnly[] = {"PEM"};
constexpr std::string_view kAuthorizers[] = {"", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                                             "kafka.security.authorizer.AclAuthorizer"};
constexpr std::string_view kClientAuthModes[] = {"none", "requested", "required"};
constexpr std::string_view kAdminAuthentications[] = {"none", "basic", "mtls"};
constexpr std::string_view kEndpointIdentification[] = {"https", ""};

constexpr NotImplemented kNotImplemented[] = {
    {"group.coordinator.rebalance.protocols",
     "turning off a group protocol (Fjord serves both classic and KIP-848 consumer)"},
};

constexpr ConfigDefinition kTopicConfigs[] = {
    {"cleanup.policy", ConfigType::kList, "delete", "log.cleanup.policy",
     "delete: old segments are removed by retention. compact: the log cleaner keeps the latest record of each "
     "key (records need a key). compact,delete: both",
     kCleanupPolicies},
    {"compression.type", ConfigType::kString, "producer", "compression.type",
     "producer keeps batches as the producer compressed them", kCompressionTypes},
    {"delete.retention.ms", ConfigType::kLong, "86400000", "log.cleaner.delete.retention.ms",
     "compacted topics: how long a tombstone stays after the cleaning pass that first reached it"},
    {"file.delete.delay.ms", ConfigType::kLong, "60000", "log.segment.delete.delay.ms",
     "how long the files of a removed segment stay (renamed *.deleted) before they are deleted"},
    {"fjord.require.acks.all", ConfigType::kBoolean, "false", "fjord.require.acks.all",
     "true: a produce with acks other than all is refused (POLICY_VIOLATION, or its connection closed for acks=0), "
     "so the topic's writes wait for min.insync.replicas"},
    {"fjord.require.idempotence", ConfigType::kBoolean, "false", "fjord.require.idempotence",
     "true: a produce whose batches carry no producer id (enable.idempotence=false) is refused (POLICY_VIOLATION)"},
    {"flush.messages", ConfigType::kLong, "1", "log.flush.interval.messages",
     "Fjord default 1: every write is synced to disk before it is acknowledged (group commit shares one fsync "
     "among concurrent writes). Larger values acknowledge from the page cache and sync every N messages, as "
     "Kafka does by default"},
    {"flush.ms", ConfigType::kLong, kLongMax, "log.flush.interval.ms",
     "longest time unsynced writes may wait for a sync when flush.messages > 1"},
    {"index.interval.bytes", ConfigType::kInt, "4096", "log.index.interval.bytes",
     "bytes of log between offset index entries"},
    {"max.compaction.lag.ms", ConfigType::kLong, kLongMax, "log.cleaner.max.compaction.lag.ms",
     "compacted topics: longest a record may stay uncleaned; the active segment rolls by it too"},
    {"max.message.bytes", ConfigType::kInt, "1048588", "message.max.bytes", "largest record batch accepted"},
    {"message.timestamp.after.max.ms", ConfigType::kLong, "3600000", "log.message.timestamp.after.max.ms",
     "how far in the future a CreateTime timestamp may be"},
    {"message.timestamp.before.max.ms", ConfigType::kLong, kLongMax, "log.message.timestamp.before.max.ms",
     "how far in the past a CreateTime timestamp may be"},
    {"message.timestamp.type", ConfigType::kString, "CreateTime", "log.message.timestamp.type",
     "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock",
     kTimestampTypes},
    {"min.cleanable.dirty.ratio", ConfigType::kDouble, "0.5", "log.cleaner.min.cleanable.ratio",
     "compacted topics: the share of the cleanable log never cleaned at which a cleaning pass starts (0 to 1)"},
    {"min.compaction.lag.ms", ConfigType::kLong, "0", "log.cleaner.min.compaction.lag.ms",
     "compacted topics: a segment is cleaned only once its newest record is this old"},
    {"min.insync.replicas", ConfigType::kInt, "1", "min.insync.replicas",
     "with acks=all, a write is refused (NOT_ENOUGH_REPLICAS) unless at least this many replicas are in sync"},
    {"preallocate",
     ConfigType::kBoolean,
     "false",
     "log.preallocate",
     "preallocate segment files: only false, Fjord's segment files grow as they are written",
     {},
     false,
     kTrue,
     "Fjord does not preallocate segment files"},
    {"retention.bytes", ConfigType::kLong, "-1", "log.retention.bytes",
     "size a partition may reach before its oldest segments are removed; -1: no limit"},
    {"retention.ms", ConfigType::kLong, "604800000", "log.retention.ms",
     "age after which a segment is removed; -1: no limit"},
    {"segment.bytes", ConfigType::kInt, "1073741824", "log.segment.bytes", "size at which a segment is rolled"},
    {"segment.index.bytes", ConfigType::kInt, "10485760", "log.index.size.max.bytes",
     "largest offset index of a segment: a segment whose index is full is rolled"},
    {"segment.jitter.ms", ConfigType::kLong, "0", "log.roll.jitter.ms",
     "up to this much is taken off segment.ms, differently for each segment, so that partitions do not all roll "
     "at once"},
    {"segment.ms", ConfigType::kLong, "604800000", "log.roll.ms", "age at which a segment is rolled"},
    {"unclean.leader.election.enable", ConfigType::kBoolean, "false", "unclean.leader.election.enable",
     "whether an out-of-sync replica may become leader (losing acknowledged data)"},
    {"leader.replication.throttled.replicas", ConfigType::kList, "", "",
     "replicas (PARTITION:BROKER list, or *) whose leader's sending to out-of-sync followers counts against the "
     "broker's leader.replication.throttled.rate"},
    {"follower.replication.throttled.replicas", ConfigType::kList, "", "",
     "replicas (PARTITION:BROKER list, or *) whose fetching while out of sync counts against the broker's "
     "follower.replication.throttled.rate"},
};

constexpr ConfigDefinition kBrokerConfigs[] = {
    {"node.id", ConfigType::kInt, "1", "", "this broker's id", {}, true},
    {"broker.id", ConfigType::kInt, "1", "", "this broker's id (the older name of node.id)", {}, true},
    {"broker.rack",
     ConfigType::kString,
     "",
     "",
     "the rack (or availability zone) this broker is in: the controller spreads each partition's replicas over racks",
     {},
     true},
    {"replica.selector.class", ConfigType::kString, "", "",
     "org.apache.kafka.common.replica.RackAwareReplicaSelector: a leader sends a consumer that names its rack "
     "(client.rack) to an in-sync follower in that rack to read from (KIP-392); empty: consumers read from leaders",
     kReplicaSelectors, true},
    {"listeners", ConfigType::kString, "PLAINTEXT://127.0.0.1:9092", "", "where the broker accepts clients", {}, true},
    {"advertised.listeners",
     ConfigType::kString,
     "",
     "",
     "the address clients are told to reconnect to; defaults to listeners",
     {},
     true},
    {"listener.security.protocol.map",
     ConfigType::kString,
     "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
     "",
     "each listener's name and its security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)",
     {},
     true},
    {"inter.broker.listener.name",
     ConfigType::kString,
     "",
     "",
     "the listener other brokers reach this one on (replication); defaults to the first of listeners",
     {},
     true},
    {"sasl.enabled.mechanisms",
     ConfigType::kList,
     "SCRAM-SHA-512,SCRAM-SHA-256",
     "",
     "the SASL mechanisms a SASL listener offers: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (Fjord's default is both "
     "SCRAM mechanisms; Kafka's is GSSAPI, which Fjord does not serve). PLAIN checks passwords against the users' "
     "SCRAM credentials, and sends them in the clear unless the listener uses TLS",
     {},
     true},
    {"sasl.server.max.receive.size",
     ConfigType::kInt,
     "524288",
     "",
     "the largest request a connection may send before it has authenticated; a larger one closes it",
     {},
     true},
    {"connection.failed.authentication.delay.ms",
     ConfigType::kInt,
     "100",
     "",
     "how long the answer to a failed authentication waits before it goes (and the connection closes), so that "
     "passwords cannot be guessed at the rate the network allows",
     {},
     true},
    {"connections.max.idle.ms",
     ConfigType::kLong,
     "600000",
     "",
     "a connection with no request in progress and nothing read or written for this long is closed, so that "
     "clients that vanished (or never authenticate) do not hold sockets for ever (-1: never)",
     {},
     true},
    {"connections.max.reauth.ms",
     ConfigType::kLong,
     "0",
     "",
     "how long a SASL authentication holds: the client must authenticate again on the connection before then, or "
     "its next request closes it (0: for the connection's life)",
     {},
     true},
    {"sasl.mechanism.inter.broker.protocol",
     ConfigType::kString,
     "GSSAPI",
     "",
     "the SASL mechanism a broker authenticates with on a SASL inter-broker listener: PLAIN, SCRAM-SHA-256 or "
     "SCRAM-SHA-512 (Kafka's default, GSSAPI, is not spoken), with the user and password of "
     "listener.name.<listener>.<mechanism>.sasl.jaas.config",
     {},
     true},
    {"sasl.jaas.config",
     ConfigType::kPassword,
     "",
     "",
     "a broker's own SASL credentials as a JAAS line (username=\"...\" password=\"...\"), given as "
     "listener.name.<listener>.<mechanism>.sasl.jaas.config for the inter-broker listener",
     {},
     true},
    {"ssl.endpoint.identification.algorithm", ConfigType::kString, "https", "",
     "https: a broker connecting to another over TLS checks that the certificate names the host it connects to; "
     "empty: it does not",
     kEndpointIdentification, true},
    {"ssl.keystore.location",
     ConfigType::kString,
     "",
     "",
     "a PEM file with the listener's private key and certificate chain",
     {},
     true},
    {"ssl.keystore.type", ConfigType::kString, "PEM", "",
     "PEM (Fjord's default and only key store type; Kafka's default is JKS)", kPemOnly, true},
    {"ssl.key.password",
     ConfigType::kPassword,
     "",
     "",
     "decrypts the key store's private key when it is encrypted",
     {},
     true},
    {"ssl.truststore.location",
     ConfigType::kString,
     "",
     "",
     "a PEM file with the certificates of the authorities whose client certificates are trusted",
     {},
     true},
    {"ssl.truststore.type", ConfigType::kString, "PEM", "",
     "PEM (Fjord's default and only trust store type; Kafka's default is JKS)", kPemOnly, true},
    {"ssl.client.auth", ConfigType::kString, "none", "",
     "whether a TLS client must show a certificate (required), may (requested) or is not asked (none)",
     kClientAuthModes, true},
    {"authorizer.class.name", ConfigType::kString, "", "",
     "org.apache.kafka.metadata.authorizer.StandardAuthorizer (or kafka.security.authorizer.AclAuthorizer): every "
     "request is checked against the ACLs (CreateAcls, fjord acl); empty: no authorization",
     kAuthorizers, true},
    {"super.users",
     ConfigType::kString,
     "",
     "",
     "principals (User:name, separated by ;) allowed everything whatever the ACLs say",
     {},
     true},
    {"allow.everyone.if.no.acl.found",
     ConfigType::kBoolean,
     "false",
     "",
     "true: a resource no ACL names is open to everyone; false: only to super users",
     {},
     true},
    {"log.dirs", ConfigType::kString, "./fjord-data", "", "the data directory", {}, true},
    {"num.partitions", ConfigType::kInt, "1", "", "partitions of an automatically created topic"},
    {"leader.replication.throttled.rate", ConfigType::kLong, kLongMax, "",
     "bytes per second a leader sends to the throttled replicas (leader.replication.throttled.replicas) that are "
     "out of sync"},
    {"follower.replication.throttled.rate", ConfigType::kLong, kLongMax, "",
     "bytes per second a follower fetches for its throttled replicas (follower.replication.throttled.replicas) "
     "while they are out of sync"},
    {"replica.alter.log.dirs.io.max.bytes.per.second", ConfigType::kLong, kLongMax, "",
     "throttle for moving replicas between a broker's data directories; a Fjord broker has one data directory, "
     "so no replica moves between directories and nothing is throttled"},
    {"default.replication.factor", ConfigType::kShort, "1", "", "replicas of an automatically created topic"},
    {"auto.create.topics.enable", ConfigType::kBoolean, "true", "",
     "create a topic the first time a client asks for its metadata"},
    {"delete.topic.enable", ConfigType::kBoolean, "true", "", "allow DeleteTopics"},
    {"admin.authentication", ConfigType::kString, "none", "",
     "who may read the admin listener (--admin-listen): none (anyone; the default only on a loopback address), "
     "basic (HTTP Basic with a SCRAM user's name and password, over HTTPS) or mtls (a client certificate from "
     "admin.ssl.truststore.location's authorities)",
     kAdminAuthentications, true},
    {"admin.ssl.keystore.location",
     ConfigType::kString,
     "",
     "",
     "a PEM file with the admin listener's private key and certificate chain: it serves HTTPS",
     {},
     true},
    {"admin.ssl.key.password",
     ConfigType::kPassword,
     "",
     "",
     "decrypts the admin key store's private key when it is encrypted",
     {},
     true},
    {"admin.ssl.truststore.location",
     ConfigType::kString,
     "",
     "",
     "with admin.authentication=mtls: a PEM file with the authorities whose client certificates are accepted",
     {},
     true},
    {"quota.window.num",
     ConfigType::kInt,
     "11",
     "",
     "client quotas: how many windows a client's rate is measured over (at least 1)",
     {},
     true},
    {"quota.window.size.seconds",
     ConfigType::kInt,
     "1",
     "",
     "client quotas: the length of one window in seconds (at least 1)",
     {},
     true},
    {"socket.request.max.bytes",
     ConfigType::kInt,
     "104857600",
     "",
     "largest request accepted; a larger frame closes the connection",
     {},
     true},
    {"log.retention.check.interval.ms", ConfigType::kLong, "300000", "", "how often retention runs", {}, true},
    {"log.retention.hours", ConfigType::kInt, "168", "", "retention in hours when log.retention.ms is unset", {}, true},
    {"group.initial.rebalance.delay.ms", ConfigType::kInt, "3000", "",
     "how long a new group waits for more members before its first rebalance"},
    {"offsets.retention.minutes", ConfigType::kInt, "10080", "", "how long committed offsets of an empty group last"},
    {"offsets.retention.check.interval.ms",
     ConfigType::kLong,
     "600000",
     "",
     "how often old offsets are expired",
     {},
     true},
    {"offset.metadata.max.bytes",
     ConfigType::kInt,
     "4096",
     "",
     "largest metadata string an offset commit may carry",
     {},
     true},
    {"group.min.session.timeout.ms",
     ConfigType::kInt,
     "6000",
     "",
     "shortest session timeout a member may ask for",
     {},
     true},
    {"group.max.session.timeout.ms",
     ConfigType::kInt,
     "1800000",
     "",
     "longest session timeout a member may ask for",
     {},
     true},
    {"group.max.size", ConfigType::kInt, "2147483647", "", "most members one group may have", {}, true},
    {"group.consumer.session.timeout.ms",
     ConfigType::kInt,
     "45000",
     "",
     "consumer protocol (KIP-848): how long a member may go without a heartbeat before it is removed",
     {},
     true},
    {"group.consumer.heartbeat.interval.ms",
     ConfigType::kInt,
     "5000",
     "",
     "consumer protocol: how often members are told to heartbeat",
     {},
     true},
    {"group.consumer.assignors",
     ConfigType::kList,
     "uniform,range",
     "",
     "consumer protocol: the server-side assignors members may ask for (uniform, range; Kafka's class names "
     "UniformAssignor and RangeAssignor are read as these); the first is the default",
     {},
     true},
    {"group.consumer.migration.policy", ConfigType::kString, "bidirectional", "",
     "consumer protocol: whether a classic group with members becomes a consumer-protocol group when a member of "
     "that protocol joins (upgrade), and back when the last one leaves (downgrade): bidirectional, upgrade, "
     "downgrade or disabled (an empty group changes either way)",
     kMigrationPolicies, true},
    {"group.consumer.max.size",
     ConfigType::kInt,
     "2147483647",
     "",
     "consumer protocol: most members a group may have",
     {},
     true},
    {"offsets.topic.num.partitions", ConfigType::kInt, "50", "", "partitions of __consumer_offsets", {}, true},
    {"offsets.topic.replication.factor", ConfigType::kShort, "3", "", "replicas of __consumer_offsets", {}, true},
    {"offsets.topic.segment.bytes",
     ConfigType::kInt,
     "104857600",
     "",
     "segment size of __consumer_offsets (compacted): the uncleaned tail a group reload reads is at most this",
     {},
     true},
    {"producer.id.expiration.ms", ConfigType::kInt, "86400000", "", "idle time after which producer state expires"},
    {"replica.lag.time.max.ms",
     ConfigType::kLong,
     "30000",
     "",
     "a follower that has not caught up with its leader for this long leaves the ISR",
     {},
     true},
    {"replica.fetch.wait.max.ms",
     ConfigType::kInt,
     "500",
     "",
     "longest a follower's fetch waits for new data",
     {},
     true},
    {"controlled.shutdown.enable",
     ConfigType::kBoolean,
     "true",
     "",
     "cluster mode: on SIGTERM the broker hands the partitions it leads to in-sync replicas before it stops",
     {},
     true},
    {"controlled.shutdown.max.retries",
     ConfigType::kInt,
     "3",
     "",
     "how often a controlled shutdown whose metadata write failed is tried again before the broker stops anyway",
     {},
     true},
    {"controlled.shutdown.retry.backoff.ms",
     ConfigType::kLong,
     "5000",
     "",
     "wait between controlled shutdown attempts",
     {},
     true},
    {"auto.leader.rebalance.enable",
     ConfigType::kBoolean,
     "true",
     "",
     "cluster mode: the controller moves leadership back to preferred replicas that are alive and in sync",
     {},
     true},
    {"leader.imbalance.check.interval.seconds",
     ConfigType::kLong,
     "300",
     "",
     "how often the controller checks for leader imbalance",
     {},
     true},
    {"leader.imbalance.per.broker.percentage",
     ConfigType::kInt,
     "10",
     "",
     "share of a broker's preferred partitions led elsewhere above which the controller rebalances them",
     {},
     true},
    {"broker.session.timeout.ms",
     ConfigType::kInt,
     "9000",
     "",
     "cluster mode: a broker whose etcd lease has not been renewed for this long is considered gone",
     {},
     true},
    {"transaction.max.timeout.ms", ConfigType::kInt, "900000", "",
     "longest transaction timeout a transactional producer may ask for"},
    {"transaction.version", ConfigType::kShort, "2", "",
     "the transaction.version feature this broker finalizes (Kafka sets it with its features tool; give every "
     "broker of a cluster the same): 2 lets clients use transactions v2 (EndTxn v5, Produce v12, TxnOffsetCommit "
     "v5: an epoch bump per transaction, partitions added by their leaders); 0 and 1 keep transactions v1 (1 writes "
     "__transaction_state records in their flexible layout)",
     kTransactionVersions, true},
    {"fjord.lag.window.ms",
     ConfigType::kLong,
     "60000",
     "",
     "the lag engine's window: lag velocity and commit rate are measured over it, and a group whose committed "
     "offset has not moved for this long while records wait is STALL or STOP",
     {},
     true},
    {"fjord.lag.warning.seconds",
     ConfigType::kInt,
     "60",
     "",
     "lag in seconds at which the lag engine says WARN (the seed's 60-second-equivalent lag)",
     {},
     true},
    {"fjord.lag.critical.seconds",
     ConfigType::kInt,
     "300",
     "",
     "lag in seconds at which the lag engine says ERR: the consumers' SLO breach point",
     {},
     true},
    {"fjord.lag.max.series",
     ConfigType::kInt,
     "10000",
     "",
     "most group-partition pairs the lag engine exports; the rest are counted in "
     "fjord_lag_series_dropped and left out",
     {},
     true},
    {"fjord.audit.client.expiry.ms",
     ConfigType::kLong,
     "3600000",
     "",
     "how long the checklist audit remembers a client it has not heard from (its findings go with it)",
     {},
     true},
    {"fjord.metrics.cluster.name",
     ConfigType::kString,
     "",
     "",
     "when set, the lag engine's series carry it as a cluster_name label",
     {},
     true},
    {"transaction.state.log.num.partitions", ConfigType::kInt, "50", "", "partitions of __transaction_state", {}, true},
    {"transaction.state.log.replication.factor",
     ConfigType::kShort,
     "3",
     "",
     "replicas of __transaction_state",
     {},
     true},
    {"transaction.state.log.min.isr",
     ConfigType::kInt,
     "2",
     "",
     "min.insync.replicas of __transaction_state (at most its replication factor: 1 on a single node)",
     {},
     true},
    {"transaction.state.log.segment.bytes",
     ConfigType::kInt,
     "104857600",
     "",
     "segment size of __transaction_state (compacted)",
     {},
     true},
    {"transactional.id.expiration.ms",
     ConfigType::kInt,
     "604800000",
     "",
     "a transactional id whose producer has not started a transaction for this long is forgotten",
     {},
     true},
    {"transaction.abort.timed.out.transaction.cleanup.interval.ms",
     ConfigType::kInt,
     "10000",
     "",
     "how often transactions are checked against their transaction.timeout.ms (those past it are aborted)",
     {},
     true},
    {"transaction.remove.expired.transaction.cleanup.interval.ms",
     ConfigType::kInt,
     "3600000",
     "",
     "how often transactional ids are checked against transactional.id.expiration.ms",
     {},
     true},
    {"log.cleaner.enable", ConfigType::kBoolean, "true", "", "run the log cleaner (compacted topics)", {}, true},
    {"log.cleaner.threads", ConfigType::kInt, "1", "", "threads cleaning compacted logs", {}, true},
    {"log.cleaner.io.max.bytes.per.second",
     ConfigType::kDouble,
     "1.7976931348623157E308",
     "",
     "the log cleaner's read and write rate, all threads together",
     {},
     true},
    {"log.cleaner.backoff.ms",
     ConfigType::kLong,
     "15000",
     "",
     "how often the idle log cleaner looks for work",
     {},
     true},
    {"log.cleaner.dedupe.buffer.size",
     ConfigType::kLong,
     "134217728",
     "",
     "memory for the log cleaner's map of keys to their latest offsets, all threads together",
     {},
     true},
};

// Topic keys' broker synonyms are broker keys too.
std::vector<ConfigDefinition> make_broker_definitions() {
  std::vector<ConfigDefinition> all(std::begin(kBrokerConfigs), std::end(kBrokerConfigs));
  for (const auto& topic : kTopicConfigs) {
    if (topic.broker_synonym.empty()) continue;  // a topic-only key
    if (std::any_of(all.begin(), all.end(), [&](const auto& d) { return d.name == topic.broker_synonym; })) continue;
    ConfigDefinition broker = topic;
    broker.name = topic.broker_synonym;
    broker.broker_synonym = {};
    all.push_back(broker);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return all;
}

bool parse_long(std::string_view text, int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

std::span<const ConfigDefinition> topic_config_definitions() { return kTopicConfigs; }

std::span<const ConfigDefinition> broker_config_definitions() {
  static const std::vector<ConfigDefinition> all = make_broker_definitions();
  return all;
}

const ConfigDefinition* find_topic_config(std::string_view name) {
  for (const auto& d : kTopicConfigs) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

const ConfigDefinition* find_broker_config(std::string_view name) {
  for (const auto& d : broker_config_definitions()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string assignor_short_name(std::string_view configured) {
  std::string name(
      configured.substr(configured.find_last_of('.') == std::string_view::npos ? 0 : configured.find_last_of('.') + 1));
  if (name.ends_with("Assignor")) name.resize(name.size() - 8);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name;
}

std::optional<std::string> validate_assignor_list(std::string_view value) {
  size_t count = 0;
  for (size_t start = 0; start <= value.size();) {
    size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      const std::string name = assignor_short_name(item);
      if (name != "uniform" && name != "range") {
        return "Invalid value " + std::string(value) + " for group.consumer.assignors: " + std::string(item) +
               " is not an assignor Fjord has (uniform, range)";
      }
      ++count;
    }
    start = end + 1;
  }
  if (count == 0) return std::string("group.consumer.assignors needs at least one assignor");
  return std::nullopt;
}

std::optional<std::string> not_implemented(std::string_view name) {
  for (const auto& n : kNotImplemented) {
    if (n.name == name) {
      return std::string(name) + " applies to " + std::string(n.what) + ", which Fjord does not implement yet";
    }
  }
  return std::nullopt;
}

std::optional<std::string> validate_config_value(const ConfigDefinition& definition, std::string_view value,
                                                 bool internal_topic) {
  std::string name(definition.name);
  int64_t number = 0;
  switch (definition.type) {
    case ConfigType::kBoolean:
      if (value != "true" && value != "false")
        return "Invalid value " + std::string(value) + " for " + name + ": must be true or false";
      break;
    case ConfigType::kInt:
    case ConfigType::kShort:
    case ConfigType::kLong: {
      if (!parse_long(value, number)) return "Invalid value " + std::string(value) + " for " + name + ": not a number";
      int64_t low = definition.type == ConfigType::kShort ? INT16_MIN
                    : definition.type == ConfigType::kInt ? INT32_MIN
                                                          : INT64_MIN;
      int64_t high = definition.type == ConfigType::kShort ? INT16_MAX
                     : definition.type == ConfigType::kInt ? INT32_MAX
                                                           : INT64_MAX;
      if (number < low || number > high)
        return "Invalid value " + std::string(value) + " for " + name + ": out of range";
      break;
    }
    case ConfigType::kDouble: {
      try {
        size_t used = 0;
        std::stod(std::string(value), &used);
        if (used != value.size()) throw std::invalid_argument("trailing");
      } catch (const std::exception&) {
        return "Invalid value " + std::string(value) + " for " + name + ": not a number";
      }
      break;
    }
    case ConfigType::kString:
    case ConfigType::kList:
    case ConfigType::kPassword:
      break;
  }
  if (name == "leader.replication.throttled.replicas" || name == "follower.replication.throttled.replicas") {
    if (auto error = invalid_throttled_replicas(value))
      return "Invalid value " + std::string(value) + " for " + name + ": " + *error;
  }
  if (name == "group.consumer.assignors") {
    if (auto error = validate_assignor_list(value)) return *error;
  }
  if (definition.type == ConfigType::kDouble &&
      (name == "min.cleanable.dirty.ratio" || name == "log.cleaner.min.cleanable.ratio")) {
    const double ratio = std::stod(std::string(value));
    if (ratio < 0 || ratio > 1) return "Invalid value " + std::string(value) + " for " + name + ": must be 0 to 1";
  }
  if (!definition.allowed_values.empty() &&
      std::find(definition.allowed_values.begin(), definition.allowed_values.end(), value) ==
          definition.allowed_values.end()) {
    return "Invalid value " + std::string(value) + " for " + name;
  }
  const bool refused = std::find(definition.refused_values.begin(), definition.refused_values.end(), value) !=
                       definition.refused_values.end();
  if (refused && !internal_topic) {
    return name + "=" + std::string(value) + " is not supported: " + std::string(definition.refusal);
  }
  return std::nullopt;
}

std::string BrokerSettings::get(std::string_view name) const {
  std::string key(name);
  if (auto it = dynamic_configs.find(key); it != dynamic_configs.end()) return it->second;
  if (auto it = static_configs.find(key); it != static_configs.end()) return it->second;
  if (name == "log.retention.ms") {
    // Kafka's precedence: log.retention.ms, else log.retention.hours.
    if (auto it = static_configs.find("log.retention.hours"); it != static_configs.end()) {
      return std::to_string(std::stoll(it->second) * 3600 * 1000);
    }
  }
  if (const auto* d = find_broker_config(name)) return std::string(d->default_value);
  throw std::out_of_range("unknown broker config " + key);
}

int64_t BrokerSettings::get_long(std::string_view name) const {
  int64_t v = 0;
  std::string text = get(name);
  if (!parse_long(text, v)) throw std::invalid_argument("config " + std::string(name) + " is not a number: " + text);
  return v;
}

bool BrokerSettings::get_bool(std::string_view name) const { return get(name) == "true"; }

ResolvedConfig BrokerSettings::resolve_broker(const ConfigDefinition& d) const {
  ResolvedConfig r{std::string(d.name),
                   std::string(d.default_value),
                   ConfigSource::kDefault,
                   d.type,
                   d.read_only,
                   d.documentation,
                   {}};
  std::string key(d.name);
  if (auto it = dynamic_configs.find(key); it != dynamic_configs.end()) {
    r.synonyms.push_back({key, {it->second, ConfigSource::kDynamicBroker}});
  }
  if (auto it = static_configs.find(key); it != static_configs.end()) {
    r.synonyms.push_back({key, {it->second, ConfigSource::kStaticBroker}});
  }
  r.synonyms.push_back({key, {std::string(d.default_value), ConfigSource::kDefault}});
  r.value = get(d.name);
  r.source = r.synonyms.front().second.second;
  return r;
}

ResolvedConfig BrokerSettings::resolve_topic(const ConfigDefinition& d, const ConfigMap& topic_configs) const {
  ResolvedConfig r{std::string(d.name), "", ConfigSource::kDefault, d.type, false, d.documentation, {}};
  std::string key(d.name);
  if (auto it = topic_configs.find(key); it != topic_configs.end()) {
    r.synonyms.push_back({key, {it->second, ConfigSource::kTopic}});
  }
  // A topic-only key (no broker synonym) falls back to its default under its own name.
  std::string synonym(d.broker_synonym.empty() ? d.name : d.broker_synonym);
  if (d.broker_synonym.empty()) {
    r.synonyms.push_back({synonym, {std::string(d.default_value), ConfigSource::kDefault}});
    r.value = r.synonyms.front().second.first;
    r.source = r.synonyms.front().second.second;
    return r;
  }
  if (auto it = dynamic_configs.find(synonym); it != dynamic_configs.end()) {
    r.synonyms.push_back({synonym, {it->second, ConfigSource::kDynamicBroker}});
  }
  if (auto it = static_configs.find(synonym); it != static_configs.end()) {
    r.synonyms.push_back({synonym, {it->second, ConfigSource::kStaticBroker}});
  }
  r.synonyms.push_back({synonym, {std::string(d.default_value), ConfigSource::kDefault}});
  r.value = r.synonyms.front().second.first;
  r.source = r.synonyms.front().second.second;
  if (r.source == ConfigSource::kDefault && synonym == "log.retention.ms") r.value = get("log.retention.ms");
  return r;
}

}  // namespace fjord::cluster
