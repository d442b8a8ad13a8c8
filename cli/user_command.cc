#include "cli/user_command.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/admin_client.h"
#include "cli/kafka_connection.h"
#include "model/error_codes.h"
#include "protocol/messages/alter_user_scram_credentials.h"
#include "protocol/messages/describe_user_scram_credentials.h"
#include "server/security/scram.h"

namespace fjord::cli {
namespace {

namespace security = server::security;

std::string read_password(const UserOptions& options) {
  std::string password;
  if (options.password_file.empty()) {
    std::getline(std::cin, password);
  } else {
    std::ifstream in(options.password_file);
    if (!in) throw std::runtime_error("cannot read " + options.password_file);
    std::getline(in, password);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) throw std::runtime_error("the password is empty");
  return password;
}

void check_results(const protocol::AlterUserScramCredentialsResponse& response) {
  for (const auto& result : response.results) {
    if (result.error_code != 0) {
      throw std::runtime_error(result.user + ": " + std::string(error_name(static_cast<ErrorCode>(result.error_code))) +
                               (result.error_message ? " (" + *result.error_message + ")" : ""));
    }
  }
}

protocol::DescribeUserScramCredentialsResponse describe(KafkaConnection& connection,
                                                        std::optional<std::string> user = std::nullopt) {
  protocol::DescribeUserScramCredentialsRequest request;
  if (user) request.users = std::vector<protocol::DescribeUserScramCredentialsRequest::UserName>{{*user, {}}};
  auto response = connection.call<protocol::DescribeUserScramCredentialsResponse>(request, 0);
  if (response.error_code != 0) {
    throw std::runtime_error(std::string(error_name(static_cast<ErrorCode>(response.error_code))) +
                             (response.error_message ? " (" + *response.error_message + ")" : ""));
  }
  return response;
}

}  // namespace

int run_user_create(const UserOptions& options) {
  try {
    if (options.iterations < security::kMinScramIterations || options.iterations > security::kMaxScramIterations) {
      throw std::runtime_error("--iterations must be from 4096 to 16384");
    }
    const std::string password = read_password(options);
    protocol::AlterUserScramCredentialsRequest request;
    for (const auto& mechanism : options.mechanisms) {
      auto hash = security::scram_hash_by_name(mechanism);
      if (!hash) throw std::runtime_error(mechanism + " is not SCRAM-SHA-256 or SCRAM-SHA-512");
      const std::string salt = security::random_bytes(32);
      const std::string salted = security::scram_salted_password(*hash, password, salt, options.iterations);
      auto& upsertion = request.upsertions.emplace_back();
      upsertion.name = options.name;
      upsertion.mechanism = security::scram_wire_number(*hash);
      upsertion.iterations = options.iterations;
      upsertion.salt.assign(salt.begin(), salt.end());
      upsertion.salted_password.assign(salted.begin(), salted.end());
    }
    auto connection = connect_any(options.bootstrap);
    check_results(connection->call<protocol::AlterUserScramCredentialsResponse>(request, 0));
    std::printf("user %s: %zu SCRAM credential(s) set\n", options.name.c_str(), options.mechanisms.size());
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_user_list(const UserOptions& options) {
  try {
    auto connection = connect_any(options.bootstrap);
    auto response = describe(*connection);
    std::vector<std::vector<std::string>> rows = {{"USER", "MECHANISMS"}};
    nlohmann::json out = nlohmann::json::array();
    for (const auto& result : response.results) {
      std::string mechanisms;
      nlohmann::json credentials = nlohmann::json::array();
      for (const auto& info : result.credential_infos) {
        auto hash = security::scram_hash_by_wire(info.mechanism);
        const std::string name = hash ? std::string(security::scram_mechanism_name(*hash)) : "unknown";
        mechanisms += (mechanisms.empty() ? "" : ",") + name + "(" + std::to_string(info.iterations) + ")";
        credentials.push_back({{"mechanism", name}, {"iterations", info.iterations}});
      }
      rows.push_back({result.user, mechanisms});
      out.push_back({{"user", result.user}, {"credentials", credentials}});
    }
    print_listing(options.format, rows, out);
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

int run_user_delete(const UserOptions& options) {
  try {
    auto connection = connect_any(options.bootstrap);
    auto described = describe(*connection, options.name);
    const auto& result = described.results.at(0);
    if (result.error_code != 0) {
      throw std::runtime_error(options.name + ": " +
                               std::string(error_name(static_cast<ErrorCode>(result.error_code))));
    }
    protocol::AlterUserScramCredentialsRequest request;
    for (const auto& info : result.credential_infos) request.deletions.push_back({options.name, info.mechanism, {}});
    check_results(connection->call<protocol::AlterUserScramCredentialsResponse>(request, 0));
    std::printf("user %s deleted\n", options.name.c_str());
    return 0;
  } catch (const std::exception& e) {
    return failed(e);
  }
}

}  // namespace fjord::cli
