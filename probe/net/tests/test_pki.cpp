// See test_pki.h. Aborts the test program if OpenSSL cannot build the
// certificates: none of the TLS tests means anything without them.
#include "probe/net/tests/test_pki.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace vantage::net::testing {

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "test_pki: %s failed\n", what);
  std::abort();
}

std::shared_ptr<EVP_PKEY> new_key() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) die("EVP_EC_gen");
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) die("X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

struct CertSpec {
  std::string common_name;
  std::string subject_alt_names;  // "" = none
  bool is_ca = false;
  long not_before_offset = -3600;       // seconds from now
  long not_after_offset = 30L * 86400;  // seconds from now
};

// Issues a certificate for `key`; self-signed when issuer is null.
Identity issue(const CertSpec& spec, std::shared_ptr<EVP_PKEY> key, const Identity* issuer) {
  static long serial = 1;
  X509* cert = X509_new();
  if (cert == nullptr) die("X509_new");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before_offset);
  X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after_offset);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Vantage tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* issuer_cert = issuer ? issuer->cert.get() : cert;
  EVP_PKEY* signing_key = issuer ? issuer->key.get() : key.get();
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(cert, key.get());
  if (spec.is_ca) {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, issuer_cert, NID_ext_key_usage, "serverAuth");
  }
  add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  if (!spec.subject_alt_names.empty()) {
    add_extension(cert, issuer_cert, NID_subject_alt_name, spec.subject_alt_names);
  }
  if (X509_sign(cert, signing_key, EVP_sha256()) == 0) die("X509_sign");

  Identity id;
  id.key = std::move(key);
  id.cert = std::shared_ptr<X509>(cert, X509_free);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  id.cert_pem.assign(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  int der_length = i2d_X509(cert, nullptr);
  id.cert_der.resize(static_cast<std::size_t>(der_length));
  auto* out = reinterpret_cast<unsigned char*>(id.cert_der.data());
  i2d_X509(cert, &out);
  return id;
}

std::string write_temp_file(const std::string& contents) {
  char path[] = "/tmp/vantage-test-ca-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) die("mkstemp");
  if (write(fd, contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    die("write");
  }
  close(fd);
  return path;
}

TestPki* pki = nullptr;

void remove_bundle() {
  if (pki != nullptr) unlink(pki->root_bundle_file.c_str());
}

}  // namespace

const TestPki& test_pki() {
  static std::once_flag once;
  std::call_once(once, [] {
    pki = new TestPki;
    pki->root = issue({"Vantage Test Root", "", true}, new_key(), nullptr);
    pki->untrusted_root = issue({"Untrusted Root", "", true}, new_key(), nullptr);
    pki->good_leaf = issue({"good.test", "DNS:good.test,IP:127.0.0.1"}, new_key(), &pki->root);
    pki->expired_leaf = issue({"good.test", "DNS:good.test,IP:127.0.0.1", false, -10L * 86400,
                               -86400},
                              new_key(), &pki->root);
    pki->other_name_leaf = issue({"other.test", "DNS:other.test"}, new_key(), &pki->root);
    pki->untrusted_leaf =
        issue({"good.test", "DNS:good.test,IP:127.0.0.1"}, new_key(), &pki->untrusted_root);
    pki->root_bundle_file = write_temp_file(pki->root.cert_pem);
    std::atexit(remove_bundle);
  });
  return *pki;
}

TlsTrust bundle_trust() {
  TlsTrust trust;
  trust.system_store = false;
  trust.ca_bundle_file = test_pki().root_bundle_file;
  return trust;
}

}  // namespace vantage::net::testing
