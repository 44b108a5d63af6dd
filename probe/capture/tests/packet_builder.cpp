// Packet builder for the capture tests. See packet_builder.h.
#include "probe/capture/tests/packet_builder.h"

#include <arpa/inet.h>

#include <stdexcept>

namespace vantage::capture::testing {
namespace {

void put16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}
void put32(std::string& s, uint32_t v) {
  put16(s, static_cast<uint16_t>(v >> 16));
  put16(s, static_cast<uint16_t>(v & 0xffff));
}
std::string addr4(const std::string& text) {
  std::string out(4, '\0');
  if (inet_pton(AF_INET, text.c_str(), out.data()) != 1) throw std::runtime_error("bad ipv4 " + text);
  return out;
}
std::string addr6(const std::string& text) {
  std::string out(16, '\0');
  if (inet_pton(AF_INET6, text.c_str(), out.data()) != 1) throw std::runtime_error("bad ipv6 " + text);
  return out;
}
uint16_t checksum(const std::string& bytes) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2)
    sum += (static_cast<uint8_t>(bytes[i]) << 8) | static_cast<uint8_t>(bytes[i + 1]);
  if (bytes.size() % 2) sum += static_cast<uint8_t>(bytes.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
std::string encode_name(const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<char>(dot - start));
    out += name.substr(start, dot - start);
    start = dot + 1;
  }
  out.push_back('\0');
  return out;
}

}  // namespace

std::string ipv4(const std::string& src, const std::string& dst, uint8_t protocol, const std::string& l4,
                 uint8_t ttl, uint16_t id, bool df) {
  std::string h;
  h.push_back(0x45);
  h.push_back(0);
  put16(h, static_cast<uint16_t>(20 + l4.size()));
  put16(h, id);
  put16(h, df ? 0x4000 : 0);
  h.push_back(static_cast<char>(ttl));
  h.push_back(static_cast<char>(protocol));
  put16(h, 0);
  h += addr4(src) + addr4(dst);
  const uint16_t sum = checksum(h);
  h[10] = static_cast<char>(sum >> 8);
  h[11] = static_cast<char>(sum & 0xff);
  return h + l4;
}

std::string ipv6(const std::string& src, const std::string& dst, uint8_t next, const std::string& l4,
                 uint8_t hop_limit, const std::string& extensions, uint8_t first_next) {
  std::string h;
  put32(h, 0x60000000);
  put16(h, static_cast<uint16_t>(extensions.size() + l4.size()));
  h.push_back(static_cast<char>(extensions.empty() ? next : first_next));
  h.push_back(static_cast<char>(hop_limit));
  h += addr6(src) + addr6(dst);
  return h + extensions + l4;
}

std::string tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                const std::string& payload, uint16_t window, const std::string& options) {
  std::string h;
  put16(h, sport);
  put16(h, dport);
  put32(h, seq);
  put32(h, ack);
  const size_t header = 20 + (options.size() + 3) / 4 * 4;
  h.push_back(static_cast<char>((header / 4) << 4));
  h.push_back(static_cast<char>(flags));
  put16(h, window);
  put16(h, 0);
  put16(h, 0);
  h += options;
  h.resize(header, '\0');
  return h + payload;
}

std::string udp(uint16_t sport, uint16_t dport, const std::string& payload) {
  std::string h;
  put16(h, sport);
  put16(h, dport);
  put16(h, static_cast<uint16_t>(8 + payload.size()));
  put16(h, 0);
  return h + payload;
}

std::string icmp(uint8_t type, uint8_t code, const std::string& quoted) {
  std::string h;
  h.push_back(static_cast<char>(type));
  h.push_back(static_cast<char>(code));
  put16(h, 0);
  put32(h, 0);
  return h + quoted;
}

std::string ethernet(const std::string& ip_packet, bool vlan) {
  std::string h(12, '\x02');  // MACs; never read
  if (vlan) {
    put16(h, 0x8100);
    put16(h, 7);
  }
  put16(h, (static_cast<uint8_t>(ip_packet[0]) >> 4) == 6 ? 0x86dd : 0x0800);
  return h + ip_packet;
}

std::string linux_sll(const std::string& ip_packet) {
  std::string h;
  put16(h, 0);       // packet type: to us
  put16(h, 1);       // ARPHRD_ETHER
  put16(h, 6);       // address length
  h += std::string(8, '\x02');
  put16(h, (static_cast<uint8_t>(ip_packet[0]) >> 4) == 6 ? 0x86dd : 0x0800);
  return h + ip_packet;
}

std::string linux_sll2(const std::string& ip_packet) {
  std::string h;
  put16(h, (static_cast<uint8_t>(ip_packet[0]) >> 4) == 6 ? 0x86dd : 0x0800);
  put16(h, 0);       // reserved
  put32(h, 1);       // interface index
  put16(h, 1);       // ARPHRD_ETHER
  h.push_back(0);    // packet type
  h.push_back(6);    // address length
  h += std::string(8, '\x02');
  return h + ip_packet;
}

