// Client settings: librdkafka's property names, with the production checklist as the defaults.
//
// The policy is pure (a property map in, the map the client will run with out) so the rules are tested without a
// broker: safe values are filled in where the application said nothing, and a setting that weakens delivery
// guarantees is refused unless the application opted in to it, in which case it is logged.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace fjord::client {

using Properties = std::map<std::string, std::string>;

// A configuration the layer will not run with, or a client librdkafka could not create.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ProducerSettings {
  std::string bootstrap_servers;
  Properties properties;  // any librdkafka producer property; these win over the defaults below
  // acks=0/1 or enable.idempotence=false lose or duplicate acknowledged data; refused unless this is set.
  bool allow_unsafe = false;
  std::string transactional_id;  // non-empty: a transactional producer
};

struct ConsumerSettings {
  std::string bootstrap_servers;
  std::string group_id;
  std::vector<std::string> topics;
  Properties properties;  // any librdkafka consumer property; these win over the defaults below
  // Static membership (group.instance.id) so a restart within session.timeout.ms causes no rebalance. The id is
  // `group.instance.id` from properties if given, else $POD_NAME, else $HOSTNAME, else the host name.
  bool static_membership = true;
  // enable.auto.commit=true commits records the application may not have processed yet; refused unless set.
  bool allow_unsafe = false;
};

// What the producer runs with: acks=all and idempotence unless the application opted in to less.
// Throws ClientError for an unsafe setting without allow_unsafe; `warnings` receives one line per unsafe setting
// that was allowed.
Properties producer_properties(const ProducerSettings& settings, std::vector<std::string>* warnings = nullptr);

// The first librdkafka that speaks the consumer group protocol (KIP-848, group.protocol=consumer).
inline constexpr int kConsumerProtocolLibrdkafka = 0x020c0000;  // 2.12.0

// What the consumer runs with: cooperative-sticky, auto-commit off, earliest reset, static membership. With
// group.protocol=consumer the broker assigns and times the session, so the client-side assignor, session timeout
// and heartbeat interval are refused (as Kafka's clients refuse them), and so is a librdkafka older than 2.12
// (`librdkafka_version` is RdKafka::version()'s form: 0xMMmmrrxx).
Properties consumer_properties(const ConsumerSettings& settings, std::vector<std::string>* warnings = nullptr,
                               int librdkafka_version = RdKafka::version());

// The group.instance.id static membership uses when the application gives none: the pod or host name.
std::string default_group_instance_id();

// A librdkafka configuration object from a property map; throws ClientError naming the property it refused.
std::unique_ptr<RdKafka::Conf> make_conf(const Properties& properties);

}  // namespace fjord::client
