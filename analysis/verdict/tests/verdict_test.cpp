// Tests for compute_verdict: hand-built test_keys (observations made with the
// real OONI serialisers, plus the plan the probe records) for each way an
// endpoint can fail, the feature rules, the service status, malformed input
// and re-scoring after a round trip through JSON text.
#include "analysis/verdict/verdict.h"

#include <algorithm>
#include <gtest/gtest.h>

#include "reports/format/observations_json.h"
#include "reports/format/plan.h"

namespace vantage::analysis {
namespace {

using nlohmann::json;

// One endpoint of the plan and what happened to it.
struct Ep {
  std::string host = "chat.example";
  int port = 443;
  std::string ip = "198.18.1.2";
  std::string chain = "tcp";  // dns | tcp | tls | http | https
  std::string feature = "chat";
  bool judged = true;
  bool throughput = false;
  std::string dns_failure;
  std::string tcp_failure;
  std::string tls_failure;
  std::string http_failure;
  int status_code = 200;
  uint64_t body_bytes = 0;
  double download_seconds = 0;
  double stall_seconds = -1;
  std::string download_stopped;
  int attempts = 1;
  bool interrupted = false;
  // An application-level exchange after the connect ("" = none), what came
  // back (bytes, or the failure), and whether it is on record at all.
  std::string exchange;
  std::string exchange_failure;
  uint64_t exchange_received = 0;
  bool exchange_recorded = true;
};

format::Failure failure(const std::string& f) { return f.empty() ? format::Failure() : format::Failure(f); }

// Builds test_keys the way the probe does: observations by transaction id
// plus x_endpoints, x_features, x_networks, x_canary and x_control.
class Keys {
 public:
  Keys() {
    for (const char* a : {"queries", "tcp_connect", "tls_handshakes", "requests", "network_events", "x_app_exchanges",
                          "x_endpoints"})
      keys_[a] = json::array();
    keys_["x_features"] = json::object();
  }

  Keys& feature(const std::string& name, const std::string& rule, bool judged = true) {
    features_.push_back({name, rule, "", judged});
    keys_["x_features"] = format::to_json(features_);
    return *this;
  }
  Keys& prefixes(std::vector<std::string> p) {
    keys_["x_networks"] = format::to_json(format::Networks{{}, std::move(p)});
    return *this;
  }
  Keys& canary(const std::string& status, double kbps = -1) {
    keys_["x_canary"] = format::to_json(format::Canary{status, kbps > 0 ? std::optional<double>(kbps) : std::nullopt, {}});
    return *this;
  }
  // The control's answer for endpoint "host:port" (the helper's shape,
  // through the one parser the probe stores it with).
  Keys& control(const std::string& endpoint, const json& answer) {
    if (!control_) control_ = format::ControlRecord{"https://control.test/", {}, std::nullopt};
    control_->answers[endpoint] = format::control_response_from_json(answer);
    keys_["x_control"] = format::to_json(*control_);
    return *this;
  }

  Keys& add(const Ep& e) {
    const int64_t dns_tx = next_tx_++;
    format::DnsObservation q;
    q.transaction_id = dns_tx;
    q.engine = "getaddrinfo";
    q.hostname = e.host;
    q.query_type = "ANY";
    q.failure = failure(e.dns_failure);
    const bool v6 = e.ip.find(':') != std::string::npos;
    if (e.dns_failure.empty() || e.dns_failure == "dns_bogon_error")
      q.answers.push_back(v6 ? format::DnsAnswer{"AAAA", "", e.ip, "", 60} : format::DnsAnswer{"A", e.ip, "", "", 60});
    keys_["queries"].push_back(format::to_json(q));

    format::PlannedEndpoint ep;
    ep.endpoint = e.chain == "dns" ? e.host : e.host + ":" + std::to_string(e.port);
    ep.host = e.host;
    ep.chain = e.chain;
    ep.feature = e.feature;
    ep.judged = e.judged;
    ep.throughput = e.throughput;
    ep.dns_transaction_id = dns_tx;
    if (e.chain == "dns" || !e.dns_failure.empty()) {
      if (e.chain != "dns") ep.port = e.port;
      push(ep);
      return *this;
    }
    const int64_t tx = next_tx_++;
    ep.port = e.port;
    ep.ip = e.ip;
    ep.family = v6 ? "ipv6" : "ipv4";
    ep.transaction_id = tx;
    ep.attempts = e.attempts;
    if (e.interrupted) {
      ep.failure = "interrupted";
      push(ep);
      return *this;
    }
    const std::string address = v6 ? "[" + e.ip + "]:" + std::to_string(e.port) : e.ip + ":" + std::to_string(e.port);
    format::TcpConnectObservation tcp;
    tcp.transaction_id = tx;
    tcp.ip = e.ip;
    tcp.port = e.port;
    tcp.failure = failure(e.tcp_failure);
    keys_["tcp_connect"].push_back(format::to_json(tcp));
    ep.exchange = e.exchange;
    const bool in_tls = e.chain == "tls" || e.chain == "https";
    // The exchange runs after the connect, inside TLS after the handshake.
    if (!e.exchange.empty() && e.tcp_failure.empty() && (!in_tls || e.tls_failure.empty()) && e.exchange_recorded) {
      format::AppExchangeObservation x;
      x.transaction_id = tx;
      x.address = address;
      x.exchange = e.exchange;
      x.sent_bytes = 43;
      x.received_bytes = e.exchange_received;
      x.received_head = std::string(std::min<uint64_t>(e.exchange_received, 16), 'x');
      x.failure = failure(e.exchange_failure);
      keys_["x_app_exchanges"].push_back(format::to_json(x));
    }
    bool tls = e.chain == "tls" || e.chain == "https";
    bool http = e.chain == "http" || e.chain == "https";
    if (tls && e.tcp_failure.empty()) {
      format::TlsHandshakeObservation h;
      h.transaction_id = tx;
      h.address = address;
      h.server_name = e.host;
      h.failure = failure(e.tls_failure);
      keys_["tls_handshakes"].push_back(format::to_json(h));
    }
    if (http && e.tcp_failure.empty() && e.tls_failure.empty()) {
      format::HttpObservation r;
      r.transaction_id = tx;
      r.address = address;
      r.url = (e.chain == "https" ? "https://" : "http://") + e.host + "/";
      r.failure = failure(e.http_failure);
      // A failed exchange stops an https chain: its request is recorded unsent, with that failure.
      const bool stopped = !e.exchange.empty() && !e.exchange_failure.empty();
      if (stopped) r.failure = failure(e.exchange_failure);
      if (e.http_failure.empty() && !stopped) r.status_code = e.status_code;
      r.body_bytes_received = e.body_bytes;
      r.download_seconds = e.download_seconds;
      r.body_stall_seconds = e.stall_seconds;
      r.download_stopped = e.download_stopped;
      r.response_body.truncated = !e.download_stopped.empty();
      keys_["requests"].push_back(format::to_json(r));
    }
    push(ep);
    return *this;
  }

  json& json_() { return keys_; }
  json verdict() const { return compute_verdict(keys_); }

 private:
  void push(const format::PlannedEndpoint& ep) { keys_["x_endpoints"].push_back(format::to_json(ep)); }

