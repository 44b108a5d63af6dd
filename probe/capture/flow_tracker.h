// Flow tracker: decoded packets of the probe's own flows, in time order → typed
// state (TCP flows and their handshakes, resets, ClientHellos and byte counts;
// DNS transactions and their responses; ICMP errors), plus per-flow figures.
//
// It only tracks: it decides nothing about what is notable. The detectors
// (probe/capture/detectors/) read this state, through the const accessors
// below, when a packet arrives (add() says what it was) and at the end of the
// capture.
//
// Contract: never throws on any packet sequence; robust to reordering,
// duplicates (a packet seen twice by the "any" device: dropped within
// duplicate_window_s) and missing packets. It keeps no MAC address; the only
// address it keeps besides those of the flows is an ICMP error's sender,
// masked when it is a private address (icmp_sender_text()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "probe/capture/packet_decoder.h"

namespace vantage::capture {

// What the probe told the capture about its own flows.
struct FlowRegistry {
  std::vector<std::string> resolvers;  // "ip:port"
  std::vector<std::string> targets;    // "ip:port"
  std::vector<std::string> silent_resolvers;  // "ip:port" known to run no DNS server
  std::map<std::string, std::vector<std::string>> address_endpoints;  // "ip:port" → endpoints
  std::map<std::string, std::vector<std::string>> qname_endpoints;    // qname → endpoints
};

// Tracking options and every detector's thresholds (detectors.h says which
// detector reads which).
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

struct Peer {
  IpAddress ip;
  uint16_t port = 0;
  bool operator<(const Peer& o) const { return std::tie(ip, port) < std::tie(o.ip, o.port); }
  bool operator==(const Peer& o) const { return ip == o.ip && port == o.port; }
  std::string text() const { return format_address(ip, port); }
};

// What the client last sent before a packet: the "after" of evidence.
enum class OutboundKind { none, data, client_hello, request };
// "data", "client_hello", "request"; none → "syn" (only the handshake so far).
const char* to_string(OutboundKind kind);

// An inbound RST or FIN, with what the flow looked like when it arrived.
struct ResetEvent {
  double t = 0;
  uint8_t ttl = 0;
  uint16_t ip_id = 0;
  uint32_t seq = 0;
  uint8_t flags = 0;
  uint32_t payload_length = 0;
  OutboundKind after = OutboundKind::none;
  double after_t = -1;
  bool have_id_reference = false;  // a non-zero server IP-ID earlier in the flow
  uint16_t id_reference = 0;
  double rtt = -1;
};

struct Hole {
  uint32_t start, end;
  double t;
};

struct TcpFlow {
  Peer client, server;
  std::size_t order = 0;  // index in FlowTracker::flows()
  double first_t = 0, last_t = 0;
  // Handshake.
  int syn_count = 0;
  double first_syn_t = -1, last_syn_t = -1;
  bool synack = false;
  double synack_t = 0;
  uint8_t synack_ttl = 0;
  uint16_t synack_id = 0;
  double rtt = -1;  // last SYN → first SYN-ACK
  bool inbound_any = false;
  int icmp_errors = 0;
  // Client side.
  bool out_high_set = false;
  uint32_t out_high = 0;
  bool ch_seen = false;  // first ClientHello
  double ch_t = 0;
  uint32_t ch_seq = 0;
  int ch_sends = 0;  // the ClientHello segment sent this many times
  std::string sni;
  bool inbound_after_ch = false;  // anything from the server acknowledging or after the ClientHello
  OutboundKind last_out_kind = OutboundKind::none;
  double last_out_t = -1;
  double trigger_t = -1;  // last ClientHello or request
  OutboundKind trigger_kind = OutboundKind::none;
  double first_out_data_t = -1;
  // Server side.
  bool in_high_set = false;
  uint32_t in_high = 0;
  std::vector<Hole> holes;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t packets_in = 0, packets_out = 0, data_packets_in = 0;
  uint64_t retrans_in = 0, retrans_out = 0;
  uint64_t rst_in = 0;  // inbound RSTs, genuine or forged (an independent count to check against)
  double first_in_data_t = -1, last_in_data_t = -1;
  bool have_nonzero_server_id = false;
  uint16_t last_server_id = 0;
  std::vector<ResetEvent> resets;
};

struct DnsResponse {
  double t = 0;
  uint8_t ttl = 0;
  uint16_t ip_id = 0;
  int rcode = 0;
  std::vector<std::string> answers;  // "A 1.2.3.4", "CNAME x"
};

// One (client, resolver, id, qname): the times it was sent and every response.
struct DnsExchange {
  Peer client, server;
  uint16_t id = 0;
  std::string qname;
  uint16_t qtype = 0;
  std::size_t order = 0;
  std::vector<double> query_t;
  std::vector<DnsResponse> responses;
};

// ICMP(v6) destination unreachable errors quoting one of the probe's packets,
// grouped by (protocol, destination, type, code).
struct IcmpEvent {
  std::string protocol;  // "tcp" | "udp"
  Peer destination;
  uint8_t type = 0, code = 0;
  bool admin_prohibited = false;
  bool port_unreachable = false;
  std::string from;  // the sender, "[private]" when masked
  bool from_destination = false;
  uint8_t ttl = 0;
  double first_t = 0, last_t = 0;
  int count = 0;
};

// What add() made of a packet, for the detectors that look at packets as
// they stream in.
struct PacketEvent {
  // An inbound TCP segment with payload that is neither a SYN-ACK nor a RST;
  // the flow is already updated with it.
  const TcpFlow* inbound_payload = nullptr;
};

class FlowTracker {
 public:
  FlowTracker(FlowRegistry registry, DetectorOptions options);
  FlowTracker(const FlowTracker&) = delete;
  FlowTracker& operator=(const FlowTracker&) = delete;

