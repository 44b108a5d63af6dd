// Builds packets byte by byte for the capture tests, the benchmark's
// synthetic capture and the fuzz seed corpus: IPv4/IPv6, TCP/UDP/ICMP, link
// headers, DNS messages, a TLS ClientHello and alert. Test-only code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vantage::capture::testing {

std::string ipv4(const std::string& src, const std::string& dst, uint8_t protocol, const std::string& l4,
                 uint8_t ttl = 64, uint16_t id = 0, bool df = true);
// `extensions`: raw extension headers; `first_next` is the header after the
// fixed one (the extension's type when there are extensions).
std::string ipv6(const std::string& src, const std::string& dst, uint8_t next, const std::string& l4,
                 uint8_t hop_limit = 64, const std::string& extensions = "", uint8_t first_next = 0);
std::string tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                const std::string& payload = "", uint16_t window = 65535, const std::string& options = "");
std::string udp(uint16_t sport, uint16_t dport, const std::string& payload);
std::string icmp(uint8_t type, uint8_t code, const std::string& quoted);

std::string ethernet(const std::string& ip_packet, bool vlan = false);
std::string linux_sll(const std::string& ip_packet);
std::string linux_sll2(const std::string& ip_packet);
std::string bsd_null(const std::string& ip_packet);  // host order family

std::string dns_query(uint16_t id, const std::string& qname, uint16_t qtype = 1);
std::string dns_response(uint16_t id, const std::string& qname, const std::vector<std::string>& ipv4_answers,
                         uint32_t ttl = 300, int rcode = 0);
std::string client_hello(const std::string& sni);
std::string tls_alert(uint8_t level, uint8_t description);

// One TCP connection's packets, as raw IPv4 bytes, with consistent numbers.
struct TcpConversation {
  std::string client = "198.18.0.2", server = "198.18.1.10";
  uint16_t client_port = 40000, server_port = 443;
  uint32_t client_seq = 1000, server_seq = 5000;  // next sequence numbers
  uint8_t client_ttl = 64, server_ttl = 52;
  uint16_t client_id = 100, server_id = 0;        // server_id 0 = Linux DF SYN-ACK

  std::string syn();  // does not advance (retransmissions reuse it)
  std::string synack(uint16_t id = 0);
  std::string ack();
  std::string client_data(const std::string& payload);
  std::string client_data_at(uint32_t seq, const std::string& payload);  // retransmission
  std::string server_data(const std::string& payload, uint16_t id, int ttl = -1);
  std::string server_data_at(uint32_t seq, const std::string& payload, uint16_t id);
  std::string server_flags(uint8_t flags, uint16_t id, int ttl = -1);  // RST, FIN|ACK...
  std::string client_flags(uint8_t flags);
  bool syn_sent = false, synack_sent = false;
};

}  // namespace vantage::capture::testing
