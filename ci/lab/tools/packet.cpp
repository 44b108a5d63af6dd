// packet.cpp — IPv4/IPv6/UDP/TCP header parsing and IPv4/UDP packet building
// for lab_nfq. Never reads outside the given span; never allocates per parsed
// packet.
#include "packet.h"

#include <arpa/inet.h>

#include <algorithm>

namespace lab {

std::string FormatAddress(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = "?";
  const int family = address.version == 6 ? AF_INET6 : AF_INET;
  inet_ntop(family, address.bytes.data(), text, sizeof text);
  return text;
}

std::optional<IpAddress> ParseIpv4Address(const std::string& text) {
  IpAddress address;
  address.version = 4;
  if (inet_pton(AF_INET, text.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return address;
}

namespace {

std::optional<IpPacket> ParseIpv4(Bytes packet) {
  if (packet.size() < 20) return std::nullopt;
  const size_t header_length = static_cast<size_t>(packet[0] & 0x0f) * 4;
  const size_t total_length = ReadU16(packet, 2);
  if (header_length < 20 || total_length < header_length || total_length > packet.size()) {
    return std::nullopt;
  }
  IpPacket ip;
  ip.src.version = ip.dst.version = 4;
  std::copy_n(packet.begin() + 12, 4, ip.src.bytes.begin());
  std::copy_n(packet.begin() + 16, 4, ip.dst.bytes.begin());
  ip.protocol = packet[9];
  const uint16_t fragment = ReadU16(packet, 6);
  ip.is_fragment = (fragment & 0x2000) != 0 || (fragment & 0x1fff) != 0;
  ip.transport = packet.subspan(header_length, total_length - header_length);
  return ip;
}

std::optional<IpPacket> ParseIpv6(Bytes packet) {
  if (packet.size() < 40) return std::nullopt;
  const size_t end = 40 + size_t{ReadU16(packet, 4)};
  if (end > packet.size()) return std::nullopt;
  IpPacket ip;
  ip.src.version = ip.dst.version = 6;
  std::copy_n(packet.begin() + 8, 16, ip.src.bytes.begin());
  std::copy_n(packet.begin() + 24, 16, ip.dst.bytes.begin());
  uint8_t next = packet[6];
  size_t at = 40;
  // Walk the extension headers that may precede TCP/UDP; give up on anything
  // else (ESP, unknown) rather than guess.
  for (int hops = 0; hops < 8; ++hops) {
    if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, dst opts
      if (at + 8 > end) return std::nullopt;
      const uint8_t following = packet[at];
      at += (size_t{packet[at + 1]} + 1) * 8;
      next = following;
    } else if (next == 44) {  // fragment
      if (at + 8 > end) return std::nullopt;
      ip.is_fragment = true;
      next = packet[at];
      at += 8;
    } else {
      break;
    }
    if (at > end) return std::nullopt;
  }
  ip.protocol = next;
  ip.transport = packet.subspan(at, end - at);
  return ip;
}

}  // namespace

std::optional<IpPacket> ParseIp(Bytes packet) {
  if (packet.empty()) return std::nullopt;
  switch (packet[0] >> 4) {
    case 4: return ParseIpv4(packet);
    case 6: return ParseIpv6(packet);
    default: return std::nullopt;
  }
}

std::optional<UdpDatagram> ParseUdp(Bytes transport) {
  if (transport.size() < 8) return std::nullopt;
  const size_t length = ReadU16(transport, 4);
  if (length < 8 || length > transport.size()) return std::nullopt;
  UdpDatagram udp;
  udp.src_port = ReadU16(transport, 0);
  udp.dst_port = ReadU16(transport, 2);
  udp.payload = transport.subspan(8, length - 8);
  return udp;
}

std::optional<TcpSegment> ParseTcp(Bytes transport) {
  if (transport.size() < 20) return std::nullopt;
  const size_t header_length = static_cast<size_t>(transport[12] >> 4) * 4;
  if (header_length < 20 || header_length > transport.size()) return std::nullopt;
  TcpSegment tcp;
  tcp.src_port = ReadU16(transport, 0);
  tcp.dst_port = ReadU16(transport, 2);
  tcp.flags = transport[13];
  tcp.payload = transport.subspan(header_length);
  return tcp;
}

uint32_t ChecksumAdd(uint32_t sum, Bytes data) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += ReadU16(data, i);
  if (i < data.size()) sum += uint32_t{data[i]} << 8;
  return sum;
}

uint16_t ChecksumFinish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

namespace {
void PutU16(std::vector<uint8_t>& out, size_t at, uint16_t value) {
  out[at] = static_cast<uint8_t>(value >> 8);
  out[at + 1] = static_cast<uint8_t>(value & 0xff);
}
}  // namespace

std::vector<uint8_t> BuildIpv4Udp(const Ipv4UdpSpec& spec, Bytes payload) {
  const size_t udp_length = 8 + payload.size();
  std::vector<uint8_t> out(20 + udp_length, 0);
  out[0] = 0x45;
  PutU16(out, 2, static_cast<uint16_t>(out.size()));
  PutU16(out, 4, spec.ip_id);
  out[8] = spec.ttl;
  out[9] = kProtoUdp;
  std::copy_n(spec.src.bytes.begin(), 4, out.begin() + 12);
  std::copy_n(spec.dst.bytes.begin(), 4, out.begin() + 16);
  PutU16(out, 10, ChecksumFinish(ChecksumAdd(0, Bytes(out).first(20))));

  PutU16(out, 20, spec.src_port);
  PutU16(out, 22, spec.dst_port);
  PutU16(out, 24, static_cast<uint16_t>(udp_length));
  std::copy(payload.begin(), payload.end(), out.begin() + 28);
  // UDP checksum over the pseudo header (addresses, protocol, length) + datagram.
  uint32_t sum = ChecksumAdd(0, Bytes(out).subspan(12, 8));
  sum += kProtoUdp + static_cast<uint32_t>(udp_length);
  sum = ChecksumAdd(sum, Bytes(out).subspan(20));
  uint16_t checksum = ChecksumFinish(sum);
  if (checksum == 0) checksum = 0xffff;  // 0 means "no checksum" in UDP
  PutU16(out, 26, checksum);
  return out;
}

}  // namespace lab