std::string bsd_null(const std::string& ip_packet) {
  const uint32_t family = (static_cast<uint8_t>(ip_packet[0]) >> 4) == 6 ? 10 : 2;
  std::string h(reinterpret_cast<const char*>(&family), 4);
  return h + ip_packet;
}

std::string dns_query(uint16_t id, const std::string& qname, uint16_t qtype) {
  std::string m;
  put16(m, id);
  put16(m, 0x0100);
  put16(m, 1);
  put16(m, 0);
  put16(m, 0);
  put16(m, 0);
  m += encode_name(qname);
  put16(m, qtype);
  put16(m, 1);
  return m;
}

std::string dns_response(uint16_t id, const std::string& qname, const std::vector<std::string>& answers,
                         uint32_t ttl, int rcode) {
  std::string m;
  put16(m, id);
  put16(m, static_cast<uint16_t>(0x8180 | (rcode & 0xf)));
  put16(m, 1);
  put16(m, static_cast<uint16_t>(answers.size()));
  put16(m, 0);
  put16(m, 0);
  m += encode_name(qname);
  put16(m, 1);
  put16(m, 1);
  for (const auto& a : answers) {
    put16(m, 0xc00c);  // pointer to the question's name
    put16(m, 1);
    put16(m, 1);
    put32(m, ttl);
    put16(m, 4);
    m += addr4(a);
  }
  return m;
}

std::string client_hello(const std::string& sni) {
  std::string body;
  put16(body, 0x0303);
  body += std::string(32, '\x11');  // random
  body.push_back(32);
  body += std::string(32, '\x22');  // session id
  put16(body, 4);
  put16(body, 0x1301);
  put16(body, 0xc02f);
  body.push_back(1);
  body.push_back(0);
  std::string ext;
  // a GREASE-like extension first, so SNI is not at a fixed offset
  put16(ext, 0x0a0a);
  put16(ext, 2);
  put16(ext, 0);
  put16(ext, 0);  // server_name
  put16(ext, static_cast<uint16_t>(sni.size() + 5));
  put16(ext, static_cast<uint16_t>(sni.size() + 3));
  ext.push_back(0);
  put16(ext, static_cast<uint16_t>(sni.size()));
  ext += sni;
  put16(body, static_cast<uint16_t>(ext.size()));
  body += ext;
  std::string hs;
  hs.push_back(1);
  hs.push_back(0);
  put16(hs, static_cast<uint16_t>(body.size()));
  hs += body;
  std::string rec;
  rec.push_back(0x16);
  put16(rec, 0x0301);
  put16(rec, static_cast<uint16_t>(hs.size()));
  return rec + hs;
}

std::string tls_alert(uint8_t level, uint8_t description) {
  std::string rec;
  rec.push_back(0x15);
  put16(rec, 0x0303);
  put16(rec, 2);
  rec.push_back(static_cast<char>(level));
  rec.push_back(static_cast<char>(description));
  return rec;
}

std::string TcpConversation::syn() {
  syn_sent = true;
  return ipv4(client, server, 6, tcp(client_port, server_port, client_seq, 0, 0x02), client_ttl, client_id++);
}
std::string TcpConversation::synack(uint16_t id) {
  synack_sent = true;
  return ipv4(server, client, 6, tcp(server_port, client_port, server_seq, client_seq + 1, 0x12), server_ttl, id);
}
std::string TcpConversation::ack() {
  if (syn_sent) {
    ++client_seq;
    syn_sent = false;
  }
  if (synack_sent) {
    ++server_seq;
    synack_sent = false;
  }
  return ipv4(client, server, 6, tcp(client_port, server_port, client_seq, server_seq, 0x10), client_ttl, client_id++);
}
std::string TcpConversation::client_data(const std::string& payload) {
  auto p = client_data_at(client_seq, payload);
  client_seq += static_cast<uint32_t>(payload.size());
  return p;
}
std::string TcpConversation::client_data_at(uint32_t seq, const std::string& payload) {
  return ipv4(client, server, 6, tcp(client_port, server_port, seq, server_seq, 0x18, payload), client_ttl, client_id++);
}
std::string TcpConversation::server_data(const std::string& payload, uint16_t id, int ttl) {
  auto p = ipv4(server, client, 6, tcp(server_port, client_port, server_seq, client_seq, 0x18, payload),
                ttl < 0 ? server_ttl : static_cast<uint8_t>(ttl), id);
  server_seq += static_cast<uint32_t>(payload.size());
  return p;
}
std::string TcpConversation::server_data_at(uint32_t seq, const std::string& payload, uint16_t id) {
  return ipv4(server, client, 6, tcp(server_port, client_port, seq, client_seq, 0x18, payload), server_ttl, id);
}
std::string TcpConversation::server_flags(uint8_t flags, uint16_t id, int ttl) {
  return ipv4(server, client, 6, tcp(server_port, client_port, server_seq, client_seq, flags),
              ttl < 0 ? server_ttl : static_cast<uint8_t>(ttl), id);
}
std::string TcpConversation::client_flags(uint8_t flags) {
  return ipv4(client, server, 6, tcp(client_port, server_port, client_seq, server_seq, flags), client_ttl, client_id++);
}

}  // namespace vantage::capture::testing
