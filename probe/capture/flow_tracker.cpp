// Flow tracker. See flow_tracker.h for the contract.
#include "probe/capture/flow_tracker.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "probe/capture/dns_message.h"
#include "probe/capture/tls_record.h"
#include "reports/format/ip_address.h"

namespace vantage::capture {

using nlohmann::json;

double round_us(double v) { return std::round(v * 1e6) / 1e6; }
double round_ms(double seconds) { return std::round(seconds * 1e6) / 1e3; }

const char* to_string(OutboundKind kind) {
  switch (kind) {
    case OutboundKind::none: return "syn";
    case OutboundKind::data: return "data";
    case OutboundKind::client_hello: return "client_hello";
    case OutboundKind::request: return "request";
  }
  return "syn";
}

// Private, loopback, link-local, CGNAT, ULA: the one address classifier
// (reports/format/ip_address.h), asked for the capture's list.
std::string icmp_sender_text(const IpAddress& ip) {
  const bool is_private = ip::in_special_range(ip::Address{ip.version, ip.bytes}, ip::kLocal);
  return is_private ? "[private]" : ip.to_string();
}

FlowTracker::FlowTracker(FlowRegistry r, DetectorOptions o) : registry_(std::move(r)), options_(o) {
  auto load = [](const std::vector<std::string>& list, std::set<Peer>& into, uint16_t def) {
    for (const auto& text : list) {
      Peer p;
      if (parse_address(text, p.ip, p.port, def)) into.insert(p);
    }
  };
  load(registry_.resolvers, resolvers_, 53);
  load(registry_.targets, targets_, 0);
  load(registry_.silent_resolvers, silent_, 53);
  for (const auto& r : resolvers_) resolver_ports_.insert(r.port);
  // Endpoint keys in canonical form, whatever spelling the caller used.
  std::map<std::string, std::vector<std::string>> canonical;
  for (auto& [text, endpoints] : registry_.address_endpoints) {
    Peer p;
    auto& into = canonical[parse_address(text, p.ip, p.port, 0) ? p.text() : text];
    for (auto& e : endpoints)
      if (std::find(into.begin(), into.end(), e) == into.end()) into.push_back(e);
  }
  registry_.address_endpoints = std::move(canonical);
  restricted_ = options_.restrict_to_registry && (!resolvers_.empty() || !targets_.empty());
}

double FlowTracker::rel(double ts) const { return round_us(ts - options_.time_origin); }

std::vector<std::string> FlowTracker::endpoints_for_address(const Peer& server) const {
  auto it = registry_.address_endpoints.find(server.text());
  if (it != registry_.address_endpoints.end() && !it->second.empty()) return it->second;
  return {server.text()};
}

std::vector<std::string> FlowTracker::endpoints_for_qname(const std::string& qname) const {
  for (const auto& [name, eps] : registry_.qname_endpoints) {
    std::string lowered = name;
    for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!lowered.empty() && lowered.back() == '.') lowered.pop_back();
    if (lowered == qname && !eps.empty()) return eps;
  }
  return {qname};
}

bool FlowTracker::is_duplicate(const DecodedPacket& p, double ts) {
  Signature s{p.src.bytes, p.dst.bytes, p.protocol, p.ttl, p.tcp_flags, p.icmp_type, p.ip_id,
              p.src_port, p.dst_port, p.seq, p.ack, p.ip_length};
  while (!recent_.empty() && (recent_.front().first < ts - options_.duplicate_window_s || recent_.size() > 256))
    recent_.pop_front();
  for (const auto& [t, sig] : recent_)
    if (sig == s && std::fabs(ts - t) <= options_.duplicate_window_s) return true;
  recent_.emplace_back(ts, s);
  return false;
}

PacketEvent FlowTracker::add(const DecodedPacket& p, double ts) {
  ++stats_.packets;
  if (!p.ok) {
    ++stats_.malformed;
    return {};
  }
  if (ts > max_ts_) max_ts_ = ts;
  if (is_duplicate(p, ts)) {
    ++stats_.duplicates;
    return {};
  }
  if (!p.has_transport) {
    ++stats_.ignored;
    return {};
  }
  switch (p.protocol) {
    case ipproto::kTcp: return add_tcp(p, ts);
    case ipproto::kUdp: add_udp(p, ts); return {};
    case ipproto::kIcmp:
    case ipproto::kIcmpv6: add_icmp(p, ts); return {};
    default: ++stats_.ignored; return {};
  }
}

