#include "tests/support/test_certificates.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/support/broker_process.h"

namespace fjord::testing {
namespace {

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// Elliptic-curve keys: quick to make, and every TLS stack in the tests takes them.
const char* kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

}  // namespace

bool TestCertificateAuthority::openssl_available() { return std::system("openssl version >/dev/null 2>&1") == 0; }

TestCertificateAuthority::TestCertificateAuthority(const std::string& name) : dir_(make_temp_directory("fjord-ca")) {
  ca_ = {dir_ + "/ca.pem", dir_ + "/ca.key"};
  run(std::string("openssl req -x509 ") + kNewKey + " -days 2 -subj /CN=" + name + " -keyout " + ca_.key + " -out " +
      ca_.certificate);
}

TestCertificateAuthority::~TestCertificateAuthority() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

CertificateFiles TestCertificateAuthority::server(const std::string& file_stem) {
  return issue(file_stem, "127.0.0.1",
               "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
}

CertificateFiles TestCertificateAuthority::client(const std::string& common_name) {
  return issue("client-" + common_name, common_name, "extendedKeyUsage=clientAuth\n");
}

CertificateFiles TestCertificateAuthority::issue(const std::string& stem, const std::string& common_name,
                                                 const std::string& extensions) {
  const std::string base = dir_ + "/" + stem;
  CertificateFiles files{base + ".pem", base + ".key"};
  std::ofstream(base + ".ext") << extensions;
  run(std::string("openssl req ") + kNewKey + " -subj /CN=" + common_name + " -keyout " + files.key + " -out " + base +
      ".csr");
  run("openssl x509 -req -days 2 -in " + base + ".csr -CA " + ca_.certificate + " -CAkey " + ca_.key +
      " -CAcreateserial -extfile " + base + ".ext -out " + files.certificate);
  return files;
}

}  // namespace fjord::testing
