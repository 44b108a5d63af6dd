// Packet decoder: raw captured bytes (one frame of a given libpcap link type)
// → a flat description of its IP, TCP/UDP/ICMP headers and payload.
//
// Contract: pure function on bytes. Every length and offset is checked before
// it is read; a truncated or malformed packet yields `ok == false` (or a
// partial decode with `truncated` set) and an `error` naming the layer — it
// never throws, never reads past `caplen`, never allocates per byte. The
// returned `payload` points into the caller's buffer and lives only as long
// as that buffer. MAC addresses are skipped, never copied out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vantage::capture {

// libpcap DLT_* values we accept (numeric so this header needs no pcap.h).
// DLT_RAW is 12 on Linux and 14 on OpenBSD; savefiles use LINKTYPE_RAW 101.
namespace link {
constexpr int kNull = 0;         // BSD loopback: 4-byte host-order family
constexpr int kEthernet = 1;     // DLT_EN10MB
constexpr int kRaw = 12;         // DLT_RAW
constexpr int kRawOpenBsd = 14;
constexpr int kRawLinktype = 101;
constexpr int kLoop = 108;       // OpenBSD loopback: 4-byte network-order family
constexpr int kLinuxSll = 113;   // "any" device, cooked v1
constexpr int kIpv4 = 228;
constexpr int kIpv6 = 229;
constexpr int kLinuxSll2 = 276;  // cooked v2
bool supported(int link_type);
const char* name(int link_type);  // "EN10MB", "LINUX_SLL", ... or "unknown"
}  // namespace link

namespace ipproto {
constexpr uint8_t kIcmp = 1;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmpv6 = 58;
}  // namespace ipproto

namespace tcpflag {
constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20;
}

// An IPv4 or IPv6 address, stored in network order.
struct IpAddress {
  int version = 0;  // 4 or 6; 0 = none
  std::array<uint8_t, 16> bytes{};

  std::string to_string() const;  // inet_ntop form; "" when version == 0
  bool operator==(const IpAddress& o) const { return version == o.version && bytes == o.bytes; }
  bool operator<(const IpAddress& o) const {
    return version != o.version ? version < o.version : bytes < o.bytes;
  }
  // Parses dotted-quad or IPv6 text; false if neither.
  static bool parse(std::string_view text, IpAddress& out);
};

// "1.2.3.4:443" or "[2001:db8::1]:443" (the engine's join_address form).
std::string format_address(const IpAddress& ip, uint16_t port);
// Parses the forms above; a bare address gets `default_port`.
bool parse_address(std::string_view text, IpAddress& ip, uint16_t& port, uint16_t default_port = 0);

// The header an ICMP error quotes: which of our flows it is about.
struct QuotedHeader {
  bool present = false;
  uint8_t protocol = 0;
  IpAddress src, dst;
  uint16_t src_port = 0, dst_port = 0;  // 0 unless TCP/UDP and the 4 bytes are there
};

struct DecodedPacket {
  bool ok = false;        // an IP header was decoded
  bool truncated = false; // the capture ends before the IP packet does (snaplen)
  std::string_view error; // why not ok, or which layer was malformed; static text

  // IP
  int ip_version = 0;
  IpAddress src, dst;
  uint8_t ttl = 0;        // IPv4 TTL or IPv6 hop limit
  uint16_t ip_id = 0;     // IPv4 only
  bool dont_fragment = false;
  bool later_fragment = false;  // a non-first fragment: no transport header
  uint8_t protocol = 0;   // final next-header after IPv6 extension headers
  uint32_t ip_length = 0; // length of the IP packet on the wire (from its header)

  // Transport (protocol says which one is filled)
  bool has_transport = false;
  uint16_t src_port = 0, dst_port = 0;  // TCP and UDP
  uint32_t seq = 0, ack = 0;            // TCP
  uint8_t tcp_flags = 0;
  uint16_t window = 0;
  uint8_t icmp_type = 0, icmp_code = 0; // ICMP and ICMPv6
  QuotedHeader quoted;                  // ICMP errors

  std::string_view payload;  // captured bytes of the L4 payload
  uint32_t payload_length = 0;  // its length on the wire (>= payload.size())
};

DecodedPacket decode_packet(int link_type, const uint8_t* data, size_t caplen);

// Decodes an IP packet (no link header). Used by decode_packet and tests.
DecodedPacket decode_ip(const uint8_t* data, size_t caplen);

}  // namespace vantage::capture
