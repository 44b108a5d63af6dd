// Tests for the verdict's rules one layer at a time (rules/rules.h): each
// rule is run alone on one endpoint's evidence, and must decide only its own
// layer's cases, leaving the rest to the rules after it.
#include "analysis/verdict/rules/rules.h"

#include <gtest/gtest.h>

#include "reports/format/observations_json.h"

namespace vantage::analysis::rules {
namespace {

using nlohmann::json;

// One endpoint's evidence: its plan entry, the observations of its
// transactions (DNS 1, UDP 2, chain 3) and the measurement's canary/control.
struct Case {
  format::PlannedEndpoint ep;
  json keys = {{"queries", json::array()}, {"tcp_connect", json::array()}, {"tls_handshakes", json::array()},
               {"requests", json::array()}};
  Case(const std::string& chain = "tcp") {
    ep.endpoint = "chat.example:443";
    ep.host = "chat.example";
    ep.chain = chain;
    ep.feature = "chat";
    ep.port = 443;
    ep.ip = "198.18.1.2";
    ep.dns_transaction_id = 1;
    ep.transaction_id = 3;
    ep.attempts = 1;
  }
  Case& lookup(const std::string& failure, const std::vector<std::string>& ips = {"198.18.1.2"}) {
    format::DnsObservation q;
    q.transaction_id = 1;
    q.engine = "getaddrinfo";
    q.hostname = ep.host;
    if (!failure.empty()) q.failure = failure;
    else
      for (const auto& ip : ips) q.answers.push_back({"A", ip, "", "", 60});
    keys["queries"].push_back(format::to_json(q));
    return *this;
  }
  Case& udp(const std::vector<std::string>& ips) {
    ep.dns_udp_transaction_id = 2;
    format::DnsObservation q;
    q.transaction_id = 2;
    q.engine = "udp";
    q.hostname = ep.host;
    for (const auto& ip : ips) q.answers.push_back({"A", ip, "", "", 60});
    keys["queries"].push_back(format::to_json(q));
    return *this;
  }
  Case& tcp(const std::string& failure) {
    format::TcpConnectObservation o;
    o.transaction_id = 3;
    o.ip = *ep.ip;
    o.port = 443;
    if (!failure.empty()) o.failure = failure;
    keys["tcp_connect"].push_back(format::to_json(o));
    return *this;
  }
  Case& tls(const std::string& failure) {
    format::TlsHandshakeObservation o;
    o.transaction_id = 3;
    o.server_name = ep.host;
    if (!failure.empty()) o.failure = failure;
    keys["tls_handshakes"].push_back(format::to_json(o));
    return *this;
  }
  Case& http(const std::string& failure, int code = 200, uint64_t bytes = 0, double secs = 0, double stall = -1) {
    format::HttpObservation r;
    r.transaction_id = 3;
    r.url = "https://chat.example/";
    if (!failure.empty()) r.failure = failure;
    else r.status_code = code;
    r.body_bytes_received = bytes;
    r.download_seconds = secs;
    r.body_stall_seconds = stall;
    keys["requests"].push_back(format::to_json(r));
    return *this;
  }
  Case& canary(const std::string& status, double kbps = -1) {
    keys["x_canary"] = format::to_json(format::Canary{status, kbps > 0 ? std::optional<double>(kbps) : std::nullopt, {}});
    return *this;
  }
  Case& networks(std::vector<std::string> prefixes) {
    keys["x_networks"] = format::to_json(format::Networks{{}, std::move(prefixes)});
    return *this;
  }
  Case& control(const format::ControlResponse& answer) {
    keys["x_control"] = format::to_json(format::ControlRecord{"http://control.test/", {{ep.endpoint, answer}}, std::nullopt});
    return *this;
  }

  // Runs `rule` alone and returns the judgement.
  template <typename Rule>
  EndpointVerdict run(Rule rule, bool* decided = nullptr) {
    keys["x_endpoints"] = format::to_json(std::vector<format::PlannedEndpoint>{ep});
    m_ = Measurement::parse(keys);
    Judgement j(m_, m_.endpoints.at(0), policy_);
    rule(j);
    if (decided) *decided = j.decided;
    return j.v;
  }
  EndpointVerdict chain_rule(void (*rule)(Judgement&, const ChainOutcome&), bool* decided = nullptr) {
    return run([&](Judgement& j) { rule(j, chain_outcome(j)); }, decided);
  }

