// Engine tests against real loopback servers: sharing of chains, retry on
// timeout, the overall deadline, interruption and control queries.
// Hosts are IP literals so nothing is ever resolved through DNS.
#include "probe/engine/engine.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>

#include "probe/net/tests/loopback_servers.h"

namespace vantage::engine {
namespace {

using catalog::Chain;
using namespace std::chrono_literals;
using net::testing::ClosedPort;
using net::testing::RawTcpServer;
using net::testing::SaturatedListener;

catalog::Endpoint tcp_endpoint(const std::string& host, std::vector<int> ports, const std::string& feature = "messaging") {
  catalog::Endpoint e;
  e.host = host;
  e.ports = std::move(ports);
  e.chain = Chain::Tcp;
  e.feature = feature;
  return e;
}

catalog::Catalog one_service(std::vector<catalog::Endpoint> endpoints) {
  catalog::Service s;
  s.name = s.test_name = "svc";
  s.test_version = "0.1.0";
  s.features = {{"messaging", "", "any"}};
  s.endpoints = std::move(endpoints);
  catalog::Catalog c;
  c.services.push_back(std::move(s));
  return c;
}

EngineOptions loopback_options() {
  EngineOptions o;
  o.reject_bogons = false;  // everything here is on 127.0.0.1
  o.udp_resolver = "";      // never ask the host's resolver from a unit test
  o.connect_timeout = 300ms;
  o.dns_timeout = 2000ms;
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(Engine, MeasuresEachAddressOnceAndSharesTheResult) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  // Same IP:port under two "names" (both literals resolve to 127.0.0.1).
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port()}), tcp_endpoint("127.0.0.1", {server.port()})});
  auto result = run(cat, {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  EXPECT_EQ(obs.tcp_connect.size(), 1u);
  ASSERT_EQ(obs.endpoints.size(), 2u);
  EXPECT_EQ(obs.endpoints[0]["transaction_id"], obs.endpoints[1]["transaction_id"]);
  EXPECT_FALSE(obs.tcp_connect[0].failure.has_value());
  EXPECT_EQ(obs.queries.size(), 1u);
}

TEST(Engine, RecordsRefusedWithoutRetry) {
  ClosedPort closed;
  auto cat = one_service({tcp_endpoint("127.0.0.1", {closed.port()})});
  auto result = run(cat, {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 1u);
  EXPECT_EQ(obs.tcp_connect[0].failure.value_or(""), "connection_refused");
  EXPECT_EQ(obs.endpoints[0]["attempts"], 1);
}

TEST(Engine, AnHttpsChainStoppedBeforeHttpStillRecordsItsRequest) {
  ClosedPort closed;
  catalog::Endpoint e = tcp_endpoint("127.0.0.1", {closed.port()}, "web");
  e.chain = Chain::Https;
  e.url = "https://127.0.0.1:" + std::to_string(closed.port()) + "/";
  auto cat = one_service({e});
  cat.services[0].features = {{"web", "", "all"}};
  auto result = run(cat, {"svc"}, loopback_options());
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 1u);
  ASSERT_EQ(obs.requests.size(), 1u);
  EXPECT_EQ(obs.requests[0].failure.value_or(""), "connection_refused");
  EXPECT_EQ(obs.requests[0].url, e.url);
  EXPECT_EQ(obs.requests[0].transaction_id, obs.tcp_connect[0].transaction_id);
  EXPECT_FALSE(obs.requests[0].status_code.has_value());
}

TEST(Engine, RetriesATimeoutOnceAndKeepsBothAttempts) {
  SaturatedListener blackhole;
  auto cat = one_service({tcp_endpoint("127.0.0.1", {blackhole.port()})});
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, loopback_options());
  double took = seconds_since(t0);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.tcp_connect.size(), 2u);
  EXPECT_EQ(obs.tcp_connect[0].failure.value_or(""), "generic_timeout_error");
  EXPECT_EQ(obs.tcp_connect[1].failure.value_or(""), "generic_timeout_error");
  EXPECT_NE(std::find(obs.tcp_connect[0].tags.begin(), obs.tcp_connect[0].tags.end(), "x_retried"),
            obs.tcp_connect[0].tags.end());
  EXPECT_EQ(obs.endpoints[0]["attempts"], 2);
  EXPECT_EQ(obs.endpoints[0]["transaction_id"], obs.tcp_connect[1].transaction_id);
  EXPECT_GE(took, 0.55);
}

