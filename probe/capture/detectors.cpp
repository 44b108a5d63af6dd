// Detectors. See detectors.h for the rules and the contract.
#include "probe/capture/detectors.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <tuple>

#include "probe/capture/dns_message.h"
#include "probe/capture/tls_record.h"
#include "reports/format/ip_address.h"

namespace vantage::capture {
namespace {

using nlohmann::json;

// TCP sequence arithmetic (RFC 1982 style).
bool seq_lt(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
bool seq_le(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }

double round_us(double v) { return std::round(v * 1e6) / 1e6; }
double round_ms(double seconds) { return std::round(seconds * 1e6) / 1e3; }

struct Peer {
  IpAddress ip;
  uint16_t port = 0;
  bool operator<(const Peer& o) const { return std::tie(ip, port) < std::tie(o.ip, o.port); }
  bool operator==(const Peer& o) const { return ip == o.ip && port == o.port; }
  std::string text() const { return format_address(ip, port); }
};

// An ICMP sender is a router on the path, not one of our flows: keep it only
// when it is a public address.
std::string icmp_sender_text(const IpAddress& ip) {
  const bool is_private = ip::in_special_range(ip::Address{ip.version, ip.bytes}, ip::kLocal);
  return is_private ? "[private]" : ip.to_string();
}

struct ResetEvent {
  double t = 0;
  uint8_t ttl = 0;
  uint16_t ip_id = 0;
  uint32_t seq = 0;
  uint8_t flags = 0;
  uint32_t payload_length = 0;
  std::string after;  // client_hello | request | data | syn
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
  std::size_t order = 0;
  double first_t = 0, last_t = 0;
  // Handshake.
  int syn_count = 0;
  double first_syn_t = -1, last_syn_t = -1;
  bool synack = false;
  double synack_t = 0;
  uint8_t synack_ttl = 0;
  uint16_t synack_id = 0;
  double rtt = -1;
  bool inbound_any = false;
  int icmp_errors = 0;
  // Client side.
  bool out_high_set = false;
  uint32_t out_high = 0;
  bool ch_seen = false;
  double ch_t = 0;
  uint32_t ch_seq = 0;
  int ch_sends = 0;
  std::string sni;
  bool inbound_after_ch = false;
  std::string last_out_kind;
  double last_out_t = -1;
  double trigger_t = -1;  // last ClientHello or request
  std::string trigger_kind;
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
  bool data_after_rst = false;
  json data_after_rst_evidence;
  double data_after_rst_t = 0;
  bool fast_reported = false;
};

struct DnsResponse {
  double t = 0;
  uint8_t ttl = 0;
  uint16_t ip_id = 0;
  int rcode = 0;
  std::vector<std::string> answers;  // "A 1.2.3.4", "CNAME x"
};

struct DnsExchange {
  Peer client, server;
  uint16_t id = 0;
  std::string qname;
  uint16_t qtype = 0;
  std::size_t order = 0;
  std::vector<double> query_t;
  std::vector<DnsResponse> responses;
};

struct IcmpEvent {
  std::string protocol;
  Peer destination;
  uint8_t type = 0, code = 0;
  bool admin_prohibited = false;
  bool port_unreachable = false;
  std::string from;
  bool from_destination = false;
  uint8_t ttl = 0;
  double first_t = 0, last_t = 0;
  int count = 0;
};

struct Signature {
  std::array<uint8_t, 16> src, dst;
  uint8_t protocol, ttl, flags, icmp_type;
  uint16_t ip_id, sport, dport;
  uint32_t seq, ack, length;
  bool operator==(const Signature&) const = default;
};

}  // namespace

struct FlowTracker::Impl {
  FlowRegistry registry;
  DetectorOptions options;
  DetectorStats stats;
  std::set<Peer> resolvers, targets, silent;
  std::set<uint16_t> resolver_ports{53};
  bool restricted = false;
  double max_ts = 0;

  std::map<std::pair<Peer, Peer>, std::size_t> flow_index;  // (client, server) → flows
  std::vector<TcpFlow> flows;
  std::map<std::tuple<Peer, Peer, uint16_t, std::string>, std::size_t> dns_index;
  std::vector<DnsExchange> exchanges;
  std::map<std::tuple<std::string, Peer, uint8_t, uint8_t>, IcmpEvent> icmp_events;
  std::map<Peer, double> port_unreachable_from;  // resolver → first ICMP time
  std::vector<Anomaly> anomalies;
  std::vector<Anomaly> streamed;  // emitted by add(), kept across finish() calls
  std::deque<std::pair<double, Signature>> recent;