  json keys_ = json::object();
  std::vector<format::Feature> features_;
  std::optional<format::ControlRecord> control_;
  int64_t next_tx_ = 1;
};

Ep tcp_ep(const std::string& host = "chat.example", int port = 443) {
  Ep e;
  e.host = host;
  e.port = port;
  return e;
}

Ep https_ep(const std::string& host = "www.example", const std::string& feature = "web") {
  Ep e;
  e.host = host;
  e.chain = "https";
  e.feature = feature;
  return e;
}

// A control answer in which everything worked.
json control_ok(const std::string& address, int status_code = 200) {
  return {{"dns", {{"failure", nullptr}, {"addrs", {"198.18.1.2"}}}},
          {"tcp_connect", {{address, {{"status", true}, {"failure", nullptr}}}}},
          {"tls_handshake", {{address, {{"server_name", "x"}, {"status", true}, {"failure", nullptr}}}}},
          {"http_request", {{"status_code", status_code}, {"body_length", 10}, {"failure", nullptr}}}};
}

const json& endpoint0(const json& v) { return v["endpoints"][0]; }

// --- per endpoint ---

TEST(Verdict, AllOkIsAccessible) {
  Keys k;
  k.feature("chat", "any").feature("web", "all").add(tcp_ep()).add(https_ep());
  json v = k.verdict();
  EXPECT_EQ(v["status"], "accessible");
  EXPECT_EQ(v["methods"], json::array());
  EXPECT_EQ(v["features"]["chat"]["status"], "accessible");
  EXPECT_EQ(v["features"]["web"]["status"], "accessible");
  ASSERT_EQ(v["endpoints"].size(), 2u);
  for (const auto& e : v["endpoints"]) {
    EXPECT_EQ(e["status"], "ok");
    EXPECT_TRUE(e["method"].is_null());
    EXPECT_TRUE(e["failure"].is_null());
  }
  EXPECT_EQ(v["endpoints"][0]["endpoint"], "chat.example:443");
  EXPECT_EQ(v["endpoints"][0]["ip"], "198.18.1.2");
  EXPECT_EQ(v["canary"], "ok");
  EXPECT_EQ(v["confidence"], "medium");  // no control
}

TEST(Verdict, NxdomainIsDnsBlocking) {
  Ep e = tcp_ep();
  e.dns_failure = "dns_nxdomain_error";
  Keys k;
  k.feature("chat", "all").add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
  EXPECT_EQ(endpoint0(v)["failure"], "dns_nxdomain_error");
  EXPECT_EQ(v["status"], "blocked");
  EXPECT_EQ(v["methods"], json::array({"dns"}));
  EXPECT_EQ(v["features"]["chat"]["methods"], json::array({"dns"}));
}

TEST(Verdict, DnsFailureAlsoAtControlIsDown) {
  Ep e = tcp_ep();
  e.dns_failure = "dns_nxdomain_error";
  Keys k;
  k.feature("chat", "all").add(e).control("chat.example:443", {{"dns", {{"failure", "dns_nxdomain_error"}, {"addrs", json::array()}}}});
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "down");
  EXPECT_TRUE(endpoint0(v)["method"].is_null());
  EXPECT_EQ(v["features"]["chat"]["status"], "down");
  EXPECT_EQ(v["status"], "down");
  EXPECT_EQ(v["confidence"], "high");
}

TEST(Verdict, DnsFailureWhileControlResolvesIsBlocked) {
  Ep e = tcp_ep();
  e.dns_failure = "dns_servfail_error";
  Keys k;
  k.feature("chat", "all").add(e).control("chat.example:443", control_ok("198.18.1.2:443"));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
}

TEST(Verdict, BogonIsDnsBlocking) {
  Ep e = tcp_ep();
  e.ip = "10.10.34.35";
  e.dns_failure = "dns_bogon_error";
  Keys k;
  k.feature("chat", "all").add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
  EXPECT_EQ(endpoint0(v)["failure"], "dns_bogon_error");
}

TEST(Verdict, TcpResetOrTimeoutIsTcpIpBlocking) {
  for (const char* f : {"connection_reset", "generic_timeout_error", "host_unreachable"}) {
    SCOPED_TRACE(f);
    Ep e = tcp_ep();
    e.tcp_failure = f;
    e.attempts = 2;
    Keys k;
    k.feature("chat", "all").add(e);
    json v = k.verdict();
    EXPECT_EQ(endpoint0(v)["status"], "blocked");
    EXPECT_EQ(endpoint0(v)["method"], "tcp_ip");
    EXPECT_EQ(endpoint0(v)["failure"], f);
    EXPECT_NE(endpoint0(v)["evidence"].dump().find("after 2 attempts"), std::string::npos);
    EXPECT_EQ(v["methods"], json::array({"tcp_ip"}));
  }
}

TEST(Verdict, TcpFailureAlsoAtControlIsDown) {
  Ep e = tcp_ep();
  e.tcp_failure = "generic_timeout_error";
  Keys k;
  k.feature("chat", "all").add(e).control(
      "chat.example:443", {{"tcp_connect", {{"198.18.1.2:443", {{"status", false}, {"failure", "generic_timeout_error"}}}}}});
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "down");
  EXPECT_EQ(v["status"], "down");
}

TEST(Verdict, TcpFailureWhileControlConnectsIsBlocked) {
  Ep e = tcp_ep();
  e.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").add(e).control("chat.example:443", control_ok("198.18.1.2:443"));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "tcp_ip");
  EXPECT_EQ(v["confidence"], "high");
}

// Accepted, then the app's opening bytes met a reset, a close or silence:
// app_protocol, whatever the control's bare connect says unless it cannot
// connect at all; a server that answered anything is not blocked.
TEST(Verdict, AppExchangeIsJudgedOnWhatCameBack) {
  struct Row {
    const char* name;
    std::string failure;
    uint64_t received;
    int control;  // 1 connects, 0 cannot connect, -1 no control
    const char* canary;
    const char* status;
    const char* method;  // "" = null
  } rows[] = {
      {"answered", "", 275, 1, "ok", "ok", ""},
      {"answered garbage, no control", "", 3, -1, "ok", "ok", ""},
      {"reset once the bytes passed", "connection_reset", 0, 1, "ok", "blocked", "app_protocol"},
      {"starved", "generic_timeout_error", 0, 1, "ok", "blocked", "app_protocol"},
      {"closed without a byte", "eof_error", 0, 1, "ok", "blocked", "app_protocol"},
      {"reset, no control: own evidence", "connection_reset", 0, -1, "ok", "blocked", "app_protocol"},
      {"reset, control cannot connect", "connection_reset", 0, 0, "ok", "down", ""},
      {"reset, canary failed", "connection_reset", 0, 1, "failed", "inconclusive", ""},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Ep e = tcp_ep("e1.chat.example", 5222);
    e.exchange = "whatsapp_noise";
    e.exchange_failure = row.failure;
    e.exchange_received = row.received;
    Keys k;
    k.feature("chat", "any").canary(row.canary).add(e);
    if (row.control >= 0)
      k.control("e1.chat.example:5222",
                {{"tcp_connect", {{"198.18.1.2:5222", {{"status", row.control == 1},
                                                       {"failure", row.control == 1 ? json(nullptr) : json("connection_refused")}}}}}});
    json v = k.verdict();
    EXPECT_EQ(endpoint0(v)["status"], row.status);
    if (*row.method) {
      EXPECT_EQ(endpoint0(v)["method"], row.method);
    } else {
      EXPECT_TRUE(endpoint0(v)["method"].is_null());
    }
    if (!row.failure.empty()) {
      EXPECT_EQ(endpoint0(v)["failure"], row.failure);
    }
    if (std::string(row.method) == "app_protocol") {
      EXPECT_EQ(v["methods"], json::array({"app_protocol"}));
      EXPECT_NE(endpoint0(v)["evidence"].dump().find("whatsapp_noise exchange (43 bytes sent)"), std::string::npos);
    }
  }
}