// ---------------------------------------------------------------- TCP
TcpFlow* FlowTracker::find_or_create_flow(const DecodedPacket& p, double ts) {
  const Peer a{p.src, p.src_port}, b{p.dst, p.dst_port};
  if (auto it = flow_index_.find({a, b}); it != flow_index_.end()) return &flows_[it->second];
  if (auto it = flow_index_.find({b, a}); it != flow_index_.end()) return &flows_[it->second];
  // New flow: who is the client?
  bool a_is_client;
  if (targets_.count(b)) a_is_client = true;
  else if (targets_.count(a)) a_is_client = false;
  else if (restricted_) return nullptr;
  else if ((p.tcp_flags & tcpflag::kSyn) && !(p.tcp_flags & tcpflag::kAck)) a_is_client = true;
  else if ((p.tcp_flags & tcpflag::kSyn) && (p.tcp_flags & tcpflag::kAck)) a_is_client = false;
  else a_is_client = p.dst_port <= p.src_port;
  TcpFlow flow;
  flow.client = a_is_client ? a : b;
  flow.server = a_is_client ? b : a;
  flow.order = flows_.size();
  flow.first_t = ts;
  flow_index_[{flow.client, flow.server}] = flows_.size();
  flows_.push_back(std::move(flow));
  return &flows_.back();
}

PacketEvent FlowTracker::add_tcp(const DecodedPacket& p, double ts) {
  TcpFlow* f = find_or_create_flow(p, ts);
  if (f == nullptr) {
    ++stats_.ignored;
    return {};
  }
  f->last_t = std::max(f->last_t, ts);
  const bool outbound = p.src == f->client.ip && p.src_port == f->client.port;
  if (!outbound) return inbound_tcp(*f, p, ts);
  outbound_tcp(*f, p, ts);
  return {};
}

void FlowTracker::outbound_tcp(TcpFlow& f, const DecodedPacket& p, double ts) {
  ++f.packets_out;
  const uint8_t flags = p.tcp_flags;
  if ((flags & tcpflag::kSyn) && !(flags & tcpflag::kAck)) {
    ++f.syn_count;
    if (f.first_syn_t < 0) f.first_syn_t = ts;
    f.last_syn_t = ts;
    if (f.last_out_kind == OutboundKind::none) f.last_out_t = ts;
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
  OutboundKind kind = OutboundKind::data;
  if (auto hello = parse_client_hello(p.payload)) {
    kind = OutboundKind::client_hello;
    if (!f.ch_seen) {
      f.ch_seen = true;
      f.ch_t = ts;
      f.ch_seq = p.seq;
      f.ch_sends = 1;
      f.sni = hello->sni;
    }
  } else if (looks_like_http_request(p.payload)) {
    kind = OutboundKind::request;
  }
  f.last_out_kind = kind;
  f.last_out_t = ts;
  if (kind != OutboundKind::data) {
    f.trigger_t = ts;
    f.trigger_kind = kind;
  }
}

PacketEvent FlowTracker::inbound_tcp(TcpFlow& f, const DecodedPacket& p, double ts) {
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
    return {};
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
    r.after = f.last_out_kind;
    r.after_t = f.last_out_t;
    r.have_id_reference = f.have_nonzero_server_id;
    r.id_reference = f.last_server_id;
    r.rtt = f.rtt;
    f.resets.push_back(r);
    if (rst) return {};  // a RST's payload (if any) is not data
  }

  if (p.ip_id != 0 && p.ip_version == 4) {
    f.have_nonzero_server_id = true;
    f.last_server_id = p.ip_id;
  }
  if (p.payload_length == 0) return {};
  account_inbound_data(f, p, ts);
  return {&f};
}