  Impl(FlowRegistry r, DetectorOptions o) : registry(std::move(r)), options(o) {
    auto load = [](const std::vector<std::string>& list, std::set<Peer>& into, uint16_t def) {
      for (const auto& text : list) {
        Peer p;
        if (parse_address(text, p.ip, p.port, def)) into.insert(p);
      }
    };
    load(registry.resolvers, resolvers, 53);
    load(registry.targets, targets, 0);
    load(registry.silent_resolvers, silent, 53);
    for (const auto& r : resolvers) resolver_ports.insert(r.port);
    // Endpoint keys in canonical form, whatever spelling the caller used.
    std::map<std::string, std::vector<std::string>> canonical;
    for (auto& [text, endpoints] : registry.address_endpoints) {
      Peer p;
      auto& into = canonical[parse_address(text, p.ip, p.port, 0) ? p.text() : text];
      for (auto& e : endpoints)
        if (std::find(into.begin(), into.end(), e) == into.end()) into.push_back(e);
    }
    registry.address_endpoints = std::move(canonical);
    restricted = options.restrict_to_registry && (!resolvers.empty() || !targets.empty());
  }

  double rel(double ts) const { return round_us(ts - options.time_origin); }

  std::vector<std::string> endpoints_for_address(const Peer& server) const {
    auto it = registry.address_endpoints.find(server.text());
    if (it != registry.address_endpoints.end() && !it->second.empty()) return it->second;
    return {server.text()};
  }
  std::vector<std::string> endpoints_for_qname(const std::string& qname) const {
    for (const auto& [name, eps] : registry.qname_endpoints) {
      std::string lowered = name;
      for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!lowered.empty() && lowered.back() == '.') lowered.pop_back();
      if (lowered == qname && !eps.empty()) return eps;
    }
    return {qname};
  }
  void emit(std::string type, const std::vector<std::string>& endpoints, double ts, json evidence) {
    if (endpoints.size() > 1)
      evidence["also_endpoints"] = std::vector<std::string>(endpoints.begin() + 1, endpoints.end());
    anomalies.push_back({std::move(type), endpoints.empty() ? "" : endpoints.front(), rel(ts), std::move(evidence)});
  }

  bool is_duplicate(const DecodedPacket& p, double ts) {
    Signature s{p.src.bytes, p.dst.bytes, p.protocol, p.ttl, p.tcp_flags, p.icmp_type, p.ip_id,
                p.src_port, p.dst_port, p.seq, p.ack, p.ip_length};
    while (!recent.empty() && (recent.front().first < ts - options.duplicate_window_s || recent.size() > 256))
      recent.pop_front();
    for (const auto& [t, sig] : recent)
      if (sig == s && std::fabs(ts - t) <= options.duplicate_window_s) return true;
    recent.emplace_back(ts, s);
    return false;
  }

  void add(const DecodedPacket& p, double ts) {
    ++stats.packets;
    if (!p.ok) {
      ++stats.malformed;
      return;
    }
    if (ts > max_ts) max_ts = ts;
    if (is_duplicate(p, ts)) {
      ++stats.duplicates;
      return;
    }
    if (!p.has_transport) {
      ++stats.ignored;
      return;
    }
    switch (p.protocol) {
      case ipproto::kTcp: return add_tcp(p, ts);
      case ipproto::kUdp: return add_udp(p, ts);
      case ipproto::kIcmp:
      case ipproto::kIcmpv6: return add_icmp(p, ts);
      default: ++stats.ignored;
    }
  }

  // ---------------------------------------------------------------- TCP
  TcpFlow* find_or_create_flow(const DecodedPacket& p, double ts) {
    const Peer a{p.src, p.src_port}, b{p.dst, p.dst_port};
    if (auto it = flow_index.find({a, b}); it != flow_index.end()) return &flows[it->second];
    if (auto it = flow_index.find({b, a}); it != flow_index.end()) return &flows[it->second];
    // New flow: who is the client?
    bool a_is_client;
    if (targets.count(b)) a_is_client = true;
    else if (targets.count(a)) a_is_client = false;
    else if (restricted) return nullptr;
    else if ((p.tcp_flags & tcpflag::kSyn) && !(p.tcp_flags & tcpflag::kAck)) a_is_client = true;
    else if ((p.tcp_flags & tcpflag::kSyn) && (p.tcp_flags & tcpflag::kAck)) a_is_client = false;
    else a_is_client = p.dst_port <= p.src_port;
    TcpFlow flow;
    flow.client = a_is_client ? a : b;
    flow.server = a_is_client ? b : a;
    flow.order = flows.size();
    flow.first_t = ts;
    flow_index[{flow.client, flow.server}] = flows.size();
    flows.push_back(std::move(flow));
    return &flows.back();
  }