// Inside TLS (Signal's WebSocket upgrade on an https endpoint, or a tls
// one): the handshake worked, then the app's request met a reset, a close or
// silence: app_protocol, not tls nor http; down when the control cannot
// connect or complete the handshake; answered is ok.
TEST(Verdict, AnExchangeInsideTlsIsJudgedOnWhatCameBack) {
  struct Row {
    const char* name;
    const char* chain;
    std::string failure;
    uint64_t received;
    int control_tcp;  // 1 connects, 0 cannot connect, -1 no control
    int control_tls;  // likewise for the handshake
    const char* status;
    const char* method;  // "" = null
  } rows[] = {
      {"upgrade answered (101)", "https", "", 129, 1, 1, "ok", ""},
      {"tls chain answered", "tls", "", 40, -1, -1, "ok", ""},
      {"reset on the upgrade", "https", "connection_reset", 0, 1, 1, "blocked", "app_protocol"},
      {"starved after the upgrade", "https", "generic_timeout_error", 0, 1, 1, "blocked", "app_protocol"},
      {"closed after the upgrade", "tls", "eof_error", 0, 1, 1, "blocked", "app_protocol"},
      {"reset, no control", "https", "connection_reset", 0, -1, -1, "blocked", "app_protocol"},
      {"reset, control cannot connect", "https", "connection_reset", 0, 0, -1, "down", ""},
      {"reset, control's handshake fails", "https", "connection_reset", 0, 1, 0, "down", ""},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Ep e = https_ep("chat.example", "messaging");
    e.chain = row.chain;
    e.exchange = "signal_websocket";
    e.exchange_failure = row.failure;
    e.exchange_received = row.received;
    Keys k;
    k.feature("messaging", "all").canary("ok").add(e);
    json answer = json::object();
    if (row.control_tcp >= 0)
      answer["tcp_connect"] = {{"198.18.1.2:443", {{"status", row.control_tcp == 1},
                                                   {"failure", row.control_tcp == 1 ? json(nullptr) : json("connection_refused")}}}};
    if (row.control_tls >= 0)
      answer["tls_handshake"] = {{"198.18.1.2:443", {{"server_name", "chat.example"}, {"status", row.control_tls == 1},
                                                     {"failure", row.control_tls == 1 ? json(nullptr) : json("ssl_failed_handshake")}}}};
    if (!answer.empty()) k.control("chat.example:443", answer);
    json v = k.verdict();
    EXPECT_EQ(endpoint0(v)["status"], row.status) << endpoint0(v).dump();
    if (*row.method) {
      EXPECT_EQ(endpoint0(v)["method"], row.method);
      EXPECT_EQ(endpoint0(v)["failure"], row.failure);
      EXPECT_EQ(v["methods"], json::array({"app_protocol"}));
      EXPECT_NE(endpoint0(v)["evidence"].dump().find(
                    "completed the TLS handshake, then the signal_websocket exchange (43 bytes sent inside TLS) got " + row.failure),
                std::string::npos)
          << endpoint0(v)["evidence"].dump();
    } else {
      EXPECT_TRUE(endpoint0(v)["method"].is_null());
    }
  }
}

// A failed handshake is still tls's: the exchange never ran.
TEST(Verdict, AHandshakeFailureBeforeTheExchangeIsTls) {
  Ep e = https_ep("chat.example", "messaging");
  e.exchange = "signal_websocket";
  e.tls_failure = "connection_reset";
  Keys k;
  k.feature("messaging", "all").canary("ok").add(e);
  k.control("chat.example:443", control_ok("198.18.1.2:443"));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "tls");
}

// An https endpoint planned with an exchange is not ok on its request alone.
TEST(Verdict, AnHttpsExchangeMissingFromTheRecordIsInconclusive) {
  Ep e = https_ep("chat.example", "messaging");
  e.exchange = "signal_websocket";
  e.exchange_recorded = false;
  Keys k;
  k.feature("messaging", "all").add(e);
  EXPECT_EQ(endpoint0(k.verdict())["status"], "inconclusive");
}

// An endpoint planned with an exchange whose exchange is missing from the
// record (or came back empty without a failure) is not "ok" on its connect
// alone.
TEST(Verdict, PlannedExchangeWithoutItsRecordIsInconclusive) {
  Ep missing = tcp_ep();
  missing.exchange = "whatsapp_noise";
  missing.exchange_recorded = false;
  Keys k;
  k.feature("chat", "all").add(missing);
  EXPECT_EQ(endpoint0(k.verdict())["status"], "inconclusive");

  Ep empty = tcp_ep();
  empty.exchange = "whatsapp_noise";  // no failure, yet no byte: malformed
  Keys k2;
  k2.feature("chat", "all").add(empty);
  EXPECT_EQ(endpoint0(k2.verdict())["status"], "inconclusive");
}

TEST(Verdict, TlsResetAfterClientHelloIsTlsBlocking) {
  Ep e = https_ep();
  e.tls_failure = "connection_reset";
  Keys k;
  k.feature("web", "all").add(e).control("www.example:443", control_ok("198.18.1.2:443"));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "tls");
  EXPECT_EQ(endpoint0(v)["failure"], "connection_reset");
  EXPECT_NE(endpoint0(v)["evidence"].dump().find("SNI www.example"), std::string::npos);
}

TEST(Verdict, MitmCertificateIsTlsBlocking) {
  Ep e = https_ep();
  e.tls_failure = "ssl_unknown_authority";
  Keys k;
  k.feature("web", "all").add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "tls");
  EXPECT_EQ(endpoint0(v)["failure"], "ssl_unknown_authority");
}

TEST(Verdict, TlsFailureAlsoAtControlIsDown) {
  Ep e = https_ep();
  e.tls_failure = "ssl_invalid_certificate";
  json answer = control_ok("198.18.1.2:443");
  answer["tls_handshake"]["198.18.1.2:443"] = {{"status", false}, {"failure", "ssl_invalid_certificate"}};
  Keys k;
  k.feature("web", "all").add(e).control("www.example:443", answer);
  EXPECT_EQ(endpoint0(k.verdict())["status"], "down");
}

TEST(Verdict, HttpFailureIsHttpBlocking) {
  Ep e = https_ep();
  e.http_failure = "connection_reset";
  Keys k;
  k.feature("web", "all").add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "http");
  EXPECT_EQ(endpoint0(v)["failure"], "connection_reset");
}

TEST(Verdict, HttpFailureAlsoAtControlIsDown) {
  Ep e = https_ep();
  e.http_failure = "eof_error";
  json answer = control_ok("198.18.1.2:443", -1);
  answer["http_request"]["failure"] = "eof_error";
  Keys k;
  k.feature("web", "all").add(e).control("www.example:443", answer);
  EXPECT_EQ(endpoint0(k.verdict())["status"], "down");
}

TEST(Verdict, HttpStatusDifferentFromControlIsHttpBlocking) {
  Ep e = https_ep();
  e.status_code = 403;
  Keys k;
  k.feature("web", "all").add(e).control("www.example:443", control_ok("198.18.1.2:443", 200));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "http");
  EXPECT_EQ(endpoint0(v)["failure"], "http_unexpected_status_code");

  // Same status as the control: fine, whatever the code.
  Ep same = https_ep();
  same.status_code = 403;
  Keys k2;
  k2.feature("web", "all").add(same).control("www.example:443", control_ok("198.18.1.2:443", 403));
  EXPECT_EQ(endpoint0(k2.verdict())["status"], "ok");

  // Control failed its request (status -1): nothing to compare with.
  Keys k3;
  k3.feature("web", "all").add(e).control("www.example:443", control_ok("198.18.1.2:443", -1));
  EXPECT_EQ(endpoint0(k3.verdict())["status"], "ok");
}

