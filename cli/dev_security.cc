#include "cli/dev_security.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "cluster/local_metadata_store.h"
#include "server/security/scram.h"
#include "storage/file_system.h"

namespace fjord::cli {
namespace {

namespace security = server::security;

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("cannot make the development certificates: ") + what);
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  check(extension != nullptr, "extension");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

// A certificate for `common_name` with `key`, signed by `issuer` (itself when null) with `issuer_key`.
Certificate make_certificate(const std::string& common_name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  Certificate certificate(X509_new(), X509_free);
  check(certificate != nullptr, "X509_new");
  X509* c = certificate.get();
  X509_set_version(c, 2);
  const auto serial = security::random_bytes(8);
  uint64_t number = 0;
  for (unsigned char b : serial) number = (number << 8) | b;
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(c), number >> 1);
  X509_gmtime_adj(X509_getm_notBefore(c), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c), 60L * 60 * 24 * 825);
  X509_set_pubkey(c, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : c;
  X509_set_issuer_name(c, X509_get_subject_name(signer));
  add_extension(c, signer, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_extension(c, signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(c, signer, NID_authority_key_identifier, "keyid:always");
    add_extension(c, signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(c, signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    add_extension(c, signer, NID_ext_key_usage, "serverAuth");
  }
  check(X509_sign(c, issuer_key, EVP_sha256()) > 0, "X509_sign");
  return certificate;
}

// Opens `path` for writing, readable by its owner only from its creation on (not after a chmod).
FILE* open_private(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  FILE* file = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
  if (!file) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot write " + path);
  }
  ::fchmod(fd, 0600);  // a file that existed keeps its old mode through O_CREAT
  return file;
}

void make_certificates(const DevSecurity& dev) {
  Key ca_key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  Key broker_key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  check(ca_key && broker_key, "key generation");
  auto ca = make_certificate("fjord-dev-ca", ca_key.get(), nullptr, ca_key.get());
  auto broker = make_certificate("127.0.0.1", broker_key.get(), ca.get(), ca_key.get());
  FILE* ca_out = std::fopen(dev.ca_file.c_str(), "w");
  check(ca_out != nullptr, "cannot write the CA file");
  PEM_write_X509(ca_out, ca.get());
  std::fclose(ca_out);
  FILE* keystore = open_private(dev.keystore_file);
  PEM_write_PrivateKey(keystore, broker_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_X509(keystore, broker.get());
  std::fclose(keystore);
}

}  // namespace

std::vector<std::string> DevSecurity::broker_sets(const std::string& listen) const {
  return {"listeners=SASL_SSL://" + listen, "ssl.keystore.location=" + keystore_file,
          "sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256"};
}

std::map<std::string, std::string> DevSecurity::librdkafka_settings() const {
  return {{"security.protocol", "SASL_SSL"},
          {"sasl.mechanisms", "SCRAM-SHA-512"},
          {"sasl.username", user},
          {"sasl.password", password},
          {"ssl.ca.location", ca_file}};
}

DevSecurity prepare_dev_security(const std::string& data_dir) {
  DevSecurity dev;
  std::filesystem::create_directories(data_dir + "/security");
  std::filesystem::permissions(data_dir + "/security", std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  dev.directory = std::filesystem::absolute(data_dir + "/security").lexically_normal().string();
  dev.ca_file = dev.directory + "/ca.pem";
  dev.keystore_file = dev.directory + "/broker-keystore.pem";
  dev.client_properties_file = dev.directory + "/client.properties";
  dev.librdkafka_properties_file = dev.directory + "/librdkafka.properties";
  if (!std::filesystem::exists(dev.ca_file) || !std::filesystem::exists(dev.keystore_file)) make_certificates(dev);

  const std::string password_file = dev.directory + "/dev.password";
  if (std::ifstream in(password_file); in) std::getline(in, dev.password);
  if (dev.password.empty()) {
    dev.password = security::base64_encode(security::random_bytes(18));
    FILE* out = open_private(password_file);
    std::fprintf(out, "%s\n", dev.password.c_str());
    std::fclose(out);
  }

  // The user's credentials go into the broker's metadata before it starts: nobody can reach a broker that only
  // speaks SASL to create the first user.
  storage::PosixFileSystem fs;
  cluster::LocalMetadataStore store(fs, data_dir);
  std::map<std::string, cluster::ScramCredential> credentials;
  for (auto hash : {security::ScramHash::kSha256, security::ScramHash::kSha512}) {
    const std::string salt = security::random_bytes(32);
    const int32_t iterations = 8192;
    auto keys = security::scram_keys_from_salted_password(
        hash, security::scram_salted_password(hash, dev.password, salt, iterations), salt, iterations);
    credentials[std::string(security::scram_mechanism_name(hash))] = {keys.salt, keys.iterations, keys.stored_key,
                                                                      keys.server_key};
  }
  std::error_code stored = make_error_code(std::errc::operation_in_progress);
  store.update([&](cluster::ClusterMetadata& metadata) { metadata.scram_credentials[dev.user] = credentials; },
               [&](std::error_code error) { stored = error; });
  if (stored) throw std::runtime_error("cannot store the dev user: " + stored.message());

  FILE* java = open_private(dev.client_properties_file);
  std::fprintf(java,
               "# Settings for Java clients and Kafka's tools (--command-config) against `fjord dev --secure`.\n"
               "security.protocol=SASL_SSL\n"
               "sasl.mechanism=SCRAM-SHA-512\n"
               "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
               "username=\"%s\" password=\"%s\";\n"
               "ssl.truststore.type=PEM\n"
               "ssl.truststore.location=%s\n",
               dev.user.c_str(), dev.password.c_str(), dev.ca_file.c_str());
  std::fclose(java);
  FILE* librdkafka = open_private(dev.librdkafka_properties_file);
  std::fprintf(librdkafka, "# Settings for librdkafka clients (kcat -F) against `fjord dev --secure`.\n");
  for (const auto& [key, value] : dev.librdkafka_settings()) {
    std::fprintf(librdkafka, "%s=%s\n", key.c_str(), value.c_str());
  }
  std::fclose(librdkafka);
  return dev;
}

}  // namespace fjord::cli