  void add_tcp(const DecodedPacket& p, double ts) {
    TcpFlow* f = find_or_create_flow(p, ts);
    if (f == nullptr) {
      ++stats.ignored;
      return;
    }
    f->last_t = std::max(f->last_t, ts);
    const bool outbound = p.src == f->client.ip && p.src_port == f->client.port;
    if (outbound) outbound_tcp(*f, p, ts);
    else inbound_tcp(*f, p, ts);
  }

  void outbound_tcp(TcpFlow& f, const DecodedPacket& p, double ts) {
    ++f.packets_out;
    const uint8_t flags = p.tcp_flags;
    if ((flags & tcpflag::kSyn) && !(flags & tcpflag::kAck)) {
      ++f.syn_count;
      if (f.first_syn_t < 0) f.first_syn_t = ts;
      f.last_syn_t = ts;
      if (f.last_out_kind.empty()) f.last_out_t = ts;
      return;
    }
    if (p.payload_length == 0 || (flags & tcpflag::kRst)) return;
    const uint32_t end = p.seq + p.payload_length;
    if (f.out_high_set && seq_lt(p.seq, f.out_high)) {
      ++f.retrans_out;
      if (f.ch_seen && p.seq == f.ch_seq) ++f.ch_sends;
      if (seq_lt(f.out_high, end)) {
        f.bytes_out += end - f.out_high;
        f.out_high = end;
      }
      return;
    }
    f.out_high_set = true;
    f.out_high = end;
    f.bytes_out += p.payload_length;
    if (f.first_out_data_t < 0) f.first_out_data_t = ts;
    std::string kind = "data";
    if (auto hello = parse_client_hello(p.payload)) {
      kind = "client_hello";
      if (!f.ch_seen) {
        f.ch_seen = true;
        f.ch_t = ts;
        f.ch_seq = p.seq;
        f.ch_sends = 1;
        f.sni = hello->sni;
      }
    } else if (looks_like_http_request(p.payload)) {
      kind = "request";
    }
    f.last_out_kind = kind;
    f.last_out_t = ts;
    if (kind != "data") {
      f.trigger_t = ts;
      f.trigger_kind = kind;
    }
  }

  void inbound_tcp(TcpFlow& f, const DecodedPacket& p, double ts) {
    ++f.packets_in;
    f.inbound_any = true;
    const uint8_t flags = p.tcp_flags;
    const bool rst = flags & tcpflag::kRst;
    const bool fin = flags & tcpflag::kFin;
    if (f.ch_seen && ts >= f.ch_t &&
        (((flags & tcpflag::kAck) && seq_lt(f.ch_seq, p.ack)) || p.payload_length > 0 || rst || fin))
      f.inbound_after_ch = true;

    if ((flags & tcpflag::kSyn) && (flags & tcpflag::kAck)) {
      if (!f.synack) {
        f.synack = true;
        f.synack_t = ts;
        f.synack_ttl = p.ttl;
        f.synack_id = p.ip_id;
        if (p.ip_id != 0) {
          f.have_nonzero_server_id = true;
          f.last_server_id = p.ip_id;
        }
        if (f.last_syn_t >= 0 && ts >= f.last_syn_t) f.rtt = ts - f.last_syn_t;
        f.in_high_set = true;
        f.in_high = p.seq + 1;
      }
      return;
    }

    if (rst) ++f.rst_in;
    if (rst || fin) {
      ResetEvent r;
      r.t = ts;
      r.ttl = p.ttl;
      r.ip_id = p.ip_id;
      r.seq = p.seq;
      r.flags = flags;
      r.payload_length = p.payload_length;
      r.after = f.last_out_kind.empty() ? "syn" : f.last_out_kind;
      r.after_t = f.last_out_t;
      r.have_id_reference = f.have_nonzero_server_id;
      r.id_reference = f.last_server_id;
      r.rtt = f.rtt;
      f.resets.push_back(r);
      if (rst) return;  // a RST's payload (if any) is not data
    }

    // Data after a RST: payload at or beyond the RST's sequence number.
    if (p.payload_length > 0 && !f.data_after_rst) {
      for (const auto& r : f.resets) {
        if ((r.flags & tcpflag::kRst) && ts > r.t && seq_le(r.seq, p.seq)) {
          f.data_after_rst = true;
          f.data_after_rst_t = ts;
          f.data_after_rst_evidence = {{"rst_t", rel(r.t)}, {"data_t", rel(ts)},
                                       {"rst_ttl", r.ttl}, {"data_ttl", p.ttl},
                                       {"rst_ip_id", r.ip_id}, {"data_ip_id", p.ip_id},
                                       {"rst_seq", r.seq}, {"data_seq", p.seq},
                                       {"data_bytes", p.payload_length},
                                       {"server", f.server.text()}};
          break;
        }
      }
    }

    if (p.ip_id != 0 && p.ip_version == 4) {
      f.have_nonzero_server_id = true;
      f.last_server_id = p.ip_id;
    }
    if (p.payload_length == 0) return;
    account_inbound_data(f, p, ts);
    detect_fast_response(f, p, ts);
  }