TEST(Verdict, AnswerOutsideKnownNetworksAndConnectFailureIsDnsBlocking) {
  Ep e = tcp_ep();
  e.ip = "198.18.200.7";
  e.tcp_failure = "connection_refused";
  Keys k;
  k.feature("chat", "all").prefixes({"198.18.1.0/24", "2001:db8::/32"}).add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
  EXPECT_EQ(endpoint0(v)["failure"], "connection_refused");
  EXPECT_NE(endpoint0(v)["evidence"].dump().find("outside the service's known networks"), std::string::npos);
}

// Adds hold-on UDP responses (in arrival order) for the endpoint's host and
// links them to endpoint `index` as its dns_udp_transaction_id.
void add_udp_responses(json& keys, std::size_t index, const std::vector<std::pair<std::string, int>>& responses) {
  const int64_t tx = 1000 + static_cast<int64_t>(index);
  for (const auto& [ip, ttl] : responses) {
    format::DnsObservation q;
    q.transaction_id = tx;
    q.engine = "udp";
    q.hostname = keys["x_endpoints"][index]["host"];
    q.query_type = "A";
    q.ip_ttl = ttl;
    q.answers.push_back({"A", ip, "", "", 60});
    keys["queries"].push_back(format::to_json(q));
  }
  keys["x_endpoints"][index]["dns_udp_transaction_id"] = tx;
}

TEST(Verdict, InjectedAnswerRacingTheRealOneIsDnsBlockingWithoutKnownNetworks) {
  Ep e = tcp_ep();
  e.ip = "198.18.4.4";  // the forged answer, which the system resolver took
  e.tcp_failure = "generic_timeout_error";
  Keys k;
  k.feature("chat", "all").add(e);  // no known prefixes: only the race shows it
  add_udp_responses(k.json_(), 0, {{"198.18.4.4", 60}, {"198.18.2.40", 63}});
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
  EXPECT_NE(endpoint0(v)["evidence"].dump().find("2 different DNS responses to one query: 198.18.4.4 (IP TTL 60); 198.18.2.40 (IP TTL 63)"),
            std::string::npos);
}

TEST(Verdict, RepeatedIdenticalResponsesAreNotInjection) {
  Ep e = tcp_ep();
  e.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").add(e);
  add_udp_responses(k.json_(), 0, {{e.ip, 63}, {e.ip, 63}});
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["method"], "tcp_ip");
  EXPECT_EQ(endpoint0(v)["evidence"].dump().find("different DNS responses"), std::string::npos);
}

TEST(Verdict, RaceWhoseLastAnswerIsTheAddressUsedIsNotBlamedOnDns) {
  Ep e = tcp_ep();
  e.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").add(e);
  add_udp_responses(k.json_(), 0, {{"198.18.4.4", 60}, {e.ip, 63}});
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["method"], "tcp_ip");
}

// Review regressions.
TEST(Verdict, AFailedControlQueryIsNoEvidenceAndNoConfidence) {
  Ep e = tcp_ep();
  e.dns_failure = "dns_nxdomain_error";
  Keys k;
  k.feature("chat", "all").add(e).control("chat.example:443", {{"failure", "ssl_unknown_authority"}});
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["evidence"].dump().find("the control resolved it"), std::string::npos);
  EXPECT_EQ(v["confidence"], "medium");
}

TEST(Verdict, UnreachableControlIsSaidSo) {
  Ep e = tcp_ep();
  e.tcp_failure = "generic_timeout_error";
  Keys k;
  k.feature("chat", "all").add(e).control("chat.example:443", {{"failure", "control_unreachable: generic_timeout_error"}});
  k.json_()["x_control"]["unreachable"] = "generic_timeout_error";
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(v["confidence"], "medium");
  EXPECT_EQ(v["confidence_reason"],
            "the control vantage point could not be reached (generic_timeout_error): an outage would look like blocking");
}

TEST(Verdict, LocalDnsFailureIsNotBlamedOnTheNetwork) {
  Ep e = tcp_ep();
  e.dns_failure = "too_many_open_files";
  Keys k;
  k.feature("chat", "all").add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "inconclusive");
  EXPECT_EQ(v["status"], "inconclusive");
}

TEST(Verdict, HugeFloatWhereAnIntegerBelongsIsIgnored) {
  Ep e = tcp_ep();
  Keys k;
  k.feature("chat", "all").add(e);
  k.json_()["x_endpoints"][0]["transaction_id"] = 1e300;  // UB to convert, if it were
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "inconclusive");
}

TEST(Verdict, AnswerOutsideKnownNetworksButWorkingIsOkWithEvidence) {
  Ep e = tcp_ep();
  e.ip = "198.18.200.7";
  Keys k;
  k.feature("chat", "all").prefixes({"198.18.1.0/24"}).add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "ok");
  ASSERT_EQ(endpoint0(v)["evidence"].size(), 1u);
  EXPECT_NE(endpoint0(v)["evidence"][0].get<std::string>().find("198.18.200.7"), std::string::npos);
  EXPECT_EQ(v["status"], "accessible");
}

TEST(Verdict, AnswerInsideKnownNetworksHasNoEvidence) {
  Ep e = tcp_ep();
  e.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").prefixes({"198.18.1.0/24"}).add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["method"], "tcp_ip");
}

Ep download(double kbps) {
  Ep e = https_ep("updates.example", "updates");
  e.throughput = true;
  e.body_bytes = 1 << 20;  // 1 MiB
  e.download_seconds = (e.body_bytes * 8.0 / 1000.0) / kbps;
  return e;
}

TEST(Verdict, ThroughputFarBelowCanaryIsThrottling) {
  Keys k;
  k.feature("updates", "all").canary("ok", 50000).add(download(150));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "throttling");
  EXPECT_NE(endpoint0(v)["evidence"].dump().find("throughput 150 kbit/s, canary 50000 kbit/s"), std::string::npos)
      << endpoint0(v)["evidence"].dump();
  EXPECT_EQ(v["methods"], json::array({"throttling"}));
}

TEST(Verdict, SlowLinkCloseToCanaryIsOk) {
  Keys k;
  k.feature("updates", "all").canary("ok", 1000).add(download(800));
  EXPECT_EQ(endpoint0(k.verdict())["status"], "ok");
}

// Regression (lab, slow_lossy): at 3% loss one 3-second download measured
// 1110 kbit/s while the canary's measured 6447: chance, not a censor.
TEST(Verdict, LossyLinkVarianceIsNotThrottling) {
  Keys k;
  k.feature("updates", "all").canary("ok", 6447).add(download(1110));
  EXPECT_EQ(endpoint0(k.verdict())["status"], "ok");
}

TEST(Verdict, ThroughputNotJudgedWithoutCanaryFigureOrEnoughBytes) {
  Keys k;
  k.feature("updates", "all").canary("ok").add(download(150));
  EXPECT_EQ(endpoint0(k.verdict())["status"], "ok");

  Ep tiny = download(150);
  tiny.body_bytes = 1000;
  Keys k2;
  k2.feature("updates", "all").canary("ok", 50000).add(tiny);
  EXPECT_EQ(endpoint0(k2.verdict())["status"], "ok");

  // Not a throughput endpoint: the speed is not judged.
  Ep plain = download(150);
  plain.throughput = false;
  Keys k3;
  k3.feature("updates", "all").canary("ok", 50000).add(plain);
  EXPECT_EQ(endpoint0(k3.verdict())["status"], "ok");
}

