#include "client/config.h"

#include <unistd.h>

#include <array>
#include <cstdlib>

namespace fjord::client {
namespace {

std::string lookup(const Properties& p, const std::string& key, const std::string& fallback = "") {
  auto it = p.find(key);
  return it == p.end() ? fallback : it->second;
}

bool is_false(const std::string& v) { return v == "false" || v == "0"; }
bool is_true(const std::string& v) { return v == "true" || v == "1"; }

// Fills in `key` only where the application said nothing.
void default_to(Properties& p, const std::string& key, const std::string& value) { p.try_emplace(key, value); }

// 0x020c0100 -> "2.12.1".
std::string version_text(int version) {
  return std::to_string((version >> 24) & 0xff) + "." + std::to_string((version >> 16) & 0xff) + "." +
         std::to_string((version >> 8) & 0xff);
}

}  // namespace

Properties producer_properties(const ProducerSettings& settings, std::vector<std::string>* warnings) {
  Properties p = settings.properties;
  if (!settings.bootstrap_servers.empty()) p["bootstrap.servers"] = settings.bootstrap_servers;
  std::vector<std::string> unsafe;
  const std::string acks = lookup(p, "acks", lookup(p, "request.required.acks", "all"));
  if (acks != "all" && acks != "-1") {
    unsafe.push_back("acks=" + acks +
                     " acknowledges before every in-sync replica has the record: a broker failure loses it");
  }
  if (is_false(lookup(p, "enable.idempotence", "true"))) {
    unsafe.push_back("enable.idempotence=false lets a retried send be written twice");
  }
  if (!unsafe.empty() && !settings.allow_unsafe) {
    std::string message = "unsafe producer settings (set allow_unsafe to run with them anyway):";
    for (const auto& u : unsafe) message += "\n  " + u;
    throw ClientError(message);
  }
  if (acks == "all" || acks == "-1") {
    p.erase("request.required.acks");
    p["acks"] = "all";
  }
  if (unsafe.empty()) {
    p["enable.idempotence"] = "true";
  } else {
    // librdkafka refuses idempotence with acks other than all: the opt-in to weaker acks implies it off.
    if (acks != "all" && acks != "-1" && !is_false(lookup(p, "enable.idempotence", "true"))) {
      p["enable.idempotence"] = "false";
      unsafe.push_back("enable.idempotence=false, implied by acks=" + acks);
    }
    if (warnings) warnings->insert(warnings->end(), unsafe.begin(), unsafe.end());
  }
  if (!settings.transactional_id.empty()) p["transactional.id"] = settings.transactional_id;
  return p;
}

Properties consumer_properties(const ConsumerSettings& settings, std::vector<std::string>* warnings,
                               int librdkafka_version) {
  Properties p = settings.properties;
  if (!settings.bootstrap_servers.empty()) p["bootstrap.servers"] = settings.bootstrap_servers;
  if (!settings.group_id.empty()) p["group.id"] = settings.group_id;
  if (lookup(p, "group.id").empty()) throw ClientError("a consumer needs a group.id");
  if (is_true(lookup(p, "enable.auto.commit", "false"))) {
    if (!settings.allow_unsafe) {
      throw ClientError(
          "unsafe consumer setting (set allow_unsafe to run with it anyway):\n  enable.auto.commit=true commits "
          "offsets of records before they are processed: a crash loses them");
    }
    if (warnings) warnings->push_back("enable.auto.commit=true commits offsets of records before they are processed");
  } else {
    p["enable.auto.commit"] = "false";
  }
  const std::string protocol = lookup(p, "group.protocol", "classic");
  if (protocol == "consumer") {
    if (librdkafka_version < kConsumerProtocolLibrdkafka) {
      throw ClientError("group.protocol=consumer needs librdkafka 2.12.0 or later; this process runs " +
                        version_text(librdkafka_version));
    }
    for (const char* set_by_the_broker :
         {"partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms"}) {
      if (p.count(set_by_the_broker)) {
        throw ClientError(std::string(set_by_the_broker) +
                          " is the broker's to choose with group.protocol=consumer (group.remote.assignor, "
                          "group.consumer.session.timeout.ms and group.consumer.heartbeat.interval.ms)");
      }
    }
  } else if (protocol == "classic") {
    default_to(p, "partition.assignment.strategy", "cooperative-sticky");
  } else {
    throw ClientError("group.protocol=" + protocol + ": expected classic or consumer");
  }
  default_to(p, "auto.offset.reset", "earliest");
  if (settings.static_membership) {
    default_to(p, "group.instance.id", default_group_instance_id());
  } else {
    p.erase("group.instance.id");
  }
  return p;
}

std::string default_group_instance_id() {
  for (const char* name : {"POD_NAME", "HOSTNAME"}) {
    const char* value = std::getenv(name);
    if (value && *value) return value;
  }
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) == 0 && host[0]) return host.data();
  return "fjord-client";
}

std::unique_ptr<RdKafka::Conf> make_conf(const Properties& properties) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [key, value] : properties) {
    if (conf->set(key, value, error) != RdKafka::Conf::CONF_OK) {
      throw ClientError("client property " + key + "=" + value + ": " + error);
    }
  }
  return conf;
}

}  // namespace fjord::client
