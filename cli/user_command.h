// `fjord user create | list | delete`: the SCRAM users brokers authenticate (SASL SCRAM-SHA-256/512, and PLAIN
// against the same credentials), over the Kafka protocol (AlterUserScramCredentials,
// DescribeUserScramCredentials), so against Fjord or Kafka alike. The password never crosses the network: the
// client salts it (PBKDF2) and sends the salted form, as Kafka's tools do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fjord::cli {

struct UserOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";  // or "json"
  std::string name;
  // Where the password is read from (its first line); empty: the first line of standard input.
  std::string password_file;
  std::vector<std::string> mechanisms = {"SCRAM-SHA-256", "SCRAM-SHA-512"};
  int32_t iterations = 8192;
};

int run_user_create(const UserOptions& options);
int run_user_list(const UserOptions& options);
int run_user_delete(const UserOptions& options);

}  // namespace fjord::cli