// A large body on a non-throughput endpoint, policed to ~140 kbit/s: the
// request times out mid-body.
Ep policed_download() {
  Ep e = https_ep("chat.example", "messaging");
  e.http_failure = "generic_timeout_error";
  e.body_bytes = 170000;  // ~10 s at 140 kbit/s
  e.download_seconds = 9.7;
  e.stall_seconds = 0.05;
  return e;
}

TEST(Verdict, TimeoutWhileTheBodyStillFlowsSlowlyIsThrottling) {
  Keys k;
  k.feature("messaging", "all").canary("ok", 20000).add(policed_download());
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "throttling");
  EXPECT_NE(endpoint0(v)["evidence"].dump().find("still flowing at 140 kbit/s"), std::string::npos);
}

TEST(Verdict, TimeoutAfterTheBodyStalledStaysATimeout) {
  Ep e = policed_download();
  e.stall_seconds = 6;  // nothing for the last 6 s
  Keys k;
  k.feature("messaging", "all").canary("ok", 20000).add(e);
  EXPECT_EQ(endpoint0(k.verdict())["method"], "http");
  // A fast flow that timed out is not throttling either.
  Ep fast = policed_download();
  fast.body_bytes = 100000000;
  Keys f;
  f.feature("messaging", "all").canary("ok", 20000).add(fast);
  EXPECT_EQ(endpoint0(f.verdict())["method"], "http");
}

TEST(Verdict, SampleEndedOnASlowBodyIsThrottlingOnAnyEndpoint) {
  Ep e = https_ep("chat.example", "messaging");
  e.body_bytes = 52000;  // 3 s at ~140 kbit/s, cut by the time-bounded sample
  e.download_seconds = 3.0;
  e.stall_seconds = 0.01;
  e.download_stopped = "window";
  Keys k;
  k.feature("messaging", "all").canary("ok", 20000).add(e);
  EXPECT_EQ(endpoint0(k.verdict())["method"], "throttling");
  // The same body complete (not cut): a short transfer's rate is not judged.
  e.download_stopped = "";
  Keys complete;
  complete.feature("messaging", "all").canary("ok", 20000).add(e);
  EXPECT_EQ(endpoint0(complete.verdict())["status"], "ok");
}

TEST(Verdict, RequestThroughput) {
  json r{{"failure", nullptr}, {"response", {{"x_body_bytes", 100000}, {"x_download_seconds", 0.5}}}};
  EXPECT_DOUBLE_EQ(request_throughput_kbps(r), 1600.0);
  r["response"]["x_download_seconds"] = 0;
  EXPECT_LT(request_throughput_kbps(r), 0);
  r["response"]["x_download_seconds"] = 0.5;
  r["failure"] = "connection_reset";
  EXPECT_LT(request_throughput_kbps(r), 0);
  EXPECT_LT(request_throughput_kbps(json(nullptr)), 0);
  EXPECT_LT(request_throughput_kbps(json{{"response", "x"}}), 0);
}

TEST(Verdict, CanaryFailedMakesEverythingInconclusive) {
  Ep dns = tcp_ep("a.example");
  dns.dns_failure = "dns_nxdomain_error";
  Ep tcp = tcp_ep("b.example");
  tcp.tcp_failure = "generic_timeout_error";
  Ep tls = https_ep("c.example", "chat");
  tls.tls_failure = "connection_reset";
  Ep ok = tcp_ep("d.example");
  ok.feature = "other";
  Keys k;
  k.feature("chat", "all").feature("other", "any").canary("failed").add(dns).add(tcp).add(tls).add(ok).add(download(10));
  json v = k.verdict();
  EXPECT_EQ(v["status"], "inconclusive");
  EXPECT_EQ(v["canary"], "failed");
  EXPECT_EQ(v["confidence"], "low");
  EXPECT_EQ(v["methods"], json::array());
  for (const auto& e : v["endpoints"]) {
    SCOPED_TRACE(e.dump());
    EXPECT_NE(e["status"], "blocked");
    EXPECT_TRUE(e["method"].is_null());
  }
  for (auto it = v["features"].begin(); it != v["features"].end(); ++it) EXPECT_EQ(it.value()["status"], "inconclusive") << it.key();
  EXPECT_EQ(v["endpoints"][0]["status"], "inconclusive");
  EXPECT_EQ(v["endpoints"][0]["failure"], "dns_nxdomain_error");  // still reported
}

TEST(Verdict, InterruptedEndpointIsInconclusive) {
  Ep e = tcp_ep();
  e.interrupted = true;
  Keys k;
  k.feature("chat", "all").add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "inconclusive");
  EXPECT_EQ(endpoint0(v)["failure"], "interrupted");
  EXPECT_EQ(v["features"]["chat"]["status"], "inconclusive");
  EXPECT_EQ(v["status"], "inconclusive");
}

TEST(Verdict, EndpointWithoutObservationsIsInconclusive) {
  // The plan says transaction 7 but nothing was recorded for it.
  json keys{{"x_features", {{"chat", {{"rule", "all"}}}}},
            {"x_endpoints", {{{"endpoint", "chat.example:443"}, {"chain", "tcp"}, {"feature", "chat"}, {"ip", "198.18.1.2"},
                              {"port", 443}, {"transaction_id", 7}, {"dns_transaction_id", 6}}}}};
  json v = compute_verdict(keys);
  EXPECT_EQ(endpoint0(v)["status"], "inconclusive");
  EXPECT_EQ(v["status"], "inconclusive");

  // An https endpoint whose TCP and TLS steps were recorded but not its request.
  Keys k;
  k.feature("web", "all").add(https_ep());
  k.json_()["requests"] = json::array();
  EXPECT_EQ(endpoint0(k.verdict())["status"], "inconclusive");
}

TEST(Verdict, DnsChainEndpoint) {
  Ep e = tcp_ep("uptime.example");
  e.chain = "dns";
  Keys k;
  k.feature("chat", "all").add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["endpoint"], "uptime.example");
  EXPECT_EQ(endpoint0(v)["status"], "ok");
  EXPECT_TRUE(endpoint0(v)["ip"].is_null());
}

// DNS-only endpoints are judged on the same DNS evidence as the others.
Ep dns_ep(const std::string& ip = "198.18.1.2") {
  Ep e = tcp_ep("dns.example");
  e.chain = "dns";
  e.feature = "dns_service";
  e.ip = ip;
  return e;
}

TEST(Verdict, DnsChainInjectedAnswerIsDnsBlocking) {
  Keys k;
  k.feature("dns_service", "any").add(dns_ep("198.18.4.4"));
  add_udp_responses(k.json_(), 0, {{"198.18.4.4", 60}, {"198.18.1.2", 63}});
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
  EXPECT_NE(endpoint0(v)["evidence"].dump().find("raced the resolver"), std::string::npos);
  EXPECT_EQ(v["status"], "blocked");
}

TEST(Verdict, DnsChainRaceWonByTheRealAnswerIsOk) {
  Keys k;
  k.feature("dns_service", "any").add(dns_ep("198.18.1.2"));
  add_udp_responses(k.json_(), 0, {{"198.18.4.4", 60}, {"198.18.1.2", 63}});
  EXPECT_EQ(endpoint0(k.verdict())["status"], "ok");
}