  void account_inbound_data(TcpFlow& f, const DecodedPacket& p, double ts) {
    const uint32_t start = p.seq, end = p.seq + p.payload_length;
    uint64_t new_bytes = 0;
    if (!f.in_high_set) {
      f.in_high_set = true;
      f.in_high = end;
      new_bytes = p.payload_length;
    } else if (seq_le(f.in_high, start)) {
      if (seq_lt(f.in_high, start) && f.holes.size() < 64) f.holes.push_back({f.in_high, start, ts});
      f.in_high = end;
      new_bytes = p.payload_length;
    } else {
      // Below the highest byte seen: fills a hole (reordering, or the
      // retransmission of a segment lost before our capture point) or repeats
      // bytes already seen (a retransmission).
      const double window = std::max(options.reorder_window_s, f.rtt > 0 ? f.rtt / 4 : 0.0);
      bool in_hole = false;
      for (auto it = f.holes.begin(); it != f.holes.end(); ++it) {
        if (seq_le(it->start, start) && seq_lt(start, it->end)) {
          in_hole = true;
          if (ts - it->t > window) ++f.retrans_in;
          const uint32_t filled_end = seq_lt(end, it->end) ? end : it->end;
          new_bytes = filled_end - start;
          if (start == it->start) it->start = filled_end;
          else if (filled_end == it->end) it->end = start;
          if (!seq_lt(it->start, it->end)) f.holes.erase(it);
          break;
        }
      }
      if (!in_hole) ++f.retrans_in;
      if (seq_lt(f.in_high, end)) {
        new_bytes += end - f.in_high;
        f.in_high = end;
      }
    }
    if (new_bytes == 0) return;
    f.bytes_in += new_bytes;
    ++f.data_packets_in;
    if (f.first_in_data_t < 0) f.first_in_data_t = ts;
    f.last_in_data_t = std::max(f.last_in_data_t, ts);
  }

  void detect_fast_response(TcpFlow& f, const DecodedPacket& p, double ts) {
    if (f.fast_reported || f.trigger_t < 0 || f.rtt < options.fast_response_min_rtt_s) return;
    std::string what;
    json detail;
    if (auto alert = parse_tls_alert(p.payload)) {
      what = "tls_alert";
      detail = {{"alert_level", alert->level}, {"alert_description", alert->description}};
    } else if (int status = http_response_status(p.payload)) {
      what = "http_response";
      detail = {{"status_code", status}};
    } else {
      return;
    }
    const double delay = ts - f.trigger_t;
    if (delay < 0 || delay >= options.fast_response_fraction * f.rtt) return;
    f.fast_reported = true;
    json evidence = {{"response", what}, {"after", f.trigger_kind}, {"delay_ms", round_ms(delay)},
                     {"rtt_ms", round_ms(f.rtt)}, {"ttl", p.ttl}, {"synack_ttl", f.synack_ttl},
                     {"ip_id", p.ip_id}, {"server", f.server.text()}};
    evidence.update(detail);
    if (!f.sni.empty()) evidence["sni"] = f.sni;
    emit("injected_fast_response", endpoints_for_address(f.server), ts, std::move(evidence));
    streamed.push_back(std::move(anomalies.back()));
    anomalies.pop_back();
  }