void FlowTracker::account_inbound_data(TcpFlow& f, const DecodedPacket& p, double ts) {
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
    const double window = std::max(options_.reorder_window_s, f.rtt > 0 ? f.rtt / 4 : 0.0);
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

// ---------------------------------------------------------------- DNS
bool FlowTracker::is_resolver(const Peer& p) const {
  if (!resolvers_.empty() || restricted_) return resolvers_.count(p) > 0;
  return resolver_ports_.count(p.port) > 0;
}

void FlowTracker::add_udp(const DecodedPacket& p, double ts) {
  const Peer a{p.src, p.src_port}, b{p.dst, p.dst_port};
  const bool to_server = is_resolver(b), from_server = is_resolver(a);
  if (!to_server && !from_server) {
    ++stats_.ignored;
    return;
  }
  DnsWireMessage m;
  if (!parse_dns_wire(p.payload, m)) {
    ++stats_.ignored;
    return;
  }
  auto new_exchange = [&](const Peer& client, const Peer& server) {
    DnsExchange e;
    e.client = client;
    e.server = server;
    e.id = m.id;
    e.qname = m.qname;
    e.qtype = m.qtype;
    e.order = exchanges_.size();
    exchanges_.push_back(std::move(e));
  };
  if (to_server && !m.response) {
    auto [it, inserted] = dns_index_.try_emplace(std::make_tuple(a, b, m.id, m.qname), exchanges_.size());
    if (inserted) new_exchange(a, b);
    exchanges_[it->second].query_t.push_back(ts);
    return;
  }
  if (!from_server || !m.response) {
    ++stats_.ignored;
    return;
  }
  // A response: to the query with this id and name, or — when the response
  // carries no question — to the query with this id.
  std::size_t index = exchanges_.size();
  if (auto it = dns_index_.find(std::make_tuple(b, a, m.id, m.qname)); it != dns_index_.end()) {
    index = it->second;
  } else {
    for (const auto& e : exchanges_)
      if (e.client == b && e.server == a && e.id == m.id && (m.qname.empty() || e.qname == m.qname)) {
        index = e.order;
        break;
      }
  }
  if (index == exchanges_.size()) {
    dns_index_[std::make_tuple(b, a, m.id, m.qname)] = index;
    new_exchange(b, a);
  }
  DnsResponse r;
  r.t = ts;
  r.ttl = p.ttl;
  r.ip_id = p.ip_id;
  r.rcode = m.rcode;
  for (const auto& answer : m.answers)
    r.answers.push_back(answer.value.empty() ? answer.type : answer.type + " " + answer.value);
  exchanges_[index].responses.push_back(std::move(r));
}

// ---------------------------------------------------------------- ICMP
void FlowTracker::add_icmp(const DecodedPacket& p, double ts) {
  const bool v4 = p.protocol == ipproto::kIcmp;
  const bool unreachable = v4 ? p.icmp_type == 3 : p.icmp_type == 1;
  const auto& q = p.quoted;
  if (!unreachable || !q.present || (q.protocol != ipproto::kTcp && q.protocol != ipproto::kUdp)) {
    ++stats_.ignored;
    return;
  }
  // Only errors about packets the probe sent to one of its flows.
  const Peer client{q.src, q.src_port}, destination{q.dst, q.dst_port};
  TcpFlow* flow = nullptr;
  bool ours = false;
  if (q.protocol == ipproto::kTcp) {
    if (auto it = flow_index_.find({client, destination}); it != flow_index_.end()) {
      flow = &flows_[it->second];
      ours = true;
    } else {
      ours = targets_.count(destination) > 0;
    }
  } else {
    ours = is_resolver(destination);
  }
  if (!ours) {
    ++stats_.ignored;
    return;
  }
  if (flow) ++flow->icmp_errors;
  const bool port_unreachable = v4 ? p.icmp_code == 3 : p.icmp_code == 4;
  if (q.protocol == ipproto::kUdp && port_unreachable && p.src == destination.ip)
    port_unreachable_from_.try_emplace(destination, ts);
  const std::string protocol = q.protocol == ipproto::kTcp ? "tcp" : "udp";
  auto& e = icmp_events_[std::make_tuple(protocol, destination, p.icmp_type, p.icmp_code)];
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

// ---------------------------------------------------------------- figures
json FlowTracker::flow_figures() const {
  json out = json::array();
  for (const auto& f : flows_) {
    if (out.size() >= options_.max_flows_reported) break;
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

}  // namespace vantage::capture