TEST(Verdict, DnsChainAnswerOutsideKnownNetworksIsDnsBlocking) {
  Keys k;
  k.feature("dns_service", "any").prefixes({"198.18.1.0/24"}).add(dns_ep("198.18.200.7"));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
  EXPECT_NE(endpoint0(v)["evidence"].dump().find("outside the service's known networks"), std::string::npos);
  // Inside the known networks: ok.
  Keys inside;
  inside.feature("dns_service", "any").prefixes({"198.18.1.0/24"}).add(dns_ep("198.18.1.9"));
  EXPECT_EQ(endpoint0(inside.verdict())["status"], "ok");
  // Outside, but the control got the same address: not a lie.
  Keys agreed;
  json answer = control_ok("198.18.200.7:443");
  answer["dns"]["addrs"] = {"198.18.200.7"};
  agreed.feature("dns_service", "any").prefixes({"198.18.1.0/24"}).add(dns_ep("198.18.200.7")).control("dns.example", answer);
  EXPECT_EQ(endpoint0(agreed.verdict())["status"], "ok");
}

TEST(Verdict, DnsChainBogonAnswerIsDnsBlocking) {
  Keys k;
  k.feature("dns_service", "any").add(dns_ep("10.10.34.35"));
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
  EXPECT_EQ(endpoint0(v)["failure"], "dns_bogon_error");
}

TEST(Verdict, RetriedAttemptsAreNotMixedWithTheFinalOne) {
  // First attempt (transaction 2) timed out, the retry (transaction 3) worked.
  Keys k;
  k.feature("chat", "all").add(tcp_ep());
  json& keys = k.json_();
  json first = keys["tcp_connect"][0];
  first["status"] = {{"success", false}, {"failure", "generic_timeout_error"}, {"blocked", nullptr}};
  first["tags"] = {"x_retried"};
  keys["tcp_connect"][0]["transaction_id"] = 3;
  keys["tcp_connect"].push_back(first);
  keys["x_endpoints"][0]["transaction_id"] = 3;
  keys["x_endpoints"][0]["attempts"] = 2;
  EXPECT_EQ(endpoint0(k.verdict())["status"], "ok");
}

// --- feature rules and service status ---

TEST(Verdict, RuleAnyOneOkIsAccessible) {
  Ep bad = tcp_ep("e1.example");
  bad.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "any").add(bad).add(tcp_ep("e2.example"));
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["status"], "accessible");
  EXPECT_EQ(v["features"]["chat"]["endpoints"]["ok"], 1);
  EXPECT_EQ(v["features"]["chat"]["endpoints"]["blocked"], 1);
  EXPECT_EQ(v["features"]["chat"]["methods"], json::array());
  EXPECT_EQ(v["status"], "accessible");
  EXPECT_EQ(v["methods"], json::array());
}

TEST(Verdict, RuleAllOneBlockedIsBlocked) {
  Ep bad = tcp_ep("e1.example");
  bad.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").add(bad).add(tcp_ep("e2.example"));
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["status"], "blocked");
  EXPECT_EQ(v["features"]["chat"]["methods"], json::array({"tcp_ip"}));
  EXPECT_EQ(v["status"], "blocked");
}

TEST(Verdict, RuleAnyAllBlockedIsBlocked) {
  Ep a = tcp_ep("e1.example"), b = tcp_ep("e2.example");
  a.tcp_failure = "connection_reset";
  b.dns_failure = "dns_nxdomain_error";
  Keys k;
  k.feature("chat", "any").add(a).add(b);
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["status"], "blocked");
  EXPECT_EQ(v["features"]["chat"]["methods"], json::array({"dns", "tcp_ip"}));
  EXPECT_EQ(v["methods"], json::array({"dns", "tcp_ip"}));
}

TEST(Verdict, PartiallyBlocked) {
  Ep web = https_ep();
  web.tls_failure = "connection_reset";
  Keys k;
  k.feature("chat", "any").feature("web", "all").add(tcp_ep()).add(web);
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["status"], "accessible");
  EXPECT_EQ(v["features"]["web"]["status"], "blocked");
  EXPECT_EQ(v["status"], "partially_blocked");
  EXPECT_EQ(v["methods"], json::array({"tls"}));
}

// --- per address family ---

Ep at(Ep e, const std::string& ip) {
  e.ip = ip;
  return e;
}

// A censor that resets Signal's chat over IPv4 only: an app on this network
// works over IPv6. Judged as one pool of endpoints (the old verdict), the
// "any" rule found the IPv6 one working and called the feature accessible.
TEST(Verdict, BlockedOverIpv4AccessibleOverIpv6IsPartiallyBlocked) {
  Ep v4 = at(https_ep("chat.example", "chat"), "198.18.2.40");
  v4.tls_failure = "connection_reset";
  Ep v6 = at(https_ep("chat.example", "chat"), "2001:2:0:2::40");
  Keys k;
  k.feature("chat", "any").feature("web", "all").add(v4).add(v6).add(at(https_ep(), "198.18.2.41"));
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["status"], "partially_blocked");
  EXPECT_EQ(v["features"]["chat"]["methods"], json::array({"tls"}));
  EXPECT_EQ(v["features"]["chat"]["families"], json({{"ipv4", "blocked"}, {"ipv6", "accessible"}}));
  EXPECT_EQ(v["features"]["web"]["families"], json({{"ipv4", "accessible"}}));  // no IPv6 address measured
  EXPECT_EQ(v["status"], "partially_blocked");
  EXPECT_EQ(v["methods"], json::array({"tls"}));
  EXPECT_EQ(v["families"], json({{"ipv4", "partially_blocked"}, {"ipv6", "accessible"}}));
  EXPECT_EQ(v["endpoints"][0]["family"], "ipv4");
  EXPECT_EQ(v["endpoints"][1]["family"], "ipv6");
  // The same with "all": the IPv6 endpoint alone decides its family.
  Keys all;
  all.feature("chat", "all").add(v4).add(v6);
  EXPECT_EQ(all.verdict()["features"]["chat"]["status"], "partially_blocked");
  EXPECT_EQ(all.verdict()["status"], "partially_blocked");
}

TEST(Verdict, BlockedOverBothFamiliesIsBlocked) {
  Ep v4 = at(tcp_ep(), "198.18.2.40"), v6 = at(tcp_ep(), "2001:2:0:2::40");
  v4.tcp_failure = "connection_reset";
  v6.tcp_failure = "generic_timeout_error";
  Keys k;
  k.feature("chat", "any").add(v4).add(v6);
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["status"], "blocked");
  EXPECT_EQ(v["features"]["chat"]["families"], json({{"ipv4", "blocked"}, {"ipv6", "blocked"}}));
  EXPECT_EQ(v["status"], "blocked");
  EXPECT_EQ(v["families"], json({{"ipv4", "blocked"}, {"ipv6", "blocked"}}));
}

TEST(Verdict, BlockedOverIpv6OnlyIsPartiallyBlockedWithIpv6Method) {
  Ep v6 = at(tcp_ep(), "2001:2:0:2::40");
  v6.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").add(at(tcp_ep(), "198.18.2.40")).add(v6);
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["status"], "partially_blocked");
  EXPECT_EQ(v["features"]["chat"]["methods"], json::array({"tcp_ip"}));
  EXPECT_EQ(v["families"], json({{"ipv4", "accessible"}, {"ipv6", "blocked"}}));
}