  // ---------------------------------------------------------------- DNS
  bool is_resolver(const Peer& p) const {
    if (!resolvers.empty() || restricted) return resolvers.count(p) > 0;
    return resolver_ports.count(p.port) > 0;
  }

  void add_udp(const DecodedPacket& p, double ts) {
    const Peer a{p.src, p.src_port}, b{p.dst, p.dst_port};
    const bool to_server = is_resolver(b), from_server = is_resolver(a);
    if (!to_server && !from_server) {
      ++stats.ignored;
      return;
    }
    DnsWireMessage m;
    if (!parse_dns_wire(p.payload, m)) {
      ++stats.ignored;
      return;
    }
    if (to_server && !m.response) {
      auto key = std::make_tuple(a, b, m.id, m.qname);
      auto [it, inserted] = dns_index.try_emplace(key, exchanges.size());
      if (inserted) {
        DnsExchange e;
        e.client = a;
        e.server = b;
        e.id = m.id;
        e.qname = m.qname;
        e.qtype = m.qtype;
        e.order = exchanges.size();
        exchanges.push_back(std::move(e));
      }
      exchanges[it->second].query_t.push_back(ts);
      return;
    }
    if (!from_server || !m.response) {
      ++stats.ignored;
      return;
    }
    // A response: to the query with this id and name, or — when the response
    // carries no question — to the query with this id.
    std::size_t index = exchanges.size();
    if (auto it = dns_index.find(std::make_tuple(b, a, m.id, m.qname)); it != dns_index.end()) {
      index = it->second;
    } else {
      for (const auto& e : exchanges)
        if (e.client == b && e.server == a && e.id == m.id && (m.qname.empty() || e.qname == m.qname)) {
          index = e.order;
          break;
        }
    }
    if (index == exchanges.size()) {
      DnsExchange e;
      e.client = b;
      e.server = a;
      e.id = m.id;
      e.qname = m.qname;
      e.qtype = m.qtype;
      e.order = exchanges.size();
      dns_index[std::make_tuple(b, a, m.id, m.qname)] = e.order;
      exchanges.push_back(std::move(e));
    }
    DnsResponse r;
    r.t = ts;
    r.ttl = p.ttl;
    r.ip_id = p.ip_id;
    r.rcode = m.rcode;
    for (const auto& answer : m.answers)
      r.answers.push_back(answer.value.empty() ? answer.type : answer.type + " " + answer.value);
    exchanges[index].responses.push_back(std::move(r));
  }

  // ---------------------------------------------------------------- ICMP
  void add_icmp(const DecodedPacket& p, double ts) {
    const bool v4 = p.protocol == ipproto::kIcmp;
    const bool unreachable = v4 ? p.icmp_type == 3 : p.icmp_type == 1;
    const auto& q = p.quoted;
    if (!unreachable || !q.present || (q.protocol != ipproto::kTcp && q.protocol != ipproto::kUdp)) {
      ++stats.ignored;
      return;
    }
    // Only errors about packets the probe sent to one of its flows.
    const Peer client{q.src, q.src_port}, destination{q.dst, q.dst_port};
    TcpFlow* flow = nullptr;
    bool ours = false;
    if (q.protocol == ipproto::kTcp) {
      if (auto it = flow_index.find({client, destination}); it != flow_index.end()) {
        flow = &flows[it->second];
        ours = true;
      } else {
        ours = targets.count(destination) > 0;
      }
    } else {
      ours = is_resolver(destination);
    }
    if (!ours) {
      ++stats.ignored;
      return;
    }
    if (flow) ++flow->icmp_errors;
    const bool port_unreachable = v4 ? p.icmp_code == 3 : p.icmp_code == 4;
    if (q.protocol == ipproto::kUdp && port_unreachable && p.src == destination.ip)
      port_unreachable_from.try_emplace(destination, ts);
    const std::string protocol = q.protocol == ipproto::kTcp ? "tcp" : "udp";
    auto& e = icmp_events[std::make_tuple(protocol, destination, p.icmp_type, p.icmp_code)];
    if (e.count++ == 0) {
      e.protocol = protocol;
      e.destination = destination;
      e.type = p.icmp_type;
      e.code = p.icmp_code;
      e.admin_prohibited = v4 ? (p.icmp_code == 9 || p.icmp_code == 10 || p.icmp_code == 13) : p.icmp_code == 1;
      e.port_unreachable = port_unreachable;
      e.from_destination = p.src == destination.ip;
      e.from = e.from_destination ? destination.ip.to_string() : icmp_sender_text(p.src);
      e.ttl = p.ttl;
      e.first_t = ts;
    }
    e.last_t = ts;
  }

