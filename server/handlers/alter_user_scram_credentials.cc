// AlterUserScramCredentials: sets and removes users' SCRAM credentials in the cluster metadata (etcd in a
// cluster, so every broker authenticates the same users). One result per user: a user whose changes do not all
// validate changes nothing; the others are stored together.
#include "protocol/messages/alter_user_scram_credentials.h"

#include <map>
#include <set>

#include "server/handlers/registry.h"
#include "server/security/scram.h"

namespace fjord::server {
namespace {

struct UserChanges {
  std::map<std::string, cluster::ScramCredential> upserts;  // by mechanism
  std::set<std::string> deletions;                          // mechanisms
  std::optional<std::pair<ErrorCode, std::string>> error;
};

void refuse(UserChanges& changes, ErrorCode code, std::string message) {
  if (!changes.error) changes.error = {code, std::move(message)};
}

}  // namespace

void handle_alter_user_scram_credentials(RequestContext context) {
  auto request = context.decode<protocol::AlterUserScramCredentialsRequest>();
  std::map<std::string, UserChanges> by_user;
  std::set<std::pair<std::string, std::string>> touched;  // (user, mechanism): each at most once per request
  auto mechanism_of = [&](UserChanges& changes, int8_t wire_mechanism) -> std::optional<std::string> {
    auto hash = security::scram_hash_by_wire(wire_mechanism);
    if (!hash) {
      refuse(changes, ErrorCode::kUnsupportedSaslMechanism, "Unknown SCRAM mechanism");
      return std::nullopt;
    }
    return std::string(security::scram_mechanism_name(*hash));
  };
  const auto& known = context.server().partitions.metadata().scram_credentials;
  const bool may_alter = context.authorized_on_cluster(AclOperation::kAlter);
  for (const auto& deletion : request.deletions) {
    auto& changes = by_user[deletion.name];
    if (!may_alter) refuse(changes, ErrorCode::kClusterAuthorizationFailed, "Not authorized (ALTER on the cluster)");
    auto mechanism = mechanism_of(changes, deletion.mechanism);
    if (deletion.name.empty()) refuse(changes, ErrorCode::kUnacceptableCredential, "Username must not be empty");
    if (!mechanism) continue;
    if (!touched.insert({deletion.name, *mechanism}).second) {
      refuse(changes, ErrorCode::kDuplicateResource, "A user credential cannot be altered twice in the same request");
      continue;
    }
    auto user = known.find(deletion.name);
    if (user == known.end() || !user->second.count(*mechanism)) {
      refuse(changes, ErrorCode::kResourceNotFound, "Attempt to delete a user credential that does not exist");
      continue;
    }
    changes.deletions.insert(*mechanism);
  }
  for (const auto& upsertion : request.upsertions) {
    auto& changes = by_user[upsertion.name];
    if (!may_alter) refuse(changes, ErrorCode::kClusterAuthorizationFailed, "Not authorized (ALTER on the cluster)");
    auto mechanism = mechanism_of(changes, upsertion.mechanism);
    if (upsertion.name.empty()) refuse(changes, ErrorCode::kUnacceptableCredential, "Username must not be empty");
    if (!mechanism) continue;
    if (!touched.insert({upsertion.name, *mechanism}).second) {
      refuse(changes, ErrorCode::kDuplicateResource, "A user credential cannot be altered twice in the same request");
      continue;
    }
    if (upsertion.iterations < security::kMinScramIterations || upsertion.iterations > security::kMaxScramIterations) {
      refuse(changes, ErrorCode::kUnacceptableCredential,
             "Iterations must be from " + std::to_string(security::kMinScramIterations) + " to " +
                 std::to_string(security::kMaxScramIterations));
      continue;
    }
    if (upsertion.salt.empty() || upsertion.salted_password.empty()) {
      refuse(changes, ErrorCode::kUnacceptableCredential, "Salt and salted password must not be empty");
      continue;
    }
    auto hash = *security::scram_hash_by_name(*mechanism);
    auto keys = security::scram_keys_from_salted_password(
        hash,
        std::string_view(reinterpret_cast<const char*>(upsertion.salted_password.data()),
                         upsertion.salted_password.size()),
        std::string(upsertion.salt.begin(), upsertion.salt.end()), upsertion.iterations);
    changes.upserts[*mechanism] = {keys.salt, keys.iterations, keys.stored_key, keys.server_key};
  }

  auto respond = [context](const std::map<std::string, UserChanges>& users, std::error_code stored) {
    protocol::AlterUserScramCredentialsResponse response;
    for (const auto& [name, changes] : users) {
      auto& result = response.results.emplace_back();
      result.user = name;
      if (changes.error) {
        result.error_code = wire(changes.error->first);
        result.error_message = changes.error->second;
      } else if (stored) {
        result.error_code = wire(ErrorCode::kKafkaStorageError);
        result.error_message = "The credentials could not be stored: " + stored.message();
      }
    }
    context.respond(response);
  };
  auto* store = context.server().metadata_store;
  bool any = false;
  for (const auto& [name, changes] : by_user) any = any || !changes.error;
  if (!any || !store) {
    respond(by_user, store ? std::error_code() : make_error_code(ErrorCode::kKafkaStorageError));
    return;
  }
  store->update(
      [by_user](cluster::ClusterMetadata& metadata) {
        for (const auto& [name, changes] : by_user) {
          if (changes.error) continue;
          auto& credentials = metadata.scram_credentials[name];
          for (const auto& mechanism : changes.deletions) credentials.erase(mechanism);
          for (const auto& [mechanism, credential] : changes.upserts) credentials[mechanism] = credential;
          if (credentials.empty()) metadata.scram_credentials.erase(name);
        }
      },
      [by_user, respond](std::error_code error) { respond(by_user, error); });
}

}  // namespace fjord::server