// A name whose lookup failed has no address and no family: DNS stops both
// families, so it counts in each one the measurement measured.
TEST(Verdict, AnEndpointWithoutAddressCountsInEveryFamily) {
  Ep nx = tcp_ep("e1.example");
  nx.dns_failure = "dns_nxdomain_error";
  Keys k;
  k.feature("chat", "all").add(nx).add(at(tcp_ep("e2.example"), "2001:2:0:2::41"));
  json v = k.verdict();
  EXPECT_EQ(v["features"]["chat"]["families"], json({{"ipv4", "blocked"}, {"ipv6", "blocked"}}));
  EXPECT_EQ(v["features"]["chat"]["status"], "blocked");
  EXPECT_TRUE(v["endpoints"][0]["family"].is_null());
  // IPv4 only when nothing was measured over IPv6 and the probe did not find it usable...
  Keys only;
  only.feature("chat", "all").add(nx);
  EXPECT_EQ(only.verdict()["features"]["chat"]["families"], json({{"ipv4", "blocked"}}));
  // ...and both when it did (x_ipv6), even if no name had an address.
  only.json_()["x_ipv6"] = {{"usable", true}, {"reason", nullptr}, {"addresses", 0}};
  EXPECT_EQ(only.verdict()["features"]["chat"]["families"], json({{"ipv4", "blocked"}, {"ipv6", "blocked"}}));
}

TEST(Verdict, CombineFamilies) {
  EXPECT_EQ(combine_families("", "blocked"), "blocked");
  EXPECT_EQ(combine_families("accessible", ""), "accessible");
  EXPECT_EQ(combine_families("blocked", "blocked"), "blocked");
  EXPECT_EQ(combine_families("blocked", "accessible"), "partially_blocked");
  EXPECT_EQ(combine_families("accessible", "blocked"), "partially_blocked");
  EXPECT_EQ(combine_families("blocked", "down"), "blocked");
  EXPECT_EQ(combine_families("inconclusive", "blocked"), "blocked");
  EXPECT_EQ(combine_families("accessible", "down"), "accessible");
  EXPECT_EQ(combine_families("inconclusive", "accessible"), "accessible");
  EXPECT_EQ(combine_families("down", "inconclusive"), "inconclusive");
  EXPECT_EQ(combine_families("down", "down"), "down");
}

// A catalog that lists only IPv4 networks says nothing about IPv6 answers.
TEST(Verdict, KnownNetworksAreJudgedPerFamily) {
  Ep v6 = at(tcp_ep(), "2001:2:0:2::40");
  v6.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").prefixes({"198.18.2.0/24"}).add(v6);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["method"], "tcp_ip");  // not dns: the answer is not suspect
  Keys both;
  both.feature("chat", "all").prefixes({"198.18.2.0/24", "2001:2:0:3::/64"}).add(v6);
  EXPECT_EQ(endpoint0(both.verdict())["method"], "dns");  // outside the IPv6 networks listed
}

// The service table (reports/README.md), every combination of which feature
// statuses occur: accessible, blocked, down, inconclusive.
TEST(Verdict, ServiceStatusTable) {
  struct Row {
    bool a, b, d, i;
    const char* status;
  };
  const Row table[] = {
      // accessible blocked down inconclusive -> service
      {false, false, false, false, "inconclusive"},
      {true, false, false, false, "accessible"},
      {false, true, false, false, "blocked"},
      {true, true, false, false, "partially_blocked"},
      {false, false, true, false, "down"},
      {true, false, true, false, "down"},
      {false, true, true, false, "partially_blocked"},
      {true, true, true, false, "partially_blocked"},
      {false, false, false, true, "inconclusive"},
      {true, false, false, true, "inconclusive"},
      {false, true, false, true, "partially_blocked"},
      {true, true, false, true, "partially_blocked"},
      {false, false, true, true, "inconclusive"},
      {true, false, true, true, "inconclusive"},
      {false, true, true, true, "partially_blocked"},
      {true, true, true, true, "partially_blocked"},
  };
  for (const Row& r : table)
    for (int n : {1, 3}) {  // only which statuses occur matters, not how often
      SCOPED_TRACE(std::string("a=") + (r.a ? "1" : "0") + " b=" + (r.b ? "1" : "0") + " d=" + (r.d ? "1" : "0") +
                   " i=" + (r.i ? "1" : "0") + " n=" + std::to_string(n));
      FeatureCounts c{r.a ? n : 0, r.b ? n : 0, r.d ? n : 0, r.i ? n : 0};
      EXPECT_EQ(service_status(c), r.status);
      EXPECT_EQ(service_status(c, /*canary_ok=*/false), "inconclusive");
      // A feature blocked over one family only makes any service partially blocked.
      c.partially_blocked = n;
      EXPECT_EQ(service_status(c), "partially_blocked");
      EXPECT_EQ(service_status(c, /*canary_ok=*/false), "inconclusive");
    }
  EXPECT_EQ(service_status(FeatureCounts{0, 0, 0, 0, 1}), "partially_blocked");
}

// An outage that left DNS working: every connection feature is down for the
// control too, the DNS-only feature resolves. The service is down, never
// accessible.
TEST(Verdict, OutageWithWorkingDnsOnlyFeatureIsDown) {
  Ep dns = tcp_ep("dns.example");
  dns.chain = "dns";
  dns.feature = "dns_service";
  Ep chat = tcp_ep();
  chat.tcp_failure = "generic_timeout_error";
  chat.attempts = 2;
  Keys k;
  k.feature("dns_service", "any").feature("chat", "any").add(dns).add(chat).control(
      "chat.example:443", {{"tcp_connect", {{"198.18.1.2:443", {{"status", false}, {"failure", "generic_timeout_error"}}}}}});
  json v = k.verdict();
  EXPECT_EQ(v["features"]["dns_service"]["status"], "accessible");
  EXPECT_EQ(v["features"]["chat"]["status"], "down");
  EXPECT_EQ(v["status"], "down");
}

TEST(Verdict, InconclusiveFeatureMakesServiceInconclusive) {
  Ep e = tcp_ep("b.example");
  e.feature = "web";
  e.interrupted = true;
  Keys k;
  k.feature("chat", "any").feature("web", "all").add(tcp_ep()).add(e);
  EXPECT_EQ(k.verdict()["status"], "inconclusive");
}

TEST(Verdict, JudgedFalseEndpointsAreIgnored) {
  Ep uptime = tcp_ep("uptime.example");
  uptime.dns_failure = "dns_nxdomain_error";
  uptime.judged = false;
  Keys k;
  k.feature("chat", "all").add(uptime).add(tcp_ep());
  json v = k.verdict();
  EXPECT_EQ(v["status"], "accessible");
  EXPECT_EQ(v["features"]["chat"]["endpoints"]["blocked"], 0);
  EXPECT_EQ(v["endpoints"][0]["judged"], false);
  EXPECT_EQ(v["endpoints"][0]["status"], "blocked");  // still described
  EXPECT_FALSE(v["endpoints"][1].contains("judged"));
}

TEST(Verdict, UnjudgedFeatureIsLeftOut) {
  Ep e = tcp_ep();
  e.feature = "uptime";
  e.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "all").feature("uptime", "all", false).add(tcp_ep("ok.example")).add(e);
  json v = k.verdict();
  EXPECT_FALSE(v["features"].contains("uptime"));
  EXPECT_EQ(v["status"], "accessible");
}

TEST(Verdict, NoFeaturesIsInconclusive) {
  Keys k;
  k.add(tcp_ep());
  EXPECT_EQ(k.verdict()["status"], "inconclusive");
}

// --- malformed input ---

