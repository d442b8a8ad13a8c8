// Test support: a throwaway certificate authority and certificates signed by it, made with the openssl command
// (Debian's openssl), for tests of TLS: a server certificate for 127.0.0.1 and localhost, and client certificates
// with a common name of the test's choosing (etcd takes a client certificate's CN as its user name).
#pragma once

#include <string>

namespace fjord::testing {

struct CertificateFiles {
  std::string certificate;  // PEM
  std::string key;          // PEM, unencrypted
};

class TestCertificateAuthority {
 public:
  // Makes a CA named `name` in a new temporary directory; throws when openssl fails.
  explicit TestCertificateAuthority(const std::string& name = "fjord-test-ca");
  ~TestCertificateAuthority();
  TestCertificateAuthority(const TestCertificateAuthority&) = delete;
  TestCertificateAuthority& operator=(const TestCertificateAuthority&) = delete;

  static bool openssl_available();
  // The CA's own certificate: what a peer trusts.
  const std::string& ca_file() const { return ca_.certificate; }
  // A certificate for a server on 127.0.0.1 / localhost (usable as a client certificate too).
  CertificateFiles server(const std::string& file_stem = "server");
  // A client certificate whose subject is CN=`common_name`.
  CertificateFiles client(const std::string& common_name);
  const std::string& directory() const { return dir_; }

 private:
  CertificateFiles issue(const std::string& stem, const std::string& common_name, const std::string& extensions);

  std::string dir_;
  CertificateFiles ca_;
};

}  // namespace fjord::testing
