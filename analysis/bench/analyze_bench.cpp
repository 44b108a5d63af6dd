// Benchmark helpers for vantage-analyze (run by analysis/bench/analyze_bench.sh):
//   analyze_bench gen --count N --out FILE [--seed S]
//       a corpus of Vantage measurements: 40 networks in 12 countries, 30
//       days, whatsapp/signal/wechat, 2-10 endpoints each with DNS, TCP,
//       TLS and HTTP observations, bodies of 0-600 bytes, verdicts that
//       change over time per network (1-9 kB a line, ~4 kB on average:
//       smaller than the probe's real ones, 50-100 kB, so that a million
//       fit a benchmark run);
//   analyze_bench parse FILE
//       simdjson's own full parse of every line (DOM, parse_many), the
//       "raw parse speed" the tool is compared with.
// Prints figures; asserts nothing.
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

using nlohmann::json;

namespace {

struct Net {
  std::string cc, asn, name;
};

std::vector<Net> make_networks() {
  const char* ccs[] = {"IR", "RU", "CN", "TR", "PK", "EG", "VE", "BY", "KZ", "MM", "DE", "US"};
  std::vector<Net> out;
  for (int i = 0; i < 40; ++i)
    out.push_back({ccs[i % 12], "AS" + std::to_string(10000 + i * 377), "Network " + std::to_string(i) + " Ltd"});
  return out;
}

const char* kFailures[] = {"connection_reset", "generic_timeout_error", "dns_nxdomain_error", "connection_refused",
                           "ssl_invalid_hostname"};
const char* kMethods[] = {"tcp_ip", "tcp_ip", "dns", "tcp_ip", "tls"};

json measurement(std::mt19937_64& rng, const Net& net, int day, int service, bool blocked_regime) {
  static const char* names[] = {"whatsapp", "signal", "wechat"};
  static const std::vector<std::vector<std::string>> features = {
      {"messaging", "registration", "web"}, {"messaging", "contacts", "calls", "storage", "updates"},
      {"messaging", "short_link", "dns_service", "web"}};
  std::uniform_int_distribution<int> pct(0, 99);
  const int endpoints = 2 + static_cast<int>(rng() % 9);
  const bool blocked = blocked_regime ? pct(rng) < 90 : pct(rng) < 3;
  const int how = static_cast<int>(rng() % 5);
  json queries = json::array(), tcp = json::array(), tls = json::array(), requests = json::array(),
       events = json::array(), x_endpoints = json::array(), v_endpoints = json::array();
  const auto& feats = features[service];
  std::string blocked_feature = feats[rng() % feats.size()];
  for (int e = 0; e < endpoints; ++e) {
    const std::string feature = feats[e % feats.size()];
    const std::string host = "e" + std::to_string(e) + "." + names[service] + ".example";
    const std::string ip = "198.18." + std::to_string(2 + e % 3) + "." + std::to_string(10 + e);
    const bool fail = blocked && feature == blocked_feature;
    const int tx = e + 1;
    queries.push_back({{"engine", "udp"}, {"resolver_address", "198.18.3.53:53"}, {"hostname", host},
                       {"query_type", "A"}, {"failure", nullptr}, {"rcode", 0}, {"t0", 0.001 * e}, {"t", 0.02 + 0.001 * e},
                       {"transaction_id", 1000 + e}, {"tags", json::array()}, {"x_ip_ttl", 60},
                       {"answers", {{{"answer_type", "A"}, {"ipv4", ip}, {"ttl", 300}, {"asn", 32934}, {"as_org_name", "Example"}}}}});
    tcp.push_back({{"ip", ip}, {"port", 443}, {"t0", 0.03}, {"t", 0.05}, {"transaction_id", tx}, {"tags", json::array()},
                   {"status", {{"success", !fail}, {"failure", fail ? json(kFailures[how]) : json(nullptr)}, {"blocked", fail}}}});
    events.push_back({{"operation", "connect"}, {"address", ip + ":443"}, {"proto", "tcp"}, {"t", 0.05}, {"transaction_id", tx},
                      {"failure", fail ? json(kFailures[how]) : json(nullptr)}});
    if (e % 3 == 0) {
      tls.push_back({{"network", "tcp"}, {"address", ip + ":443"}, {"server_name", host}, {"cipher_suite", "TLS_AES_128_GCM_SHA256"},
                     {"tls_version", "TLSv1.3"}, {"negotiated_protocol", "h2"}, {"no_tls_verify", false},
                     {"failure", nullptr}, {"t0", 0.05}, {"t", 0.09}, {"transaction_id", tx}, {"tags", json::array()},
                     {"peer_certificates", {{{"format", "base64"}, {"data", std::string(200 + rng() % 400, 'M')}}}}});
      requests.push_back({{"network", "tcp"}, {"address", ip + ":443"}, {"alpn", "h2"}, {"failure", nullptr},
                          {"t0", 0.09}, {"t", 0.2}, {"transaction_id", tx}, {"tags", json::array()},
                          {"request", {{"url", "https://" + host + "/"}, {"method", "GET"}, {"headers", {{"Accept", "*/*"}}}, {"body", ""}, {"body_is_truncated", false}}},
                          {"response", {{"code", 200}, {"headers", {{"Content-Type", "text/html"}}},
                                        {"body", std::string(rng() % 600, 'x')}, {"body_is_truncated", false}}}});
    }
    x_endpoints.push_back({{"endpoint", host + ":443"}, {"host", host}, {"port", 443}, {"ip", ip}, {"chain", "tcp"},
                           {"feature", feature}, {"judged", true}, {"transaction_id", tx}, {"attempts", 1}});
    v_endpoints.push_back({{"endpoint", host + ":443"}, {"ip", ip}, {"feature", feature}, {"status", fail ? "blocked" : "ok"},
                           {"method", fail ? json(kMethods[how]) : json(nullptr)}, {"failure", fail ? json(kFailures[how]) : json(nullptr)},
                           {"evidence", fail ? json::array({"TCP connect failed"}) : json::array()}});
  }
  json vf = json::object();
  for (const auto& f : feats) {
    const bool fb = blocked && f == blocked_feature;
    vf[f] = {{"status", fb ? "blocked" : "accessible"}, {"methods", fb ? json::array({kMethods[how]}) : json::array()},
             {"endpoints", {{"ok", fb ? 0 : 3}, {"blocked", fb ? 3 : 0}, {"down", 0}, {"inconclusive", 0}}}};
  }
  const int hh = static_cast<int>(rng() % 24), mm = static_cast<int>(rng() % 60);
  char start[32];
  std::snprintf(start, sizeof start, "2026-11-%02d %02d:%02d:%02d", 1 + day, hh, mm, static_cast<int>(rng() % 60));
  return {{"annotations", {{"architecture", "amd64"}, {"engine_name", "vantage"}, {"platform", "linux"}}},
          {"data_format_version", "0.2.0"}, {"input", nullptr}, {"measurement_start_time", start},
          {"test_start_time", start}, {"probe_asn", net.asn}, {"probe_cc", net.cc}, {"probe_ip", "127.0.0.1"},
          {"probe_network_name", net.name}, {"report_id", "20261101T000000Z_x_" + net.cc + "_1_n1_" + std::to_string(rng() % 100000)},
          {"resolver_asn", net.asn}, {"software_name", "vantage"}, {"software_version", "0.1." + std::to_string(rng() % 4)},
          {"test_name", names[service]}, {"test_version", "0.2.0"}, {"test_runtime", 3.5},
          {"test_keys",
           {{"queries", queries}, {"tcp_connect", tcp}, {"tls_handshakes", tls}, {"requests", requests},
            {"network_events", events}, {"x_endpoints", x_endpoints}, {"failure", nullptr}, {"failed_operation", nullptr},
            {"x_canary", {{"status", "ok"}, {"throughput_kbps", 8000}, {"endpoints", json::array()}}},
            {"x_verdict", {{"status", blocked ? (feats.size() > 1 ? "partially_blocked" : "blocked") : "accessible"},
                           {"methods", blocked ? json::array({kMethods[how]}) : json::array()},
                           {"features", vf}, {"endpoints", v_endpoints}, {"canary", "ok"}, {"confidence", "medium"},
                           {"confidence_reason", "no control vantage point"}}}}}};
}

int gen(long count, const std::string& out_path, unsigned seed) {
  std::mt19937_64 rng(seed);
  auto nets = make_networks();
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  std::uint64_t bytes = 0;
  for (long i = 0; i < count; ++i) {
    const std::size_t n = rng() % nets.size();
    const int day = static_cast<int>(rng() % 30), service = static_cast<int>(rng() % 3);
    // A third of the networks start blocking one service on a day of their own.
    const bool regime = n % 3 == 0 && service == static_cast<int>(n % 3) && day >= static_cast<int>(5 + n % 20);
    std::string line = measurement(rng, nets[n], day, service, regime).dump();
    bytes += line.size() + 1;
    out << line << '\n';
  }
  out.flush();
  if (!out) {
    std::cerr << out_path << ": cannot write\n";
    return 1;
  }
  std::printf("generated %ld measurements, %.1f MB, %.0f bytes each on average\n", count, bytes / 1e6,
              static_cast<double>(bytes) / static_cast<double>(std::max(count, 1L)));
  return 0;
}

// JSONEachRow rows for the collector's ClickHouse table, one per line of
// the corpus (the body as the collector stores it: the line itself).
int chrows(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line, out;
  long i = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json m = json::parse(line, nullptr, false);
    if (!m.is_object()) continue;
    json row = {{"measurement_uid", "b" + std::to_string(i)}, {"report_id", m.value("report_id", "")},
                {"test_name", m.value("test_name", "")}, {"probe_cc", m.value("probe_cc", "")},
                {"probe_asn", m.value("probe_asn", "")}, {"measurement_start_time", m.value("measurement_start_time", "")},
                {"body_sha512", std::to_string(i)}, {"body", line}, {"received", 0}};
    ++i;
    out = row.dump();
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  return 0;
}

int parse(const std::string& path) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text)) {
    std::cerr << path << ": cannot read\n";
    return 1;
  }
  simdjson::dom::parser parser;
  auto t0 = std::chrono::steady_clock::now();
  simdjson::dom::document_stream docs;
  if (parser.parse_many(text, 16 << 20).get(docs)) return 1;
  std::uint64_t n = 0, errors = 0;
  for (auto doc : docs) {
    if (doc.error()) ++errors;
    else ++n;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  simdjson DOM parse_many alone (file in memory): %llu documents (%llu errors), %.2f s, %.0f MB/s, %.0f msm/s\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(errors), s, text.size() / 1e6 / s,
              n / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 1 && a[0] == "gen") {
    long count = 1000;
    std::string out;
    unsigned seed = 1;
    for (std::size_t i = 1; i + 1 < a.size(); i += 2) {
      if (a[i] == "--count") count = std::stol(a[i + 1]);
      else if (a[i] == "--out") out = a[i + 1];
      else if (a[i] == "--seed") seed = static_cast<unsigned>(std::stoul(a[i + 1]));
    }
    if (out.empty() || count < 1) {
      std::cerr << "usage: analyze_bench gen --count N --out FILE [--seed S]\n";
      return 2;
    }
    return gen(count, out, seed);
  }
  if (a.size() == 2 && a[0] == "parse") return parse(a[1]);
  if (a.size() == 2 && a[0] == "chrows") return chrows(a[1]);
  std::cerr << "usage: analyze_bench gen --count N --out FILE [--seed S] | analyze_bench parse FILE\n";
  return 2;
}