TEST(Verdict, MalformedInputNeverThrows) {
  const std::vector<json> inputs = {
      nullptr,
      json::array(),
      json::object(),
      "text",
      42,
      json{{"x_endpoints", json::object()}},
      json{{"x_endpoints", {nullptr, 1, "x", json::array()}}},
      json{{"x_endpoints", {{{"endpoint", 5}, {"transaction_id", "7"}, {"dns_transaction_id", nullptr}}}},
           {"x_features", {{"chat", "any"}}}},
      json{{"x_endpoints", {{{"endpoint", "a:1"}, {"feature", "chat"}, {"transaction_id", 1}, {"ip", 7}, {"port", "x"}}}},
           {"x_features", {{"chat", {{"rule", 1}}}}},
           {"tcp_connect", {{{"transaction_id", 1}, {"status", "broken"}}}},
           {"tls_handshakes", {nullptr, {{"transaction_id", 1}, {"failure", 3}}}},
           {"requests", {{{"transaction_id", 1}, {"response", json::array()}}}},
           {"queries", json::object()},
           {"x_networks", {{"prefixes", "198.18.0.0/15"}}},
           {"x_canary", json::array()},
           {"x_control", {{"url", 1}, {"answers", {{"a:1", {{"dns", "x"}, {"tcp_connect", {{"7:1", "x"}}}, {"http_request", 1}}}}}}}},
      json{{"x_endpoints", {{{"endpoint", "a:1"}, {"feature", "chat"}, {"transaction_id", 1}, {"dns_transaction_id", 1}}}},
           {"x_features", {{"chat", {{"rule", "any"}}}}},
           {"queries", {{{"transaction_id", 1}, {"engine", "getaddrinfo"}, {"answers", {1, "x", nullptr}}}}},
           {"x_canary", {{"status", 5}, {"throughput_kbps", "fast"}}},
           {"x_control", nullptr}},
  };
  for (const auto& in : inputs) {
    SCOPED_TRACE(in.dump());
    json v;
    ASSERT_NO_THROW(v = compute_verdict(in));
    EXPECT_EQ(v["status"], "inconclusive");
    for (const auto& e : v["endpoints"]) EXPECT_NE(e["status"], "blocked");
  }
}

TEST(Verdict, MissingPlanGivesInconclusiveEndpoint) {
  // An endpoint that names no transaction at all.
  json keys{{"x_features", {{"chat", {{"rule", "all"}}}}},
            {"x_endpoints", {{{"endpoint", "chat.example:443"}, {"chain", "tcp"}, {"feature", "chat"}}}},
            {"tcp_connect", {{{"ip", "198.18.1.2"}, {"port", 443}, {"status", {{"success", true}, {"failure", nullptr}}}}}}};
  json v = compute_verdict(keys);
  EXPECT_EQ(endpoint0(v)["status"], "inconclusive");

  // A DNS failure recorded without a transaction id belongs to no endpoint:
  // it must not be blamed on one that has no dns_transaction_id either.
  keys["queries"] = {{{"engine", "getaddrinfo"}, {"hostname", "other.example"}, {"failure", "dns_nxdomain_error"}}};
  v = compute_verdict(keys);
  EXPECT_EQ(endpoint0(v)["status"], "inconclusive");
  EXPECT_TRUE(endpoint0(v)["method"].is_null());
}

// --- re-scoring from disk ---

TEST(Verdict, SameAfterJsonRoundTrip) {
  Ep dns = tcp_ep("a.example");
  dns.dns_failure = "dns_nxdomain_error";
  Ep tcp = tcp_ep("b.example", 5222);
  tcp.tcp_failure = "generic_timeout_error";
  tcp.attempts = 2;
  Ep tls = https_ep("c.example");
  tls.tls_failure = "ssl_unknown_authority";
  Ep status = https_ep("d.example");
  status.status_code = 451;
  Ep outside = tcp_ep("e.example");
  outside.ip = "198.18.99.1";
  Ep down = tcp_ep("f.example");
  down.tcp_failure = "connection_refused";
  Ep unjudged = tcp_ep("g.example");
  unjudged.judged = false;
  unjudged.tcp_failure = "connection_reset";
  Keys k;
  k.feature("chat", "any")
      .feature("web", "all")
      .feature("updates", "all")
      .prefixes({"198.18.1.0/24"})
      .canary("ok", 40000.5)
      .add(dns)
      .add(tcp)
      .add(tls)
      .add(status)
      .add(outside)
      .add(down)
      .add(unjudged)
      .add(tcp_ep("h.example"))
      .add(download(123.456))
      .control("d.example:443", control_ok("198.18.1.2:443", 200))
      .control("f.example:443", {{"tcp_connect", {{"198.18.1.2:443", {{"status", false}, {"failure", "connection_refused"}}}}}});
  json before = k.verdict();
  json reread = json::parse(k.json_().dump());
  json after = compute_verdict(reread);
  EXPECT_EQ(before, after) << before.dump(1) << "\n---\n" << after.dump(1);
  // The verdict stored with the measurement does not change a re-score.
  reread["x_verdict"] = before;
  EXPECT_EQ(compute_verdict(json::parse(reread.dump())), before);
  // And the case mix really covered several outcomes.
  std::set<std::string> statuses;
  for (const auto& e : before["endpoints"]) statuses.insert(e["status"].get<std::string>() + "/" + e["method"].dump());
  EXPECT_GE(statuses.size(), 6u) << before["endpoints"].dump(1);
}

// --- an endpoint reached by address (no DNS step) ---

// Telegram's data centres are IP literals: nothing is looked up, so DNS
// evidence, even if a measurement carries some for that "name", never
// decides them, and an address outside the known networks is not a suspect
// answer: it is the catalog's own.
TEST(Verdict, AnAddressLiteralIsJudgedFromTcpNotDns) {
  Ep e = tcp_ep("149.154.175.50", 80);
  e.ip = "149.154.175.50";
  e.feature = "dc";
  e.tcp_failure = "generic_timeout_error";
  Keys k;
  k.feature("dc", "any").prefixes({"198.18.1.0/24"}).add(e);
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "tcp_ip");
  EXPECT_EQ(endpoint0(v)["failure"], "generic_timeout_error");
  EXPECT_EQ(endpoint0(v)["evidence"].dump().find("DNS"), std::string::npos) << endpoint0(v)["evidence"].dump();
}

TEST(Verdict, AnAddressLiteralIsNeverDnsBlockedOrDnsInconclusive) {
  for (const char* dns_failure : {"dns_nxdomain_error", "too_many_open_files"}) {
    Ep e = tcp_ep("149.154.167.51", 443);
    e.ip = "149.154.167.51";
    e.feature = "dc";
    Keys k;
    k.feature("dc", "any").add(e);
    // A lookup of the literal recorded as failed and linked to it (a stray
    // record: the engine makes none): it never happened, so it is no evidence.
    k.json_()["queries"][0]["failure"] = dns_failure;
    add_udp_responses(k.json_(), 0, {{"198.18.4.4", 60}, {"149.154.167.51", 50}});
    json v = k.verdict();
    EXPECT_EQ(endpoint0(v)["status"], "ok") << dns_failure << " " << endpoint0(v).dump();
    EXPECT_EQ(v["features"]["dc"]["status"], "accessible") << dns_failure;
  }
}

TEST(Verdict, ANameIsStillJudgedOnItsDns) {
  Ep e = tcp_ep("web.example", 443);
  Keys k;
  k.feature("web", "all").add(e);
  k.json_()["queries"][0]["failure"] = "dns_nxdomain_error";
  json v = k.verdict();
  EXPECT_EQ(endpoint0(v)["status"], "blocked");
  EXPECT_EQ(endpoint0(v)["method"], "dns");
}

}  // namespace
}  // namespace vantage::analysis