  // `ts`: the packet's absolute capture time in seconds. Packets should come
  // in time order; small inversions are tolerated.
  PacketEvent add(const DecodedPacket& packet, double ts);

  const DetectorOptions& options() const { return options_; }
  const DetectorStats& stats() const { return stats_; }
  double max_ts() const { return max_ts_; }  // the latest packet time seen
  const std::vector<TcpFlow>& flows() const { return flows_; }  // in order of first packet
  const std::vector<DnsExchange>& exchanges() const { return exchanges_; }
  const std::map<std::tuple<std::string, Peer, uint8_t, uint8_t>, IcmpEvent>& icmp_events() const {
    return icmp_events_;
  }
  // Resolver → time of the first ICMP port unreachable it sent about a query.
  const std::map<Peer, double>& port_unreachable_from() const { return port_unreachable_from_; }
  bool registered_silent(const Peer& resolver) const { return silent_.count(resolver) > 0; }

  // Seconds since time_origin, rounded to the microsecond.
  double rel(double ts) const;
  // The endpoints a server address or a qname stands for (registry), or the
  // address/qname itself when the registry names none.
  std::vector<std::string> endpoints_for_address(const Peer& server) const;
  std::vector<std::string> endpoints_for_qname(const std::string& qname) const;

  // test_keys.x_capture.flows: per-flow figures, at most max_flows_reported.
  nlohmann::json flow_figures() const;

 private:
  struct Signature {
    std::array<uint8_t, 16> src, dst;
    uint8_t protocol, ttl, flags, icmp_type;
    uint16_t ip_id, sport, dport;
    uint32_t seq, ack, length;
    bool operator==(const Signature&) const = default;
  };

  bool is_duplicate(const DecodedPacket& p, double ts);
  bool is_resolver(const Peer& p) const;
  TcpFlow* find_or_create_flow(const DecodedPacket& p, double ts);
  PacketEvent add_tcp(const DecodedPacket& p, double ts);
  void outbound_tcp(TcpFlow& f, const DecodedPacket& p, double ts);
  PacketEvent inbound_tcp(TcpFlow& f, const DecodedPacket& p, double ts);
  void account_inbound_data(TcpFlow& f, const DecodedPacket& p, double ts);
  void add_udp(const DecodedPacket& p, double ts);
  void add_icmp(const DecodedPacket& p, double ts);

  FlowRegistry registry_;
  DetectorOptions options_;
  DetectorStats stats_;
  std::set<Peer> resolvers_, targets_, silent_;
  std::set<uint16_t> resolver_ports_{53};
  bool restricted_ = false;
  double max_ts_ = 0;

  std::map<std::pair<Peer, Peer>, std::size_t> flow_index_;  // (client, server) → flows_
  std::vector<TcpFlow> flows_;
  std::map<std::tuple<Peer, Peer, uint16_t, std::string>, std::size_t> dns_index_;
  std::vector<DnsExchange> exchanges_;
  std::map<std::tuple<std::string, Peer, uint8_t, uint8_t>, IcmpEvent> icmp_events_;
  std::map<Peer, double> port_unreachable_from_;
  std::deque<std::pair<double, Signature>> recent_;
};

// TCP sequence arithmetic (RFC 1982 style).
inline bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
inline bool seq_le(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }

double round_us(double seconds);
double round_ms(double seconds);  // seconds → milliseconds, rounded to the microsecond

// An ICMP sender is a router on the path, not one of our flows: its text only
// when it is a public address, else "[private]".
std::string icmp_sender_text(const IpAddress& ip);

}  // namespace vantage::capture
