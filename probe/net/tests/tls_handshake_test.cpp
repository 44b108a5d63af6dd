// tls_handshake against real loopback servers: verification outcomes, the
// recorded chain and ALPN, and censor-like behaviours (reset, EOF, silence).
#include "probe/net/tls_handshake.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/x509.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "probe/net/tcp_connect.h"
#include "probe/net/tests/loopback_servers.h"
#include "probe/net/tests/test_pki.h"

namespace vantage::net {
namespace {

using namespace std::chrono_literals;
using testing::RawTcpServer;
using testing::test_pki;
using testing::TlsServer;

using testing::bundle_trust;

TlsTrust pinned_trust() {
  TlsTrust trust;
  trust.system_store = false;
  trust.pinned_pem = test_pki().root.cert_pem;
  return trust;
}

struct Outcome {
  format::TlsHandshakeObservation observation;
  std::chrono::steady_clock::duration elapsed;
};

Outcome handshake(int port, TlsOptions options) {
  StepClock clock;
  auto connected = tcp_connect("127.0.0.1", port, 2000ms, {&clock, 5});
  EXPECT_FALSE(connected.observation.failure.has_value());
  auto start = std::chrono::steady_clock::now();
  auto observation =
      tls_handshake(connected.socket, "127.0.0.1:" + std::to_string(port), options, {&clock, 5});
  return {observation, std::chrono::steady_clock::now() - start};
}

TlsOptions good_test(TlsTrust trust) {
  TlsOptions options;
  options.server_name = "good.test";
  options.trust = std::move(trust);
  options.timeout = 3000ms;
  return options;
}

std::string failure_of(const format::TlsHandshakeObservation& obs) {
  return obs.failure.value_or("");
}

TEST(TlsHandshake, VerifiesGoodChainWithCaBundleFile) {
  TlsServer server({test_pki().good_leaf});
  auto [obs, elapsed] = handshake(server.port(), good_test(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.tls_version, "TLSv1.3");
  EXPECT_TRUE(obs.cipher_suite.starts_with("TLS_")) << obs.cipher_suite;
  EXPECT_EQ(obs.server_name, "good.test");
  EXPECT_EQ(obs.address, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(obs.transaction_id, 5);
  EXPECT_FALSE(obs.no_tls_verify);
  EXPECT_LE(obs.t0, obs.t);
  ASSERT_EQ(obs.peer_certificates.size(), 1u);
  EXPECT_EQ(obs.peer_certificates[0], test_pki().good_leaf.cert_der);
}

TEST(TlsHandshake, VerifiesGoodChainWithPinnedPem) {
  TlsServer server({test_pki().good_leaf});
  auto [obs, elapsed] = handshake(server.port(), good_test(pinned_trust()));
  EXPECT_EQ(failure_of(obs), "");
  // The server finishes its side after the client has returned.
  for (int i = 0; i < 200 && server.handshakes() == 0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server.handshakes(), 1);
}

TEST(TlsHandshake, VerifiesIpLiteralAgainstIpSan) {
  TlsServer server({test_pki().good_leaf});
  TlsOptions options = good_test(bundle_trust());
  options.server_name = "127.0.0.1";
  auto [obs, elapsed] = handshake(server.port(), options);
  EXPECT_EQ(failure_of(obs), "");
}

TEST(TlsHandshake, TestRootIsNotInTheSystemStore) {
  TlsServer server({test_pki().good_leaf});
  auto [obs, elapsed] = handshake(server.port(), good_test(TlsTrust{}));
  EXPECT_EQ(failure_of(obs), "ssl_unknown_authority");
  EXPECT_EQ(obs.peer_certificates.size(), 1u);
}

TEST(TlsHandshake, UntrustedIssuerIsUnknownAuthority) {
  TlsServer server({test_pki().untrusted_leaf, test_pki().untrusted_root});
  auto [obs, elapsed] = handshake(server.port(), good_test(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "ssl_unknown_authority");
  // The forged chain is the evidence: it must be recorded despite the failure.
  ASSERT_EQ(obs.peer_certificates.size(), 2u);
  EXPECT_EQ(obs.peer_certificates[0], test_pki().untrusted_leaf.cert_der);
  EXPECT_EQ(obs.tls_version, "TLSv1.3");
}

TEST(TlsHandshake, WrongNameIsInvalidHostname) {
  TlsServer server({test_pki().other_name_leaf});
  auto [obs, elapsed] = handshake(server.port(), good_test(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "ssl_invalid_hostname");
  EXPECT_EQ(obs.peer_certificates.size(), 1u);
}

TEST(TlsHandshake, IpLiteralMissingFromSansIsInvalidHostname) {
  TlsServer server({test_pki().other_name_leaf});
  TlsOptions options = good_test(bundle_trust());
  options.server_name = "127.0.0.1";
  auto [obs, elapsed] = handshake(server.port(), options);
  EXPECT_EQ(failure_of(obs), "ssl_invalid_hostname");
}

TEST(TlsHandshake, ExpiredCertificateIsInvalidCertificate) {
  TlsServer server({test_pki().expired_leaf});
  auto [obs, elapsed] = handshake(server.port(), good_test(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "ssl_invalid_certificate");
}

TEST(TlsHandshake, NoVerifyRecordsChainWithoutFailure) {
  TlsServer server({test_pki().untrusted_leaf, test_pki().untrusted_root});
  TlsTrust trust;
  trust.verify = false;
  auto [obs, elapsed] = handshake(server.port(), good_test(trust));
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_TRUE(obs.no_tls_verify);
  EXPECT_EQ(obs.peer_certificates.size(), 2u);
}

TEST(TlsHandshake, RecordsChainLeafFirstAsParseableDer) {
  TlsServer server({test_pki().good_leaf, test_pki().root});
  auto [obs, elapsed] = handshake(server.port(), good_test(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "");
  ASSERT_EQ(obs.peer_certificates.size(), 2u);
  std::vector<std::string> common_names;
  for (const auto& der : obs.peer_certificates) {
    const auto* in = reinterpret_cast<const unsigned char*>(der.data());
    X509* cert = d2i_X509(nullptr, &in, static_cast<long>(der.size()));
    ASSERT_NE(cert, nullptr);
    char name[256] = {0};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    common_names.emplace_back(name);
    X509_free(cert);
  }
  EXPECT_EQ(common_names, (std::vector<std::string>{"good.test", "Vantage Test Root"}));
  EXPECT_EQ(obs.peer_certificates[1], test_pki().root.cert_der);
}

TEST(TlsHandshake, NegotiatesAlpn) {
  TlsServer server({test_pki().good_leaf}, {"h2", "http/1.1"});
  TlsOptions options = good_test(bundle_trust());
  options.alpn = {"h2", "http/1.1"};
  auto [h2, elapsed_h2] = handshake(server.port(), options);
  EXPECT_EQ(failure_of(h2), "");
  EXPECT_EQ(h2.negotiated_protocol, "h2");
  EXPECT_EQ(h2.alpn, options.alpn);

  options.alpn = {"http/1.1"};
  auto [h1, elapsed_h1] = handshake(server.port(), options);
  EXPECT_EQ(failure_of(h1), "");
  EXPECT_EQ(h1.negotiated_protocol, "http/1.1");
}

TEST(TlsHandshake, NoAlpnWhenServerHasNone) {
  TlsServer server({test_pki().good_leaf});
  TlsOptions options = good_test(bundle_trust());
  options.alpn = {"h2"};
  auto [obs, elapsed] = handshake(server.port(), options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.negotiated_protocol, "");
}

TEST(TlsHandshake, ResetAfterClientHelloIsConnectionReset) {
  RawTcpServer server(RawTcpServer::Behaviour::kResetAfterClientHello);
  auto [obs, elapsed] = handshake(server.port(), good_test(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "connection_reset");
  EXPECT_TRUE(obs.peer_certificates.empty());
  EXPECT_EQ(obs.tls_version, "");
}

TEST(TlsHandshake, CloseAfterClientHelloIsEof) {
  RawTcpServer server(RawTcpServer::Behaviour::kCloseAfterClientHello);
  auto [obs, elapsed] = handshake(server.port(), good_test(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "eof_error");
}

TEST(TlsHandshake, SilentServerTimesOutWithinTheTimeout) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  TlsOptions options = good_test(bundle_trust());
  options.timeout = 400ms;
  auto [obs, elapsed] = handshake(server.port(), options);
  EXPECT_EQ(failure_of(obs), "generic_timeout_error");
  EXPECT_GE(elapsed, 400ms);
  EXPECT_LT(elapsed, 1000ms);
}

TEST(TlsHandshake, RestoresTheSocketsBlockingModeAndKeepsItOpen) {
  TlsServer server({test_pki().good_leaf});
  StepClock clock;
  auto connected = tcp_connect("127.0.0.1", server.port(), 2000ms, {&clock, 1});
  ASSERT_TRUE(connected.socket.valid());
  auto obs = tls_handshake(connected.socket, "127.0.0.1", good_test(bundle_trust()), {&clock, 1});
  EXPECT_EQ(failure_of(obs), "");
  ASSERT_TRUE(connected.socket.valid());
  EXPECT_EQ(::fcntl(connected.socket.fd(), F_GETFL, 0) & O_NONBLOCK, 0);
}

TEST(TlsHandshake, UnreadableBundleIsReportedNotThrown) {
  TlsServer server({test_pki().good_leaf});
  TlsTrust trust;
  trust.system_store = false;
  trust.ca_bundle_file = "/nonexistent/vantage-ca.pem";
  auto [obs, elapsed] = handshake(server.port(), good_test(trust));
  EXPECT_TRUE(failure_of(obs).starts_with("unknown_failure: ")) << failure_of(obs);
}

// The system store read through SSL_CERT_DIR / SSL_CERT_FILE, as OpenSSL's
// defaults name it; the environment is put back after each check.
class SystemStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vantage-certs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    save("SSL_CERT_DIR", saved_dir_);
    save("SSL_CERT_FILE", saved_file_);
  }
  void TearDown() override {
    restore("SSL_CERT_DIR", saved_dir_);
    restore("SSL_CERT_FILE", saved_file_);
    std::filesystem::remove_all(dir_);
  }
  static void save(const char* name, std::optional<std::string>& into) {
    if (const char* v = std::getenv(name)) into = v;
    ::unsetenv(name);
  }
  static void restore(const char* name, const std::optional<std::string>& value) {
    if (value) ::setenv(name, value->c_str(), 1);
    else ::unsetenv(name);
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }

  // Builds the store add_trust_anchors makes for the system store and
  // verifies the test leaf with it. Returns the verify result and how many
  // objects the store held before the verification.
  std::pair<int, int> verify_leaf_with_system_store() {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
    TlsTrust trust;  // system_store only
    EXPECT_EQ(add_trust_anchors(trust, store.get()), "");
    const int loaded = sk_X509_OBJECT_num(X509_STORE_get0_objects(store.get()));
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    X509_STORE_CTX_init(ctx.get(), store.get(), test_pki().good_leaf.cert.get(), nullptr);
    X509_verify_cert(ctx.get());
    return {X509_STORE_CTX_get_error(ctx.get()), loaded};
  }

  std::filesystem::path dir_;
  std::optional<std::string> saved_dir_, saved_file_;
};

TEST_F(SystemStore, HashedDirectoryIsReadOnDemandNotLoadedWhole) {
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08lx.0", X509_subject_name_hash(test_pki().root.cert.get()));
  write(hash, test_pki().root.cert_pem);
  ::setenv("SSL_CERT_DIR", dir_.c_str(), 1);
  auto [result, loaded] = verify_leaf_with_system_store();
  EXPECT_EQ(result, X509_V_OK) << X509_verify_cert_error_string(result);
  EXPECT_EQ(loaded, 0) << "the store parsed certificates before any chain needed them";
}

TEST_F(SystemStore, WithoutHashedNamesTheBundleFileIsLoaded) {
  write("root.pem", test_pki().root.cert_pem);  // a directory OpenSSL cannot look names up in
  ::setenv("SSL_CERT_DIR", dir_.c_str(), 1);
  ::setenv("SSL_CERT_FILE", test_pki().root_bundle_file.c_str(), 1);
  auto [result, loaded] = verify_leaf_with_system_store();
  EXPECT_EQ(result, X509_V_OK) << X509_verify_cert_error_string(result);
  EXPECT_GE(loaded, 1);
}

TEST_F(SystemStore, AVolunteersCertFileIsAlwaysLoaded) {
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08lx.0", X509_subject_name_hash(test_pki().untrusted_root.cert.get()));
  write(hash, test_pki().untrusted_root.cert_pem);  // hashed, but not the leaf's root
  ::setenv("SSL_CERT_DIR", dir_.c_str(), 1);
  ::setenv("SSL_CERT_FILE", test_pki().root_bundle_file.c_str(), 1);
  auto [result, loaded] = verify_leaf_with_system_store();
  EXPECT_EQ(result, X509_V_OK) << X509_verify_cert_error_string(result);
}

TEST(SystemStoreNames, HashedNamesAreEightHexDigitsDotNumber) {
  const auto dir = std::filesystem::temp_directory_path() / ("vantage-names-" + std::to_string(::getpid()));
  auto only = [&](const std::string& name) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    std::ofstream(dir / name) << "x";
    return has_hashed_certificates(dir.string());
  };
  EXPECT_TRUE(only("002c0b4f.0"));
  EXPECT_TRUE(only("ABCDEF01.12"));
  EXPECT_FALSE(only("002c0b4f.pem"));
  EXPECT_FALSE(only("002c0b4.0"));
  EXPECT_FALSE(only("002c0b4fx0"));
  EXPECT_FALSE(only("002c0b4f."));
  EXPECT_FALSE(only("ca-certificates.crt"));
  ASSERT_TRUE(only("002c0b4f.0"));
  EXPECT_TRUE(has_hashed_certificates("/nonexistent/vantage:" + dir.string()));  // SSL_CERT_DIR's list
  EXPECT_TRUE(has_hashed_certificates(dir.string() + ":"));
  EXPECT_FALSE(has_hashed_certificates(""));
  EXPECT_FALSE(has_hashed_certificates("/nonexistent/vantage"));
  std::filesystem::remove_all(dir);
}

TEST(VerifyResult, MapsOpenSslErrorsToOoniFailures) {
  EXPECT_EQ(failure_from_verify_result(X509_V_OK), "");
  EXPECT_EQ(failure_from_verify_result(X509_V_ERR_HOSTNAME_MISMATCH), "ssl_invalid_hostname");
  EXPECT_EQ(failure_from_verify_result(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN),
            "ssl_unknown_authority");
  EXPECT_EQ(failure_from_verify_result(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
            "ssl_unknown_authority");
  EXPECT_EQ(failure_from_verify_result(X509_V_ERR_CERT_NOT_YET_VALID), "ssl_invalid_certificate");
  EXPECT_EQ(failure_from_verify_result(X509_V_ERR_CERT_HAS_EXPIRED), "ssl_invalid_certificate");
}

}  // namespace
}  // namespace vantage::net
