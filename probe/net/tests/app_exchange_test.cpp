// app_exchange against real loopback servers: one that answers (and keeps the
// connection open, or closes after its bytes), one that resets once the
// bytes arrive, one that closes without a byte, one that stays silent; and
// app_exchange_tls inside a real TLS session (tls_handshake's `established`)
// with a loopback TLS server doing the same after its handshake.
#include "probe/net/app_exchange.h"

#include <gtest/gtest.h>

#include <optional>

#include "probe/net/tcp_connect.h"
#include "probe/net/tls_handshake.h"
#include "probe/net/tests/loopback_servers.h"
#include "probe/net/tests/test_pki.h"
#include "reports/format/observations_json.h"

namespace vantage::net {
namespace {

using namespace std::chrono_literals;
using testing::RawTcpServer;
using testing::TlsServer;
using testing::test_pki;

// WhatsApp's opening bytes as the catalog spells them, with a fixed key.
const std::string kOpening = std::string("WA\x06\x03\x00\x00\x24\x12\x22\x0a\x20", 11) + std::string(32, '\x5a');

struct Exchanged {
  format::AppExchangeObservation obs;
  double seconds = 0;
};

Exchanged exchange_with(const RawTcpServer& server, AppExchangeOptions options) {
  StepClock clock;
  auto tcp = tcp_connect("127.0.0.1", server.port(), 2000ms, {&clock, 3});
  EXPECT_FALSE(tcp.observation.failure.has_value());
  if (options.send.empty()) options.send = kOpening;
  if (options.exchange.empty()) options.exchange = "whatsapp_noise";
  auto start = std::chrono::steady_clock::now();
  Exchanged out;
  out.obs = app_exchange(tcp.socket, "127.0.0.1:" + std::to_string(server.port()), options, {&clock, 3});
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

TEST(AppExchange, AnswerIsReadAndRecordedWithoutWaitingForTheTimeout) {
  const std::string answer = std::string("\x00\x01\x10", 3) + std::string(272, '\x33');
  RawTcpServer server(RawTcpServer::Behaviour::kAnswerAndHold, false, answer);
  AppExchangeOptions options;
  options.timeout = 3000ms;
  auto [obs, seconds] = exchange_with(server, options);
  EXPECT_FALSE(obs.failure.has_value()) << *obs.failure;
  EXPECT_EQ(obs.sent_bytes, kOpening.size());
  EXPECT_EQ(obs.received_bytes, answer.size());
  EXPECT_EQ(obs.received_head, answer.substr(0, 16));
  EXPECT_FALSE(obs.closed_by_peer);
  EXPECT_EQ(obs.transaction_id, 3);
  EXPECT_EQ(obs.exchange, "whatsapp_noise");
  EXPECT_LT(seconds, 1.5);  // settled after the answer, not the 3 s timeout
  EXPECT_EQ(server.first_flight(), kOpening);  // exactly the opening bytes, nothing more
  auto j = format::to_json(obs);
  EXPECT_EQ(j["received_hex"], "0001103333333333" "3333333333333333");
  EXPECT_TRUE(j["failure"].is_null());
}

TEST(AppExchange, ReadStopsAtMaxRead) {
  RawTcpServer server(RawTcpServer::Behaviour::kAnswerAndHold, false, std::string(5000, 'x'));
  AppExchangeOptions options;
  options.max_read = 100;
  auto [obs, seconds] = exchange_with(server, options);
  EXPECT_FALSE(obs.failure.has_value());
  EXPECT_EQ(obs.received_bytes, 100u);
}

TEST(AppExchange, AnswerThenCloseIsStillAnAnswer) {
  RawTcpServer server(RawTcpServer::Behaviour::kAnswerAndClose, false, "garbage");
  auto [obs, seconds] = exchange_with(server, {});
  EXPECT_FALSE(obs.failure.has_value()) << *obs.failure;
  EXPECT_EQ(obs.received_bytes, 7u);
  EXPECT_TRUE(obs.closed_by_peer);
}

TEST(AppExchange, ResetOnceTheBytesPassIsConnectionReset) {
  RawTcpServer server(RawTcpServer::Behaviour::kResetAfterClientHello);
  auto [obs, seconds] = exchange_with(server, {});
  ASSERT_TRUE(obs.failure.has_value());
  EXPECT_EQ(*obs.failure, "connection_reset");
  EXPECT_EQ(obs.sent_bytes, kOpening.size());
  EXPECT_EQ(obs.received_bytes, 0u);
  EXPECT_EQ(format::to_json(obs)["received_hex"], "");
}

TEST(AppExchange, CloseWithoutAByteIsEof) {
  RawTcpServer server(RawTcpServer::Behaviour::kCloseAfterClientHello);
  auto [obs, seconds] = exchange_with(server, {});
  ASSERT_TRUE(obs.failure.has_value());
  EXPECT_EQ(*obs.failure, "eof_error");
  EXPECT_TRUE(obs.closed_by_peer);
}

TEST(AppExchange, SilenceIsATimeoutWithinItsBound) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  AppExchangeOptions options;
  options.timeout = 400ms;
  auto [obs, seconds] = exchange_with(server, options);
  ASSERT_TRUE(obs.failure.has_value());
  EXPECT_EQ(*obs.failure, "generic_timeout_error");
  EXPECT_EQ(obs.sent_bytes, kOpening.size());
  EXPECT_GE(seconds, 0.35);
  EXPECT_LT(seconds, 1.5);
}

TEST(AppExchange, InvalidSocketIsAFailureNotACrash) {
  StepClock clock;
  Socket none;
  auto obs = app_exchange(none, "127.0.0.1:1", {}, {&clock, 1});
  ASSERT_TRUE(obs.failure.has_value());
  EXPECT_EQ(obs.sent_bytes, 0u);
}


// --- inside TLS ---

// A WebSocket upgrade as the Signal exchange sends it (fixed key).
const std::string kUpgrade =
    "GET /v1/websocket/ HTTP/1.1\r\nHost: good.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
const std::string kSwitching =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

struct TlsExchanged {
  format::TlsHandshakeObservation handshake;
  std::optional<format::AppExchangeObservation> obs;  // none: the callback never ran
  double seconds = 0;                                  // the exchange's own
};

// Connects, handshakes as good.test (verified against the test root) and runs
// the exchange from the handshake's `established` callback.
TlsExchanged tls_exchange_with(const TlsServer& server, AppExchangeOptions options, const std::string& name = "good.test") {
  StepClock clock;
  auto tcp = tcp_connect("127.0.0.1", server.port(), 2000ms, {&clock, 4});
  EXPECT_FALSE(tcp.observation.failure.has_value());
  if (options.send.empty()) options.send = kUpgrade;
  if (options.exchange.empty()) options.exchange = "signal_websocket";
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  TlsOptions tls;
  tls.server_name = name;
  tls.alpn = {"http/1.1"};
  tls.trust.system_store = false;
  tls.trust.pinned_pem = test_pki().root.cert_pem;
  tls.timeout = 3000ms;
  TlsExchanged out;
  tls.established = [&](::ssl_st* ssl, int fd) {
    auto start = std::chrono::steady_clock::now();
    out.obs = app_exchange_tls(ssl, fd, address, options, {&clock, 4});
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  out.handshake = tls_handshake(tcp.socket, address, tls, {&clock, 4});
  return out;
}

TEST(AppExchangeTls, UpgradeAnsweredInsideTheSession) {
  TlsServer server({test_pki().good_leaf}, {"http/1.1"}, TlsServer::After::kAnswer, kSwitching);
  AppExchangeOptions options;
  options.timeout = 3000ms;
  auto out = tls_exchange_with(server, options);
  EXPECT_FALSE(out.handshake.failure.has_value()) << *out.handshake.failure;
  EXPECT_EQ(out.handshake.negotiated_protocol, "http/1.1");
  ASSERT_TRUE(out.obs.has_value());
  const auto& obs = *out.obs;
  EXPECT_FALSE(obs.failure.has_value()) << *obs.failure;
  EXPECT_EQ(obs.sent_bytes, kUpgrade.size());
  EXPECT_EQ(obs.received_bytes, kSwitching.size());  // the decrypted reply, not the records
  EXPECT_EQ(obs.received_head, "HTTP/1.1 101 Swi");
  EXPECT_EQ(obs.transaction_id, 4);
  EXPECT_EQ(obs.exchange, "signal_websocket");
  EXPECT_LT(out.seconds, 1.5);                    // settled after the answer, not the timeout
  EXPECT_EQ(server.first_data(), kUpgrade);       // exactly the upgrade, as application data
  EXPECT_LE(out.handshake.t, obs.t0);             // the handshake's end is before the exchange
}

TEST(AppExchangeTls, AnyHttpReplyIsAnAnswer) {
  const std::string refused = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  TlsServer server({test_pki().good_leaf}, {"http/1.1"}, TlsServer::After::kAnswer, refused);
  auto out = tls_exchange_with(server, {});
  ASSERT_TRUE(out.obs.has_value());
  EXPECT_FALSE(out.obs->failure.has_value());
  EXPECT_EQ(out.obs->received_bytes, refused.size());
}

TEST(AppExchangeTls, ResetOnceTheUpgradePassesIsConnectionReset) {
  TlsServer server({test_pki().good_leaf}, {"http/1.1"}, TlsServer::After::kResetOnData);
  auto out = tls_exchange_with(server, {});
  EXPECT_FALSE(out.handshake.failure.has_value());  // the handshake itself worked
  ASSERT_TRUE(out.obs.has_value());
  ASSERT_TRUE(out.obs->failure.has_value());
  EXPECT_EQ(*out.obs->failure, "connection_reset");
  EXPECT_EQ(out.obs->sent_bytes, kUpgrade.size());
  EXPECT_EQ(out.obs->received_bytes, 0u);
  EXPECT_EQ(server.first_data(), kUpgrade);
}

TEST(AppExchangeTls, CloseNotifyWithoutAByteIsEof) {
  TlsServer server({test_pki().good_leaf}, {"http/1.1"}, TlsServer::After::kCloseNotifyOnData);
  auto out = tls_exchange_with(server, {});
  ASSERT_TRUE(out.obs.has_value());
  ASSERT_TRUE(out.obs->failure.has_value());
  EXPECT_EQ(*out.obs->failure, "eof_error");
  EXPECT_TRUE(out.obs->closed_by_peer);
}

TEST(AppExchangeTls, SilenceAfterTheUpgradeIsATimeoutWithinItsBound) {
  TlsServer server({test_pki().good_leaf}, {"http/1.1"}, TlsServer::After::kHoldOnData);
  AppExchangeOptions options;
  options.timeout = 400ms;
  auto out = tls_exchange_with(server, options);
  ASSERT_TRUE(out.obs.has_value());
  ASSERT_TRUE(out.obs->failure.has_value());
  EXPECT_EQ(*out.obs->failure, "generic_timeout_error");  // the session ticket alone is no answer
  EXPECT_EQ(out.obs->sent_bytes, kUpgrade.size());
  EXPECT_GE(out.seconds, 0.35);
  EXPECT_LT(out.seconds, 1.5);
}

// A handshake that fails verification never reaches the exchange: nothing of
// the app's is sent to a server that is not the one named.
TEST(AppExchangeTls, NoExchangeAfterAFailedVerification) {
  TlsServer server({test_pki().other_name_leaf}, {"http/1.1"}, TlsServer::After::kAnswer, kSwitching);
  auto out = tls_exchange_with(server, {});
  ASSERT_TRUE(out.handshake.failure.has_value());
  EXPECT_EQ(*out.handshake.failure, "ssl_invalid_hostname");
  EXPECT_FALSE(out.obs.has_value());
}

TEST(AppExchangeTls, NoSessionIsAFailureNotACrash) {
  StepClock clock;
  auto obs = app_exchange_tls(nullptr, -1, "127.0.0.1:1", {}, {&clock, 1});
  ASSERT_TRUE(obs.failure.has_value());
  EXPECT_EQ(obs.sent_bytes, 0u);
}

}  // namespace
}  // namespace vantage::net
