// app_exchange against real loopback servers: one that answers (and keeps the
// connection open, or closes after its bytes), one that resets once the
// bytes arrive, one that closes without a byte, one that stays silent.
#include "probe/net/app_exchange.h"

#include <gtest/gtest.h>

#include "probe/net/tcp_connect.h"
#include "probe/net/tests/loopback_servers.h"
#include "reports/format/observations_json.h"

namespace vantage::net {
namespace {

using namespace std::chrono_literals;
using testing::RawTcpServer;

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

}  // namespace
}  // namespace vantage::net