  // ---------------------------------------------------------------- finish
  void finish_dns() {
    // Each resolver's usual IP TTL: the most common TTL of the last response
    // to each query (a forged answer races ahead; the real one comes last).
    std::map<Peer, std::map<int, int>> last_ttls;
    for (const auto& e : exchanges)
      if (!e.responses.empty()) ++last_ttls[e.server][e.responses.back().ttl];
    std::map<Peer, std::pair<int, int>> usual;  // ttl, count
    for (const auto& [server, counts] : last_ttls) {
      std::pair<int, int> best{-1, 0};
      for (const auto& [ttl, n] : counts)
        if (n > best.second) best = {ttl, n};
      if (best.second >= 2) usual[server] = best;
    }

    for (const auto& e : exchanges) {
      if (e.responses.empty()) continue;
      const auto endpoints = endpoints_for_qname(e.qname);
      json ttls = json::array(), ids = json::array(), answers = json::array(), times = json::array(),
           delays = json::array(), rcodes = json::array();
      bool differ = false;
      for (const auto& r : e.responses) {
        ttls.push_back(r.ttl);
        ids.push_back(r.ip_id);
        answers.push_back(r.answers);
        times.push_back(rel(r.t));
        rcodes.push_back(r.rcode);
        delays.push_back(e.query_t.empty() ? json(nullptr) : json(round_ms(r.t - e.query_t.front())));
        const auto& first = e.responses.front();
        if (r.ttl != first.ttl || r.rcode != first.rcode) differ = true;
        auto sorted_a = r.answers, sorted_b = first.answers;
        std::sort(sorted_a.begin(), sorted_a.end());
        std::sort(sorted_b.begin(), sorted_b.end());
        if (sorted_a != sorted_b) differ = true;
      }
      const json base = {{"resolver", e.server.text()}, {"qname", e.qname}, {"query_id", e.id}};
      const std::size_t queries = e.query_t.size();
      if (e.responses.size() >= 2 && (differ || e.responses.size() > std::max<std::size_t>(1, queries))) {
        json ev = base;
        ev.update({{"count", e.responses.size()}, {"queries", queries}, {"differ", differ},
                   {"ip_ttls", ttls}, {"ip_ids", ids}, {"answers", answers}, {"rcodes", rcodes},
                   {"t", times}, {"delays_ms", delays}});
        emit("dns_multiple_answers", endpoints, e.responses.front().t, std::move(ev));
      }
      if (auto it = usual.find(e.server); it != usual.end()) {
        const int usual_ttl = it->second.first;
        json odd_ttls = json::array(), odd_answers = json::array();
        double odd_t = -1;
        for (const auto& r : e.responses)
          if (std::abs(static_cast<int>(r.ttl) - usual_ttl) > options.dns_ttl_tolerance) {
            odd_ttls.push_back(r.ttl);
            odd_answers.push_back(r.answers);
            if (odd_t < 0) odd_t = r.t;
          }
        if (!odd_ttls.empty()) {
          json ev = base;
          ev.update({{"usual_ip_ttl", usual_ttl}, {"usual_count", it->second.second},
                     {"ip_ttls", odd_ttls}, {"answers", odd_answers}});
          emit("dns_ttl_mismatch", endpoints, odd_t, std::move(ev));
        }
      }
      const bool silent_by_icmp = port_unreachable_from.count(e.server) > 0;
      if (silent_by_icmp || silent.count(e.server)) {
        json ev = base;
        ev.update({{"why", silent_by_icmp ? "icmp_port_unreachable" : "registered_silent"},
                   {"ip_ttls", ttls}, {"answers", answers}, {"t", times}});
        if (silent_by_icmp) ev["icmp_t"] = rel(port_unreachable_from[e.server]);
        emit("dns_answer_from_silent_server", endpoints, e.responses.front().t, std::move(ev));
      }
    }
  }

