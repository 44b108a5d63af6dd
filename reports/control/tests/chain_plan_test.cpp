// The helper measures the chain the probe names (x_chain) and no more:
// chain_plan.h. Real loopback targets, as in test_helper_test.cpp.
#include "reports/control/chain_plan.h"

#include <gtest/gtest.h>

#include <chrono>

#include "probe/net/tests/test_pki.h"
#include "reports/control/test_helper.h"
#include "reports/control/tests/loopback_targets.h"

namespace vantage::control {
namespace {

using json = nlohmann::json;
using testing::ListeningPort;
using testing::loopback;
using testing::loopback_only;
using testing::TargetServer;

TEST(ControlChain, TcpChainOnlyConnects) {
  // Accepts connections and never answers: an HTTP request would wait out
  // the helper's 10 s HTTP timeout (WhatsApp :5222 asked as a URL).
  ListeningPort port;
  const std::string key = loopback(port.port());
  const auto started = std::chrono::steady_clock::now();
  const json answer = handle_control_request(
      {{"http_request", "http://" + key + "/"}, {"tcp_connect", {key}}, {"x_chain", "tcp"}}, loopback_only());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  EXPECT_EQ(answer["tcp_connect"][key]["status"], true);
  EXPECT_FALSE(answer.contains("http_request"));
  EXPECT_FALSE(answer.contains("tls_handshake"));
  EXPECT_FALSE(answer.contains("dns"));
  EXPECT_EQ(answer["x_chain"], "tcp");
}

TEST(ControlChain, TlsChainHandshakesWithoutARequest) {
  const auto& pki = net::testing::test_pki();
  TargetServer target(&pki.good_leaf);
  const std::string key = loopback(target.port());
  const json answer = handle_control_request(
      {{"http_request", "https://" + key + "/"}, {"tcp_connect", {key}}, {"x_chain", "tls"}}, loopback_only());
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  EXPECT_EQ(answer["tcp_connect"][key]["status"], true);
  EXPECT_EQ(answer["tls_handshake"][key]["status"], true) << answer.dump();
  EXPECT_FALSE(answer.contains("http_request"));
  EXPECT_EQ(target.requests(), 0);
}

TEST(ControlChain, HttpChainIsTheFullMeasurement) {
  TargetServer target;
  const std::string key = loopback(target.port());
  const json answer = handle_control_request(
      {{"http_request", "http://" + key + "/page"}, {"tcp_connect", {key}}, {"x_chain", "http"}}, loopback_only());
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  EXPECT_EQ(answer["http_request"]["status_code"], 200);
  EXPECT_TRUE(answer.contains("dns"));
  EXPECT_EQ(answer["tcp_connect"][key]["status"], true);
}

TEST(ControlChain, RejectsUnknownOrMismatchedChains) {
  ChainPlan plan;
  EXPECT_NE(chain_plan("udp", "http", plan), "");
  EXPECT_NE(chain_plan("https", "http", plan), "");
  EXPECT_EQ(chain_plan("", "https", plan), "");
  EXPECT_TRUE(plan.dns && plan.connect && plan.tls && plan.http);
  const json answer = handle_control_request({{"http_request", "http://127.0.0.1/"}, {"x_chain", "udp"}}, loopback_only());
  ASSERT_TRUE(answer.contains("error"));
  EXPECT_NE(answer["error"].get<std::string>().find("x_chain"), std::string::npos);
  // Not a string: refused by the protocol's parse, naming the key.
  const json typed = handle_control_request({{"http_request", "http://127.0.0.1/"}, {"x_chain", 3}}, loopback_only());
  ASSERT_TRUE(typed.contains("error"));
  EXPECT_NE(typed["error"].get<std::string>().find("x_chain"), std::string::npos);
}

TEST(ControlChain, DnsChainOnlyResolves) {
  const json answer = handle_control_request({{"http_request", "http://127.0.0.1/"}, {"x_chain", "dns"}}, loopback_only());
  ASSERT_FALSE(answer.contains("error")) << answer.dump();
  EXPECT_EQ(answer["dns"]["addrs"], json::array({"127.0.0.1"}));
  EXPECT_FALSE(answer.contains("tcp_connect"));
  EXPECT_FALSE(answer.contains("http_request"));
}

}  // namespace
}  // namespace vantage::control