TEST(Engine, BlackHoledEndpointsCostOneTimeoutPlusRetryNotTheSum) {
  std::vector<std::unique_ptr<SaturatedListener>> holes;
  std::vector<catalog::Endpoint> eps;
  for (int i = 0; i < 10; ++i) {
    holes.push_back(std::make_unique<SaturatedListener>());
    eps.push_back(tcp_endpoint("127.0.0.1", {holes.back()->port()}));
  }
  auto cat = one_service(eps);
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, loopback_options());
  double took = seconds_since(t0);
  const auto& obs = result.services.at("svc");
  EXPECT_EQ(obs.endpoints.size(), 10u);
  // 10 × 2 × 0.3 s = 6 s if serial; in parallel about 0.6 s.
  EXPECT_LT(took, 3.0);
}

TEST(Engine, DeadlineStopsChainsThatHaveNotStarted) {
  std::vector<std::unique_ptr<SaturatedListener>> holes;
  std::vector<catalog::Endpoint> eps;
  for (int i = 0; i < 6; ++i) {
    holes.push_back(std::make_unique<SaturatedListener>());
    eps.push_back(tcp_endpoint("127.0.0.1", {holes.back()->port()}));
  }
  auto cat = one_service(eps);
  auto opt = loopback_options();
  opt.parallelism = 1;
  opt.deadline = 1000ms;
  auto t0 = std::chrono::steady_clock::now();
  auto result = run(cat, {"svc"}, opt);
  EXPECT_LT(seconds_since(t0), 2.0);
  int interrupted = 0;
  for (const auto& ep : result.services.at("svc").endpoints) interrupted += ep.value("failure", "") == "interrupted";
  EXPECT_GT(interrupted, 0);
}

TEST(Engine, InterruptedRunMeasuresNothingMoreButReturns) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port()})});
  std::atomic<bool> stop{true};
  auto opt = loopback_options();
  opt.interrupted = &stop;
  auto result = run(cat, {"svc"}, opt);
  EXPECT_TRUE(result.interrupted);
  EXPECT_TRUE(result.services.at("svc").tcp_connect.empty());
  ASSERT_EQ(result.services.at("svc").endpoints.size(), 1u);
  EXPECT_EQ(result.services.at("svc").endpoints[0].value("failure", ""), "interrupted");
}

TEST(Engine, AsksTheControlOnlyAboutFailingEndpoints) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  ClosedPort closed;
  auto cat = one_service({tcp_endpoint("127.0.0.1", {server.port(), closed.port()})});
  std::mutex mu;
  std::vector<nlohmann::json> asked;
  auto opt = loopback_options();
  opt.control_url = "http://control.invalid/";
  opt.control = [&](const nlohmann::json& req, std::chrono::milliseconds) {
    std::lock_guard lock(mu);
    asked.push_back(req);
    return nlohmann::json{{"tcp_connect", nlohmann::json::object()}};
  };
  auto result = run(cat, {"svc"}, opt);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0]["tcp_connect"][0], "127.0.0.1:" + std::to_string(closed.port()));
  const auto& control = result.services.at("svc").control;
  EXPECT_EQ(control["url"], "http://control.invalid/");
  EXPECT_TRUE(control["answers"].contains("127.0.0.1:" + std::to_string(closed.port())));
}

TEST(Engine, BogonAnswersAreNeverConnectedTo) {
  auto cat = one_service({tcp_endpoint("127.0.0.1", {443})});
  EngineOptions opt;  // reject_bogons on, as in real runs
  opt.udp_resolver = "";
  opt.connect_timeout = 300ms;
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  EXPECT_TRUE(obs.tcp_connect.empty());
  ASSERT_EQ(obs.queries.size(), 1u);
  EXPECT_EQ(obs.queries[0].failure.value_or(""), "dns_bogon_error");
}

TEST(Engine, AnHttpsStepStoppedByDnsStillRecordsItsRequest) {
  catalog::Endpoint e = tcp_endpoint("127.0.0.1", {443}, "web");
  e.chain = Chain::Https;
  e.url = "https://127.0.0.1/";
  auto cat = one_service({e});
  cat.services[0].features = {{"web", "", "all"}};
  EngineOptions opt;  // reject_bogons on: 127.0.0.1 is refused as a DNS answer
  opt.udp_resolver = "";
  opt.connect_timeout = 300ms;
  auto result = run(cat, {"svc"}, opt);
  const auto& obs = result.services.at("svc");
  ASSERT_EQ(obs.requests.size(), 1u);
  EXPECT_EQ(obs.requests[0].failure.value_or(""), "dns_bogon_error");
  EXPECT_EQ(obs.requests[0].url, "https://127.0.0.1/");
  EXPECT_EQ(obs.requests[0].transaction_id, obs.queries[0].transaction_id);
}

}  // namespace
}  // namespace vantage::engine
