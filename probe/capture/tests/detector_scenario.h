// Crafted packet sequences for the detector tests: a Scenario collects IP
// packets with their times and runs them through the whole detector table
// (result()) or through one detector alone (only<D>()). Test-only code.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "probe/capture/detectors.h"
#include "probe/capture/tests/packet_builder.h"

namespace vantage::capture::testing {

constexpr double kOrigin = 1700000000.0;
inline const std::string kServer = "198.18.1.10:443";
inline const std::string kResolver = "198.18.0.53:53";

struct Scenario {
  FlowRegistry registry;
  DetectorOptions options;
  std::vector<std::pair<double, std::string>> packets;  // (seconds since origin, IP bytes)

  Scenario() {
    options.time_origin = kOrigin;
    registry.targets = {kServer};
    registry.resolvers = {kResolver};
  }
  void at(double t, const std::string& ip) { packets.emplace_back(t, ip); }
  DetectorResult result() { return run(CaptureAnalyzer(registry, options)); }
  // Only detector D: what it finds, with finish() run twice to show it
  // gives the same anomalies each time.
  template <class D>
  DetectorResult only() {
    DetectorList list;
    list.push_back(std::make_unique<D>());
    CaptureAnalyzer analyzer(registry, options, std::move(list));
    feed(analyzer);
    const auto first = analyzer.finish();
    auto second = analyzer.finish();
    EXPECT_EQ(first.anomalies.size(), second.anomalies.size());
    for (std::size_t i = 0; i < first.anomalies.size() && i < second.anomalies.size(); ++i)
      EXPECT_EQ(anomaly_to_json(first.anomalies[i]), anomaly_to_json(second.anomalies[i]));
    for (const auto& a : second.anomalies) EXPECT_EQ(a.kind, D::kKind) << to_string(a.kind);
    return second;
  }

 private:
  void feed(CaptureAnalyzer& analyzer) {
    for (const auto& [t, ip] : packets)
      analyzer.add_frame(link::kRaw, reinterpret_cast<const uint8_t*>(ip.data()), ip.size(), kOrigin + t);
  }
  DetectorResult run(CaptureAnalyzer&& analyzer) {
    feed(analyzer);
    return analyzer.finish();
  }
};

inline std::vector<Anomaly> of_type(const DetectorResult& r, const std::string& type) {
  std::vector<Anomaly> out;
  for (const auto& a : r.anomalies)
    if (to_string(a.kind) == type) out.push_back(a);
  return out;
}

inline std::string dump(const DetectorResult& r) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& a : r.anomalies) all.push_back(anomaly_to_json(a));
  return all.dump();
}

// Handshake with a 50 ms RTT at t0.
inline void handshake(Scenario& run, TcpConversation& c, double t0 = 0.0) {
  run.at(t0, c.syn());
  run.at(t0 + 0.050, c.synack(0));
  run.at(t0 + 0.0502, c.ack());
}

// A query from the probe to kResolver, and the resolver's answer.
inline std::string query(uint16_t id, const std::string& name, uint16_t sport = 5353) {
  return ipv4("198.18.0.2", "198.18.0.53", 17, udp(sport, 53, dns_query(id, name)));
}
inline std::string answer(uint16_t id, const std::string& name, const std::string& ip, uint8_t ttl,
                          uint16_t dport = 5353, uint16_t ip_id = 0) {
  return ipv4("198.18.0.53", "198.18.0.2", 17, udp(53, dport, dns_response(id, name, {ip})), ttl, ip_id);
}

}  // namespace vantage::capture::testing
