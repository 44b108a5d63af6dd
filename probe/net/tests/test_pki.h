// Test PKI for the TLS and HTTPS tests, generated in memory at first use with
// OpenSSL 3 (P-256 keys): a test root CA, leaves it signs, and a second root
// nobody trusts. Only for tests on loopback; never written anywhere but a
// temporary file for the CA bundle.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "probe/net/tls_handshake.h"

namespace vantage::net::testing {

struct Identity {
  std::shared_ptr<EVP_PKEY> key;
  std::shared_ptr<X509> cert;
  std::string cert_pem;
  std::string cert_der;
};

struct TestPki {
  Identity root;              // trusted by the tests (bundle file or pinned PEM)
  Identity untrusted_root;    // trusted by nobody
  Identity good_leaf;         // CN/SAN good.test + IP SAN 127.0.0.1, signed by root
  Identity expired_leaf;      // good.test, valid until yesterday, signed by root
  Identity other_name_leaf;   // other.test only, signed by root
  Identity untrusted_leaf;    // good.test + 127.0.0.1, signed by untrusted_root
  std::string root_bundle_file;  // PEM file holding `root`
};

// Generated once per process (thread-safe); the bundle file is removed at exit.
const TestPki& test_pki();

// Trusts the test root alone, through its bundle file (no system store).
TlsTrust bundle_trust();

}  // namespace vantage::net::testing