  void finish_tcp(double end_ts) {
    // The server's usual SYN-ACK TTL over all flows, for RSTs in flows that
    // never got a SYN-ACK of their own.
    std::map<IpAddress, std::map<int, int>> synack_ttls;
    for (const auto& f : flows)
      if (f.synack) ++synack_ttls[f.server.ip][f.synack_ttl];

    for (auto& f : flows) {
      const auto endpoints = endpoints_for_address(f.server);
      const std::string server = f.server.text();
      if (f.syn_count >= options.syn_blackhole_min_syns && !f.inbound_any && f.icmp_errors == 0) {
        emit("syn_blackhole", endpoints, f.first_syn_t,
             {{"server", server}, {"syn_count", f.syn_count}, {"first_syn_t", rel(f.first_syn_t)},
              {"last_syn_t", rel(f.last_syn_t)}, {"waited_s", round_us(end_ts - f.first_syn_t)}});
      }
      if (f.ch_seen && f.ch_sends >= options.client_hello_blackhole_min_sends && !f.inbound_after_ch &&
          f.icmp_errors == 0) {
        json ev = {{"server", server}, {"sends", f.ch_sends}, {"first_t", rel(f.ch_t)},
                   {"waited_s", round_us(end_ts - f.ch_t)}, {"synack_ttl", f.synack_ttl},
                   {"rtt_ms", f.rtt >= 0 ? json(round_ms(f.rtt)) : json(nullptr)}};
        if (!f.sni.empty()) ev["sni"] = f.sni;
        emit("client_hello_blackhole", endpoints, f.ch_t, std::move(ev));
      }
      evaluate_resets(f, endpoints, synack_ttls);
      if (f.data_after_rst) emit("tcp_data_after_rst", endpoints, f.data_after_rst_t, f.data_after_rst_evidence);
    }
  }

  void evaluate_resets(const TcpFlow& f, const std::vector<std::string>& endpoints,
                       const std::map<IpAddress, std::map<int, int>>& synack_ttls) {
    int reference_ttl = -1;
    std::string reference = "synack";
    if (f.synack) {
      reference_ttl = f.synack_ttl;
    } else if (auto it = synack_ttls.find(f.server.ip); it != synack_ttls.end()) {
      int best = 0;
      for (const auto& [ttl, n] : it->second)
        if (n > best) {
          best = n;
          reference_ttl = ttl;
        }
      reference = "other_flows_synack";
    }
    json flagged = json::array();
    const ResetEvent* first = nullptr;
    json first_reasons;
    for (const auto& r : f.resets) {
      json reasons = json::array();
      if (reference_ttl >= 0 && std::abs(static_cast<int>(r.ttl) - reference_ttl) > options.rst_ttl_tolerance)
        reasons.push_back("ip_ttl");
      if (r.have_id_reference && r.ip_id != 0) {
        const uint16_t ahead = static_cast<uint16_t>(r.ip_id - r.id_reference);
        const uint16_t behind = static_cast<uint16_t>(r.id_reference - r.ip_id);
        if (ahead > 4096 && behind > 64) reasons.push_back("ip_id");
      } else if (r.have_id_reference && r.ip_id == 0 && f.synack && f.synack_id != 0) {
        // The stack numbers its packets (non-zero SYN-ACK IP-ID) but this one has none.
        reasons.push_back("ip_id");
      }
      const bool after_trigger = r.after == "client_hello" || r.after == "request";
      if (after_trigger && r.rtt >= options.fast_response_min_rtt_s && r.after_t >= 0 &&
          r.t - r.after_t < options.fast_response_fraction * r.rtt)
        reasons.push_back("too_fast");
      if (reasons.empty()) continue;
      flagged.push_back({{"t", rel(r.t)}, {"ttl", r.ttl}, {"ip_id", r.ip_id}, {"flags", (r.flags & tcpflag::kRst) ? "RST" : "FIN"}});
      if (!first) {
        first = &r;
        first_reasons = reasons;
      }
    }
    if (!first) return;
    json ev = {{"server", f.server.text()},
               {"client_port", f.client.port},
               {"flags", (first->flags & tcpflag::kRst) ? "RST" : "FIN"},
               {"reasons", first_reasons},
               {"rst_ttl", first->ttl},
               {"synack_ttl", reference_ttl >= 0 ? json(reference_ttl) : json(nullptr)},
               {"ttl_reference", reference},
               {"rst_ip_id", first->ip_id},
               {"synack_ip_id", f.synack ? json(f.synack_id) : json(nullptr)},
               {"server_last_ip_id", first->have_id_reference ? json(first->id_reference) : json(nullptr)},
               {"after", first->after},
               {"delay_ms", first->after_t >= 0 ? json(round_ms(first->t - first->after_t)) : json(nullptr)},
               {"rtt_ms", first->rtt >= 0 ? json(round_ms(first->rtt)) : json(nullptr)},
               {"count", flagged.size()},
               {"packets", flagged}};
    if (!f.sni.empty()) ev["sni"] = f.sni;
    emit("tcp_rst_injected", endpoints, first->t, std::move(ev));
  }

