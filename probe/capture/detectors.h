// Detectors: decoded packets of the probe's own flows, in time order → anomalies
// with the evidence that triggered them, plus per-flow figures.
//
// Zeek-style split: packet_decoder.h says what a packet is; this file decides
// what is notable. Every anomaly names the endpoint it concerns (via the
// registry the engine fills) and carries the fields that triggered it. An
// anomaly is evidence, not a verdict: analysis/ decides what it means.
//
// Contract: never throws on any packet sequence; robust to reordering,
// duplicates (a packet seen twice by the "any" device) and missing packets;
// never reports an anomaly on a clean flow that lost packets at random (a SYN
// retransmitted once and then answered, a reordered segment, the server's own
// RST). Output contains no MAC address and no address other than those of
// the registered flows (and the probe's own, which the caller scrubs), except
// the sender of an ICMP error, which is masked when it is a private address.
//
// Rules and thresholds (DetectorOptions holds the numbers):
//  dns_multiple_answers   ≥2 responses to one (client, resolver, id, qname),
//                         and either they differ (answers, rcode or IP TTL) or
//                         there are more responses than queries sent.
//  dns_ttl_mismatch       a response whose IP TTL is more than
//                         dns_ttl_tolerance away from the resolver's usual TTL
//                         (the most common TTL of the last response to each
//                         query, seen for at least 2 queries).
//  dns_answer_from_silent_server
//                         responses from a resolver that also answered a query
//                         with ICMP port unreachable, or that the registry
//                         declares runs no DNS server.
//  tcp_rst_injected       an inbound RST (or FIN) whose IP TTL differs from the
//                         flow's SYN-ACK by more than rst_ttl_tolerance (or,
//                         without a SYN-ACK in this flow, from the server's
//                         usual SYN-ACK TTL in other flows); or whose IP-ID is
//                         outside [last-64, last+4096] of the server's last
//                         non-zero IP-ID in the flow (only when such an IP-ID
//                         exists: Linux sends SYN-ACKs with IP-ID 0); or that
//                         arrives after the ClientHello/request sooner than
//                         fast_response_fraction × the SYN→SYN-ACK RTT.
//  tcp_data_after_rst     server payload at or beyond the RST's sequence
//                         number, arriving after an inbound RST.
//  syn_blackhole          ≥ syn_blackhole_min_syns SYNs (i.e. retransmitted)
//                         and nothing at all back: no SYN-ACK, RST or ICMP.
//  client_hello_blackhole the ClientHello segment sent ≥ 2 times and nothing
//                         back after it (no ACK covering it, data, RST, FIN).
//  icmp_unreachable       ICMP(v6) destination unreachable quoting a packet the
//                         probe sent to a registered flow.
//  injected_fast_response a TLS alert or HTTP response arriving sooner than
//                         fast_response_fraction × RTT after the
//                         ClientHello/request (only when RTT ≥ 2 ms: below
//                         that, timestamp jitter decides).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "probe/capture/packet_decoder.h"

namespace vantage::capture {

struct Anomaly {
  std::string type;
  std::string endpoint;
  double t = 0;  // seconds since the run's start
  nlohmann::json evidence = nlohmann::json::object();
};

// What the probe told the capture about its own flows.
struct FlowRegistry {
  std::vector<std::string> resolvers;  // "ip:port"
  std::vector<std::string> targets;    // "ip:port"
  std::vector<std::string> silent_resolvers;  // "ip:port" known to run no DNS server
  std::map<std::string, std::vector<std::string>> address_endpoints;  // "ip:port" → endpoints
  std::map<std::string, std::vector<std::string>> qname_endpoints;    // qname → endpoints
};

struct DetectorOptions {
  double time_origin = 0;  // absolute packet time (seconds since the epoch) of t = 0
  // When the registry names at least one resolver or target, packets of other
  // flows are ignored. With an empty registry everything is analysed (files).
  bool restrict_to_registry = true;
  int syn_blackhole_min_syns = 2;
  int client_hello_blackhole_min_sends = 2;
  int rst_ttl_tolerance = 1;
  int dns_ttl_tolerance = 2;
  double fast_response_fraction = 0.5;
  double fast_response_min_rtt_s = 0.002;
  double duplicate_window_s = 0.002;  // identical packet seen again within this = capture duplicate
  double reorder_window_s = 0.003;    // a hole filled sooner than max(this, RTT/4) = reordering
  std::size_t max_flows_reported = 1000;
};

struct DetectorStats {
  uint64_t packets = 0;     // handed to add()
  uint64_t malformed = 0;   // not decodable as IP
  uint64_t duplicates = 0;  // dropped as capture duplicates
  uint64_t ignored = 0;     // not a registered flow
};

struct DetectorResult {
  std::vector<Anomaly> anomalies;  // ordered by t
  nlohmann::json flows = nlohmann::json::array();
  DetectorStats stats;
};

class FlowTracker {
 public:
  FlowTracker(FlowRegistry registry, DetectorOptions options);
  ~FlowTracker();
  FlowTracker(const FlowTracker&) = delete;
  FlowTracker& operator=(const FlowTracker&) = delete;

  // `ts`: the packet's absolute capture time in seconds. Packets should come
  // in time order; small inversions are tolerated.
  void add(const DecodedPacket& packet, double ts);
  void add_frame(int link_type, const uint8_t* data, std::size_t caplen, double ts);

  // Runs the end-of-capture rules. `end_ts` (absolute) is when capture
  // stopped; <= 0 means the last packet's time.
  DetectorResult finish(double end_ts = 0);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

nlohmann::json anomaly_to_json(const Anomaly& anomaly);

}  // namespace vantage::capture
