// Scoring: OONI's example measurements, a hand-made measurement for each
// known trap of OONI's rules, and Vantage measurements.
#include "analysis/score/score.h"

#include <gtest/gtest.h>

#include <fstream>

namespace vantage::analysis {
namespace {

using nlohmann::json;

json example(const std::string& name) {
  std::ifstream in(std::string(VANTAGE_SOURCE_DIR) + "/reports/format/tests/data/ooni-examples/" + name);
  EXPECT_TRUE(in.good()) << name;
  return json::parse(in, nullptr, false);
}

TEST(ScoreOoniExamples, AllFourAreAccessibleFromRawObservations) {
  for (const char* name : {"whatsapp-0.10.0.json", "signal-0.2.5.json", "telegram-0.3.0.json"}) {
    Score s = score_measurement(example(name));
    EXPECT_EQ(s.verdict, "accessible") << name;
    EXPECT_NE(s.scoring_rule.find("-raw"), std::string::npos) << name << " " << s.scoring_rule;
    EXPECT_EQ(s.scoring_rule.find('+'), std::string::npos) << "no trap applies to " << name;
  }
  Score fb = score_measurement(example("facebook_messenger-0.4.0.json"));
  EXPECT_EQ(fb.verdict, "accessible");
  EXPECT_EQ(fb.scoring_rule, "ooni-facebook_messenger-0.4-keys");
  Score wa = score_measurement(example("whatsapp-0.10.0.json"));
  EXPECT_EQ(wa.scoring_rule, "ooni-whatsapp-0.10-raw");
  EXPECT_EQ(wa.features.size(), 3u);
}

TEST(ScoreWhatsapp, FailedWebRequestIsBlockedWithItsMethod) {
  json m = example("whatsapp-0.10.0.json");
  for (auto& r : m["test_keys"]["requests"])
    if (r["request"]["url"] == "https://web.whatsapp.com/") r["failure"] = "connection_reset", r.erase("response");
  Score s = score_measurement(m);
  EXPECT_EQ(s.verdict, "partially_blocked");
  EXPECT_EQ(s.features["web"].status, "blocked");
  EXPECT_EQ(s.features["messaging"].status, "accessible");
}

// A feature blocked over one address family and accessible over the other
// (x_verdict.features.<f>.families) makes the service partially blocked,
// with that feature's methods.
TEST(ScoreCombine, AFeatureBlockedOverOneFamilyIsPartiallyBlocked) {
  EXPECT_EQ(combine_statuses({"partially_blocked"}), "partially_blocked");
  EXPECT_EQ(combine_statuses({"accessible", "partially_blocked"}), "partially_blocked");
  EXPECT_EQ(combine_statuses({"inconclusive", "partially_blocked"}), "partially_blocked");
  Score s = score_recorded_verdict(json{{"status", "partially_blocked"}, {"methods", {"tls"}},
                                        {"features", {{"messaging", {{"status", "partially_blocked"}, {"methods", {"tls"}}}},
                                                      {"contacts", {{"status", "accessible"}, {"methods", json::array()}}}}}});
  EXPECT_EQ(s.verdict, "partially_blocked");
  EXPECT_EQ(s.features["messaging"].status, "partially_blocked");
  EXPECT_EQ(s.methods, std::vector<std::string>{"tls"});
}

TEST(ScoreWhatsappTrap, Port5222OutageOfJanuary2026IsNotBlocking) {
  json m = example("whatsapp-0.10.0.json");
  m["measurement_start_time"] = "2026-01-15 10:00:00";
  json& tcp = m["test_keys"]["tcp_connect"];
  json only5222 = json::array();
  for (auto c : tcp) {
    c["port"] = 5222;
    c["status"] = {{"success", false}, {"failure", "connection_refused"}};
    only5222.push_back(c);
  }
  tcp = only5222;
  Score s = score_measurement(m);
  EXPECT_EQ(s.features["messaging"].status, "inconclusive");
  EXPECT_NE(s.scoring_rule.find("+whatsapp-5222-outage-2026-01"), std::string::npos) << s.scoring_rule;
  EXPECT_EQ(s.verdict, "inconclusive");
  // The same observations outside the outage are blocking.
  m["measurement_start_time"] = "2026-03-15 10:00:00";
  s = score_measurement(m);
  EXPECT_EQ(s.features["messaging"].status, "blocked");
  EXPECT_EQ(s.features["messaging"].methods, std::vector<std::string>{"tcp_ip"});
}

TEST(ScoreWhatsappTrap, Http403FromWebWhatsappIsReachedNotBlocked) {
  json m = example("whatsapp-0.10.0.json");
  for (auto& r : m["test_keys"]["requests"])
    if (r["request"]["url"] == "https://web.whatsapp.com/") {
      r["request"]["url"] = "http://web.whatsapp.com/";
      r["response"]["code"] = 403;
    }
  m["test_keys"]["whatsapp_web_status"] = "blocked";
  Score s = score_measurement(m);
  EXPECT_EQ(s.features["web"].status, "accessible");
  EXPECT_NE(s.scoring_rule.find("+whatsapp-web-http-403"), std::string::npos);
  // An old measurement with only the keys: blocked without a failure is a
  // status-code judgement, not evidence.
  json old = {{"test_name", "whatsapp"}, {"test_version", "0.6.0"}, {"measurement_start_time", "2021-05-01 00:00:00"},
              {"test_keys", {{"whatsapp_web_status", "blocked"}, {"whatsapp_web_failure", nullptr},
                             {"registration_server_status", "ok"}, {"whatsapp_endpoints_status", "ok"}}}};
  s = score_measurement(old);
  EXPECT_EQ(s.features["web"].status, "inconclusive");
  EXPECT_EQ(s.scoring_rule, "ooni-whatsapp-0.6-keys+whatsapp-web-http-403");
}

TEST(ScoreSignalTrap, RetiredEndpointsAfterNovember2023AreNotJudged) {
  json m = example("signal-0.2.5.json");
  m["test_version"] = "0.2.3";
  m["measurement_start_time"] = "2023-12-01 10:00:00";
  m["test_keys"]["requests"].push_back({{"request", {{"url", "https://textsecure-service.whispersystems.org/"}}},
                                        {"failure", "dns_nxdomain_error"}});
  m["test_keys"]["signal_backend_status"] = "blocked";
  Score s = score_measurement(m);
  EXPECT_EQ(s.verdict, "accessible");
  EXPECT_NE(s.scoring_rule.find("+signal-retired-endpoints-2023-11"), std::string::npos);
  // Before the retirement the same failure is blocking.
  m["measurement_start_time"] = "2023-06-01 10:00:00";
  s = score_measurement(m);
  EXPECT_EQ(s.features["messaging"].status, "blocked");
  EXPECT_EQ(s.features["messaging"].methods, std::vector<std::string>{"dns"});
  EXPECT_EQ(s.verdict, "partially_blocked");
}

TEST(ScoreSignalTrap, SfuCaChangeOfOctober2022IsNotBlockingForOldVersions) {
  json m = example("signal-0.2.5.json");
  m["test_version"] = "0.2.1";
  m["measurement_start_time"] = "2022-10-25 10:00:00";
  for (auto& r : m["test_keys"]["requests"])
    if (r["request"]["url"] == "https://sfu.voip.signal.org/") r["failure"] = "ssl_unknown_authority", r.erase("response");
  Score s = score_measurement(m);
  EXPECT_EQ(s.features["calls"].status, "inconclusive");
  EXPECT_NE(s.scoring_rule.find("+signal-sfu-ca-2022-10"), std::string::npos);
  EXPECT_EQ(s.verdict, "inconclusive");
  // A version that knows the new CA: a certificate failure is TLS blocking.
  m["test_version"] = "0.2.5";
  s = score_measurement(m);
  EXPECT_EQ(s.features["calls"].status, "blocked");
  EXPECT_EQ(s.features["calls"].methods, std::vector<std::string>{"tls"});
}

TEST(ScoreSignal, KeysOnlyMeasurementsUseBackendStatus) {
  json m = {{"test_name", "signal"}, {"test_version", "0.2.5"}, {"measurement_start_time", "2024-01-01 00:00:00"},
            {"test_keys", {{"signal_backend_status", "blocked"}, {"signal_backend_failure", "connection_reset"}}}};
  Score s = score_measurement(m);
  EXPECT_EQ(s.verdict, "blocked");
  EXPECT_EQ(s.scoring_rule, "ooni-signal-0.2-keys");
}

TEST(ScoreTelegram, AllDataCentresUnreachableIsTcpBlocking) {
  json m = example("telegram-0.3.0.json");
  for (auto& c : m["test_keys"]["tcp_connect"]) c["status"] = {{"success", false}, {"failure", "generic_timeout_error"}};
  Score s = score_measurement(m);
  EXPECT_EQ(s.features["messaging"].status, "blocked");
  EXPECT_EQ(s.features["messaging"].methods, std::vector<std::string>{"tcp_ip"});
  EXPECT_EQ(s.features["web"].status, "accessible");
  EXPECT_EQ(s.verdict, "partially_blocked");
}

TEST(ScoreFacebook, DnsBlockingKey) {
  json m = example("facebook_messenger-0.4.0.json");
  m["test_keys"]["facebook_dns_blocking"] = true;
  Score s = score_measurement(m);
  EXPECT_EQ(s.verdict, "blocked");
  EXPECT_EQ(s.methods, std::vector<std::string>{"dns"});
}

TEST(ScoreUnscorable, NeverAccessible) {
  EXPECT_EQ(score_measurement(json("x")).verdict, "unscorable");
  EXPECT_EQ(score_measurement(json{{"test_name", "whatsapp"}}).verdict, "unscorable");
  EXPECT_EQ(score_measurement(json{{"test_name", "whatsapp"}, {"test_keys", json::object()}}).verdict, "unscorable");
  EXPECT_EQ(score_measurement(json{{"test_name", "web_connectivity"}, {"test_keys", json::object()}}).verdict,
            "unscorable");
  EXPECT_EQ(score_measurement(json{{"test_name", "signal"}, {"test_keys", {{"signal_backend_status", nullptr}}}}).verdict,
            "unscorable");
  EXPECT_EQ(score_measurement(json{{"test_name", "facebook_messenger"}, {"test_keys", json::object()}}).verdict,
            "unscorable");
  // A Vantage measurement whose plan judged nothing.
  EXPECT_EQ(score_measurement(json{{"test_name", "whatsapp"},
                                   {"test_keys", {{"x_endpoints", json::array()}, {"x_features", json::object()}}}})
                .verdict,
            "unscorable");
}

// A Vantage measurement: one WhatsApp messaging endpoint, TCP refused.
json vantage_measurement(bool refused) {
  json tcp = {{"ip", "198.18.5.1"}, {"port", 443}, {"transaction_id", 1},
              {"status", {{"success", !refused}, {"failure", refused ? json("connection_refused") : json(nullptr)}}}};
  return {{"test_name", "whatsapp"},
          {"software_name", "vantage"},
          {"measurement_start_time", "2026-11-20 10:00:00"},
          {"test_keys",
           {{"x_features", {{"messaging", {{"rule", "any"}}}}},
            {"x_canary", {{"status", "ok"}}},
            {"x_endpoints",
             {{{"endpoint", "e1.whatsapp.net:443"}, {"host", "e1.whatsapp.net"}, {"ip", "198.18.5.1"},
               {"port", 443}, {"feature", "messaging"}, {"chain", "tcp"}, {"transaction_id", 1}}}},
            {"tcp_connect", {tcp}},
            {"queries", json::array()}}}};
}

TEST(ScoreVantage, RecomputesTheProbesVerdict) {
  Score s = score_measurement(vantage_measurement(true));
  EXPECT_EQ(s.scoring_rule, "vantage-verdict");
  EXPECT_EQ(s.verdict, "blocked");
  EXPECT_EQ(s.features["messaging"].methods, std::vector<std::string>{"tcp_ip"});
  s = score_measurement(vantage_measurement(false));
  EXPECT_EQ(s.verdict, "accessible");
  json x = to_x_analysis(s);
  EXPECT_EQ(x["service_verdict"], "accessible");
  EXPECT_EQ(x["features"]["messaging"]["status"], "accessible");
}

TEST(ScoreMethod, FromFailureAndStep) {
  EXPECT_EQ(method_of_failure("dns_nxdomain_error", ""), "dns");
  EXPECT_EQ(method_of_failure("connection_reset", "tls_handshake"), "tls");
  EXPECT_EQ(method_of_failure("generic_timeout_error", "connect"), "tcp_ip");
  EXPECT_EQ(method_of_failure("ssl_invalid_hostname", ""), "tls");
  EXPECT_EQ(method_of_failure("connection_reset", ""), "http");
}

}  // namespace
}  // namespace vantage::analysis