  void finish_icmp() {
    for (const auto& [key, e] : icmp_events) {
      emit("icmp_unreachable", endpoints_for_address(e.destination), e.first_t,
           {{"protocol", e.protocol}, {"destination", e.destination.text()},
            {"icmp_type", e.type}, {"code", e.code}, {"admin_prohibited", e.admin_prohibited},
            {"port_unreachable", e.port_unreachable}, {"from", e.from},
            {"from_destination", e.from_destination}, {"ip_ttl", e.ttl}, {"count", e.count},
            {"last_t", rel(e.last_t)}});
    }
  }

  json flow_figures() const {
    json out = json::array();
    for (const auto& f : flows) {
      if (out.size() >= options.max_flows_reported) break;
      const double start = f.first_out_data_t >= 0 ? f.first_out_data_t : (f.synack ? f.synack_t : f.first_t);
      const double span = f.last_in_data_t - start;
      json throughput = nullptr;
      if (f.bytes_in > 0 && span >= 0.001) throughput = std::round(f.bytes_in * 8.0 / 1000.0 / span * 1000) / 1000;
      const auto endpoints = endpoints_for_address(f.server);
      json flow = {{"endpoint", endpoints.front()},
                   {"address", f.server.text()},
                   {"client_port", f.client.port},
                   {"t0", rel(f.first_t)},
                   {"syn_count", f.syn_count},
                   {"handshake_rtt_ms", f.rtt >= 0 ? json(round_ms(f.rtt)) : json(nullptr)},
                   {"packets_in", f.packets_in},
                   {"packets_out", f.packets_out},
                   {"bytes_in", f.bytes_in},
                   {"bytes_out", f.bytes_out},
                   {"duration_s", round_us(f.last_t - f.first_t)},
                   {"throughput_kbps", throughput},
                   {"retransmissions", f.retrans_in + f.retrans_out},
                   {"retransmissions_in", f.retrans_in},
                   {"retransmissions_out", f.retrans_out},
                   {"rst_in", f.rst_in},
                   {"retransmission_rate_in",
                    f.data_packets_in + f.retrans_in > 0
                        ? json(std::round(1e4 * f.retrans_in / double(f.data_packets_in + f.retrans_in)) / 1e4)
                        : json(nullptr)}};
      if (!f.sni.empty()) flow["sni"] = f.sni;
      out.push_back(std::move(flow));
    }
    return out;
  }
};

FlowTracker::FlowTracker(FlowRegistry registry, DetectorOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), options)) {}
FlowTracker::~FlowTracker() = default;

void FlowTracker::add(const DecodedPacket& packet, double ts) { impl_->add(packet, ts); }

void FlowTracker::add_frame(int link_type, const uint8_t* data, std::size_t caplen, double ts) {
  impl_->add(decode_packet(link_type, data, caplen), ts);
}

DetectorResult FlowTracker::finish(double end_ts) {
  auto& impl = *impl_;
  if (end_ts <= 0) end_ts = impl.max_ts;
  // Anomalies found while packets streamed in stay; the end-of-capture rules
  // are recomputed on every call.
  impl.anomalies = impl.streamed;
  impl.finish_dns();
  impl.finish_tcp(end_ts);
  impl.finish_icmp();
  DetectorResult result;
  result.anomalies = impl.anomalies;
  std::stable_sort(result.anomalies.begin(), result.anomalies.end(),
                   [](const Anomaly& a, const Anomaly& b) { return a.t < b.t; });
  result.flows = impl.flow_figures();
  result.stats = impl.stats;
  return result;
}

nlohmann::json anomaly_to_json(const Anomaly& a) {
  return {{"type", a.type}, {"endpoint", a.endpoint}, {"t", a.t}, {"evidence", a.evidence}};
}

}  // namespace vantage::capture