 private:
  Measurement m_;
  VerdictPolicy policy_;
};

format::ControlResponse control_connect(bool ok) {
  format::ControlResponse a;
  a.tcp_connect = std::map<std::string, format::ControlConnect>{
      {"198.18.1.2:443", {ok, ok ? std::nullopt : std::optional<std::string>("connection_refused")}}};
  return a;
}

// ------------------------------------------------------------------- DNS

TEST(DnsRule, BlockingLookupFailureIsDnsBlocking) {
  bool decided = false;
  auto v = Case().lookup("dns_nxdomain_error").run([](Judgement& j) { judge_dns(j); }, &decided);
  EXPECT_TRUE(decided);
  EXPECT_EQ(v.status, "blocked");
  EXPECT_EQ(v.method, "dns");
  EXPECT_EQ(v.evidence, std::vector<std::string>{"DNS lookup failed: dns_nxdomain_error"});
}

TEST(DnsRule, LookupFailingAtTheControlTooIsDown) {
  format::ControlResponse a;
  a.dns = format::ControlDns{"dns_nxdomain_error", {}};
  auto v = Case().lookup("dns_nxdomain_error").control(a).run([](Judgement& j) { judge_dns(j); });
  EXPECT_EQ(v.status, "down");
}

TEST(DnsRule, LocalLookupTroubleIsInconclusive) {
  bool decided = false;
  auto v = Case().lookup("too_many_open_files").run([](Judgement& j) { judge_dns(j); }, &decided);
  EXPECT_TRUE(decided);
  EXPECT_EQ(v.status, "inconclusive");
  EXPECT_EQ(v.failure, "too_many_open_files");
}

TEST(DnsRule, DnsOnlyEndpointIsJudgedOnItsAnswer) {
  Case bogon("dns");
  bogon.ep.port.reset();
  bogon.ep.ip.reset();
  bogon.ep.transaction_id.reset();
  auto v = bogon.lookup("", {"10.0.0.1"}).run([](Judgement& j) { judge_dns(j); });
  EXPECT_EQ(v.status, "blocked");
  EXPECT_EQ(v.failure, "dns_bogon_error");

  Case fine("dns");
  fine.ep.ip.reset();
  EXPECT_EQ(fine.lookup("").networks({"198.18.1.0/24"}).run([](Judgement& j) { judge_dns(j); }).status, "ok");
}

TEST(DnsRule, SuspectAddressIsEvidenceUntilAStepFailsThere) {
  bool decided = true, suspect = false;
  Case c;
  c.lookup("").networks({"198.18.9.0/24"}).tcp("");
  auto v = c.run([&](Judgement& j) {
    judge_dns(j);
    suspect = j.suspect_answer;
  }, &decided);
  EXPECT_FALSE(decided);  // nothing failed: later rules decide
  EXPECT_TRUE(suspect);
  EXPECT_EQ(v.evidence, std::vector<std::string>{"DNS answer 198.18.1.2 is outside the service's known networks"});

  Case failed;
  failed.lookup("").networks({"198.18.9.0/24"}).tcp("connection_reset");
  v = failed.run([](Judgement& j) {
    judge_dns(j);
    judge_failure_at_suspect_address(j, chain_outcome(j));
  }, &decided);
  EXPECT_TRUE(decided);
  EXPECT_EQ(v.method, "dns");
  EXPECT_EQ(v.failure, "connection_reset");
}

TEST(DnsRule, InjectedAnswerRacingTheResolversIsNoted) {
  bool suspect = false;
  Case c;
  c.lookup("").udp({"198.18.1.2"}).udp({"198.18.1.9"});
  auto v = c.run([&](Judgement& j) {
    judge_dns(j);
    suspect = j.suspect_answer;
  });
  EXPECT_TRUE(suspect);  // the last (the resolver's) response did not give it
  ASSERT_FALSE(v.evidence.empty());
  EXPECT_EQ(v.evidence[0], "2 different DNS responses to one query: 198.18.1.2; 198.18.1.9");
}

// ------------------------------------------------------------------- TCP

TEST(TcpRule, FailedConnectIsTcpIpBlocking) {
  Case c;
  c.ep.attempts = 2;
  bool decided = false;
  auto v = c.lookup("").tcp("generic_timeout_error").chain_rule(judge_tcp, &decided);
  EXPECT_TRUE(decided);
  EXPECT_EQ(v.method, "tcp_ip");
  EXPECT_EQ(v.evidence,
            std::vector<std::string>{"TCP connect to 198.18.1.2:443 failed: generic_timeout_error (after 2 attempts)"});
}

TEST(TcpRule, FailingFromTheControlTooIsDown) {
  auto v = Case().lookup("").tcp("connection_refused").control(control_connect(false)).chain_rule(judge_tcp);
  EXPECT_EQ(v.status, "down");
}

TEST(TcpRule, LeavesOtherLayersAlone) {
  bool decided = true;
  Case("tls").lookup("").tcp("").tls("connection_reset").chain_rule(judge_tcp, &decided);
  EXPECT_FALSE(decided);
}

TEST(TcpRule, FailedCanaryMakesBlockingInconclusive) {
  auto v = Case().lookup("").tcp("connection_reset").canary("failed").chain_rule(judge_tcp);
  EXPECT_EQ(v.status, "inconclusive");
  EXPECT_TRUE(v.method.empty());
  EXPECT_EQ(v.evidence.back(), "the probe's own network failed its canary");
}

// ------------------------------------------------------------------- TLS

TEST(TlsRule, FailedHandshakeIsTlsBlockingNamingTheSni) {
  auto v = Case("tls").lookup("").tcp("").tls("connection_reset").chain_rule(judge_tls);
  EXPECT_EQ(v.method, "tls");
  EXPECT_EQ(v.evidence, std::vector<std::string>{"TLS handshake with 198.18.1.2:443 (SNI chat.example) failed: connection_reset"});
}

TEST(TlsRule, ControlThatCouldNotConnectMakesItDown) {
  auto v = Case("tls").lookup("").tcp("").tls("connection_reset").control(control_connect(false)).chain_rule(judge_tls);
  EXPECT_EQ(v.status, "down");
}

TEST(TlsRule, LeavesOtherLayersAlone) {
  bool decided = true;
  Case().lookup("").tcp("connection_reset").chain_rule(judge_tls, &decided);
  EXPECT_FALSE(decided);
}

// ------------------------------------------------------------------ HTTP

TEST(HttpRule, FailedRequestIsHttpBlockingUnlessTheControlFailsToo) {
  auto v = Case("https").lookup("").tcp("").tls("").http("eof_error").chain_rule(judge_http_failure);
  EXPECT_EQ(v.method, "http");
  EXPECT_EQ(v.failure, "eof_error");

  format::ControlResponse a;
  a.http_request = format::ControlHttp{};
  a.http_request->failure = "eof_error";
  bool decided = false;
  v = Case("https").lookup("").tcp("").tls("").http("eof_error").control(a).chain_rule(judge_http_failure_down, &decided);
  EXPECT_TRUE(decided);
  EXPECT_EQ(v.status, "down");
  // Without a failing control, the down rule leaves it to the others.
  Case("https").lookup("").tcp("").tls("").http("eof_error").chain_rule(judge_http_failure_down, &decided);
  EXPECT_FALSE(decided);
}

TEST(HttpRule, StatusOtherThanTheControlsIsBlocking) {
  format::ControlResponse a;
  a.http_request = format::ControlHttp{};
  a.http_request->status_code = 200;
  auto v = Case("https").lookup("").tcp("").tls("").http("", 451).control(a).chain_rule(judge_http_status);
  EXPECT_EQ(v.status, "blocked");
  EXPECT_EQ(v.failure, "http_unexpected_status_code");
  EXPECT_EQ(v.evidence, std::vector<std::string>{"HTTP status 451 while the control got 200"});
  bool decided = true;
  Case("https").lookup("").tcp("").tls("").http("", 200).control(a).chain_rule(judge_http_status, &decided);
  EXPECT_FALSE(decided);
  Case("https").lookup("").tcp("").tls("").http("", 451).chain_rule(judge_http_status, &decided);  // no control
  EXPECT_FALSE(decided);
}

// ------------------------------------------------------------ throughput

TEST(ThroughputRule, SampleFarBelowTheCanaryIsThrottling) {
  Case c("https");
  c.ep.throughput = true;
  // 64 KiB in 4 s: 131 kbit/s against a 40000 kbit/s canary.
  auto v = c.lookup("").tcp("").tls("").http("", 200, 65536, 4).canary("ok", 40000).chain_rule(judge_throughput);
  EXPECT_EQ(v.method, "throttling");
  EXPECT_EQ(v.evidence[0], "throughput 131 kbit/s, canary 40000 kbit/s");
}

TEST(ThroughputRule, WithoutACanaryFigureItIsEvidenceOnly) {
  Case c("https");
  c.ep.throughput = true;
  bool decided = true;
  auto v = c.lookup("").tcp("").tls("").http("", 200, 65536, 4).chain_rule(judge_throughput, &decided);
  EXPECT_FALSE(decided);
  EXPECT_EQ(v.evidence, std::vector<std::string>{"throughput 131 kbit/s"});
}

TEST(ThroughputRule, TimeoutWhileStillFlowingIsThrottling) {
  Case c("https");
  // Timed out with 64 KiB after 4 s, the last byte 0.5 s before the end.
  auto v = c.lookup("").tcp("").tls("").http("generic_timeout_error", 0, 65536, 4, 0.5).canary("ok", 40000)
               .chain_rule(judge_throughput_on_failure);
  EXPECT_EQ(v.method, "throttling");
  EXPECT_EQ(v.failure, "generic_timeout_error");
  // A stall (no byte for 5 s) is a timeout, not a policer: left to the HTTP rule.
  bool decided = true;
  Case("https").lookup("").tcp("").tls("").http("generic_timeout_error", 0, 65536, 4, 5).canary("ok", 40000)
      .chain_rule(judge_throughput_on_failure, &decided);
  EXPECT_FALSE(decided);
}

}  // namespace
}  // namespace vantage::analysis::rules
