// packet.h — bounds-checked views of the IPv4/IPv6, UDP and TCP headers of a
// packet handed over by NFQUEUE, and the builder for a forged IPv4/UDP packet.
//
// Every parser returns std::nullopt for anything truncated, malformed or
// unsupported; it never reads past the span it was given and never throws.
// The views borrow the caller's buffer: they must not outlive it.
#ifndef VANTAGE_CI_LAB_TOOLS_PACKET_H_
#define VANTAGE_CI_LAB_TOOLS_PACKET_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace lab {

using Bytes = std::span<const uint8_t>;

inline uint16_t ReadU16(Bytes b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
inline uint32_t ReadU24(Bytes b, size_t at) {
  return (uint32_t{b[at]} << 16) | (uint32_t{b[at + 1]} << 8) | b[at + 2];
}

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

// An IP address of either family; IPv4 uses the first 4 bytes.
struct IpAddress {
  int version = 0;  // 4 or 6
  std::array<uint8_t, 16> bytes{};
  auto operator<=>(const IpAddress&) const = default;
};
std::string FormatAddress(const IpAddress& address);
std::optional<IpAddress> ParseIpv4Address(const std::string& text);

struct IpPacket {
  IpAddress src;
  IpAddress dst;
  uint8_t protocol = 0;  // transport protocol after IPv6 extension headers
  bool is_fragment = false;  // any fragment, first or not: ports may be absent
  Bytes transport;  // from the transport header to the end of the IP payload
};
std::optional<IpPacket> ParseIp(Bytes packet);

struct UdpDatagram {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  Bytes payload;
};
std::optional<UdpDatagram> ParseUdp(Bytes transport);

struct TcpSegment {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t flags = 0;
  Bytes payload;
};
std::optional<TcpSegment> ParseTcp(Bytes transport);

// A complete IPv4 packet (header without options, UDP header with a correct
// checksum, payload) ready for a raw IP_HDRINCL socket.
struct Ipv4UdpSpec {
  IpAddress src;
  IpAddress dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t ttl = 64;
  uint16_t ip_id = 0;
};
std::vector<uint8_t> BuildIpv4Udp(const Ipv4UdpSpec& spec, Bytes payload);

// RFC 1071 one's-complement sum over `data`, folded; `initial` chains sums.
uint32_t ChecksumAdd(uint32_t initial, Bytes data);
uint16_t ChecksumFinish(uint32_t sum);

}  // namespace lab

#endif  // VANTAGE_CI_LAB_TOOLS_PACKET_H_
