// Packet decoder. See packet_decoder.h for the contract.
#include "probe/capture/packet_decoder.h"

#include <arpa/inet.h>

#include <cstring>

#include "probe/capture/be_bytes.h"
#include "reports/format/ip_address.h"

namespace vantage::capture {
namespace {


constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;

DecodedPacket fail(std::string_view why) {
  DecodedPacket p;
  p.error = why;
  return p;
}

// Decodes a packet whose link header carried an EtherType.
DecodedPacket decode_by_ethertype(uint16_t type, const uint8_t* data, size_t len) {
  if (type == kEtherIpv4 || type == kEtherIpv6) return decode_ip(data, len);
  return fail("not_ip");
}

bool is_ipv6_extension(uint8_t next) {
  return next == 0 || next == 43 || next == 44 || next == 60 || next == 51 || next == 135 ||
         next == 139 || next == 140;
}

// Reads the transport ports of a header an ICMP error quotes (IPv4 or IPv6).
void decode_quoted(const uint8_t* p, size_t len, QuotedHeader& q) {
  if (len < 1) return;
  const int version = p[0] >> 4;
  size_t offset = 0;
  if (version == 4) {
    if (len < 20) return;
    const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    if (ihl < 20 || len < ihl) return;
    q.protocol = p[9];
    q.src.version = q.dst.version = 4;
    std::memcpy(q.src.bytes.data(), p + 12, 4);
    std::memcpy(q.dst.bytes.data(), p + 16, 4);
    // A quoted non-first fragment has no ports.
    if ((be16(p + 6) & 0x1fff) != 0) {
      q.present = true;
      return;
    }
    offset = ihl;
  } else if (version == 6) {
    if (len < 40) return;
    uint8_t next = p[6];
    q.src.version = q.dst.version = 6;
    std::memcpy(q.src.bytes.data(), p + 8, 16);
    std::memcpy(q.dst.bytes.data(), p + 24, 16);
    offset = 40;
    for (int hops = 0; hops < 8 && is_ipv6_extension(next); ++hops) {
      if (len - offset < 8) {
        q.protocol = next;
        q.present = true;
        return;
      }
      const uint8_t following = p[offset];
      const size_t ext_len = next == 44 ? 8 : next == 51 ? (p[offset + 1] + 2u) * 4 : (p[offset + 1] + 1u) * 8;
      next = following;
      if (len - offset < ext_len) {
        q.protocol = next;
        q.present = true;
        return;
      }
      offset += ext_len;
    }
    q.protocol = next;
  } else {
    return;
  }
  q.present = true;
  if ((q.protocol == ipproto::kTcp || q.protocol == ipproto::kUdp) && len - offset >= 4) {
    q.src_port = be16(p + offset);
    q.dst_port = be16(p + offset + 2);
  }
}

// Decodes the transport header at data[offset..end); `wire_end` is where the
// IP packet ends on the wire (>= end when the capture was truncated).
void decode_transport(DecodedPacket& out, const uint8_t* data, size_t offset, size_t end,
                      size_t wire_end) {
  const size_t avail = end > offset ? end - offset : 0;
  const uint8_t* p = data + offset;
  auto set_payload = [&](size_t header_len) {
    if (header_len <= avail) {
      out.payload = std::string_view(reinterpret_cast<const char*>(p + header_len), avail - header_len);
    }
    const size_t wire_avail = wire_end > offset ? wire_end - offset : 0;
    out.payload_length = wire_avail > header_len ? static_cast<uint32_t>(wire_avail - header_len) : 0;
    if (out.payload_length < out.payload.size()) out.payload_length = static_cast<uint32_t>(out.payload.size());
  };
  switch (out.protocol) {
    case ipproto::kTcp: {
      if (avail < 20) {
        out.error = "truncated_tcp_header";
        return;
      }
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.seq = be32(p + 4);
      out.ack = be32(p + 8);
      const size_t header_len = static_cast<size_t>(p[12] >> 4) * 4;
      out.tcp_flags = p[13];
      out.window = be16(p + 14);
      out.has_transport = true;
      if (header_len < 20) {
        out.error = "malformed_tcp_header";
        return;
      }
      if (header_len > avail) {
        out.truncated = true;
        out.error = "truncated_tcp_options";
      }
      set_payload(header_len);
      return;
    }
    case ipproto::kUdp: {
      if (avail < 8) {
        out.error = "truncated_udp_header";
        return;
      }
      out.src_port = be16(p);
      out.dst_port = be16(p + 2);
      out.has_transport = true;
      const size_t udp_len = be16(p + 4);
      // The UDP length bounds the payload when it is sane; the IP length otherwise.
      size_t wire = wire_end;
      if (udp_len >= 8 && offset + udp_len <= wire_end) wire = offset + udp_len;
      const size_t cap_end = std::min(end, wire);
      out.payload = std::string_view(reinterpret_cast<const char*>(p + 8), cap_end > offset + 8 ? cap_end - offset - 8 : 0);
      out.payload_length = static_cast<uint32_t>(wire > offset + 8 ? wire - offset - 8 : 0);
      return;
    }
    case ipproto::kIcmp:
    case ipproto::kIcmpv6: {
      if (avail < 4) {
        out.error = "truncated_icmp_header";
        return;
      }
      out.icmp_type = p[0];
      out.icmp_code = p[1];
      out.has_transport = true;
      const bool v4_error = out.protocol == ipproto::kIcmp &&
                            (p[0] == 3 || p[0] == 4 || p[0] == 5 || p[0] == 11 || p[0] == 12);
      const bool v6_error = out.protocol == ipproto::kIcmpv6 && p[0] >= 1 && p[0] <= 4;
      if ((v4_error || v6_error) && avail > 8) decode_quoted(p + 8, avail - 8, out.quoted);
      set_payload(avail >= 8 ? 8 : avail);
      return;
    }
    default:
      set_payload(0);
      return;
  }
}

}  // namespace

namespace link {
bool supported(int t) {
  return t == kNull || t == kEthernet || t == kRaw || t == kRawOpenBsd || t == kRawLinktype ||
         t == kLoop || t == kLinuxSll || t == kIpv4 || t == kIpv6 || t == kLinuxSll2;
}
const char* name(int t) {
  switch (t) {
    case kNull: return "NULL";
    case kEthernet: return "EN10MB";
    case kRaw: case kRawOpenBsd: case kRawLinktype: return "RAW";
    case kLoop: return "LOOP";
    case kLinuxSll: return "LINUX_SLL";
    case kIpv4: return "IPV4";
    case kIpv6: return "IPV6";
    case kLinuxSll2: return "LINUX_SLL2";
    default: return "unknown";
  }
}
}  // namespace link

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (version == 4) return inet_ntop(AF_INET, bytes.data(), text, sizeof(text)) ? text : "";
  if (version == 6) return inet_ntop(AF_INET6, bytes.data(), text, sizeof(text)) ? text : "";
  return "";
}

bool IpAddress::parse(std::string_view text, IpAddress& out) {
  std::string s(text);
  out = IpAddress{};
  if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) {
    out.version = 4;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
    out.version = 6;
    return true;
  }
  out = IpAddress{};
  return false;
}

std::string format_address(const IpAddress& ip, uint16_t port) {
  return ip::join_host_port(ip.to_string(), port);
}

bool parse_address(std::string_view text, IpAddress& ip, uint16_t& port, uint16_t default_port) {
  const auto hp = ip::split_host_port(text);
  if (!hp || !IpAddress::parse(hp->host, ip)) return false;
  port = hp->port ? static_cast<uint16_t>(*hp->port) : default_port;
  return true;
}

DecodedPacket decode_ip(const uint8_t* data, size_t caplen) {
  if (data == nullptr || caplen < 1) return fail("empty");
  const int version = data[0] >> 4;
  DecodedPacket out;
  if (version == 4) {
    if (caplen < 20) return fail("truncated_ip_header");
    const size_t ihl = static_cast<size_t>(data[0] & 0x0f) * 4;
    if (ihl < 20) return fail("malformed_ip_header");
    if (caplen < ihl) return fail("truncated_ip_header");
    size_t total = be16(data + 2);
    // Segmentation offload shows outgoing packets with a zero length field.
    if (total == 0) total = caplen;
    if (total < ihl) return fail("malformed_ip_length");
    out.ip_version = 4;
    out.ip_length = static_cast<uint32_t>(total);
    out.ip_id = be16(data + 4);
    const uint16_t frag = be16(data + 6);
    out.dont_fragment = (frag & 0x4000) != 0;
    out.later_fragment = (frag & 0x1fff) != 0;
    out.ttl = data[8];
    out.protocol = data[9];
    out.src.version = out.dst.version = 4;
    std::memcpy(out.src.bytes.data(), data + 12, 4);
    std::memcpy(out.dst.bytes.data(), data + 16, 4);
    out.ok = true;
    const size_t end = std::min(total, caplen);
    out.truncated = caplen < total;
    if (out.later_fragment) {
      out.payload_length = static_cast<uint32_t>(total - ihl);
      return out;
    }
    decode_transport(out, data, ihl, end, total);
    return out;
  }
  if (version == 6) {
    if (caplen < 40) return fail("truncated_ip_header");
    const size_t total = 40 + static_cast<size_t>(be16(data + 4));
    out.ip_version = 6;
    out.ip_length = static_cast<uint32_t>(total);
    out.ttl = data[7];
    out.src.version = out.dst.version = 6;
    std::memcpy(out.src.bytes.data(), data + 8, 16);
    std::memcpy(out.dst.bytes.data(), data + 24, 16);
    out.ok = true;
    const size_t end = std::min(total, caplen);
    out.truncated = caplen < total;
    uint8_t next = data[6];
    size_t offset = 40;
    for (int hops = 0; hops < 8 && is_ipv6_extension(next); ++hops) {
      if (end < offset + 8) {
        out.protocol = next;
        out.error = "truncated_ipv6_extension";
        return out;
      }
      const uint8_t following = data[offset];
      size_t ext_len = (data[offset + 1] + 1u) * 8;
      if (next == 51) ext_len = (data[offset + 1] + 2u) * 4;
      if (next == 44) {
        ext_len = 8;
        if ((be16(data + offset + 2) & 0xfff8) != 0) out.later_fragment = true;
      }
      next = following;
      offset += ext_len;
      if (offset > end) {
        out.protocol = next;
        out.error = "truncated_ipv6_extension";
        return out;
      }
    }
    out.protocol = next;
    if (out.later_fragment || next == 59) return out;
    decode_transport(out, data, offset, end, std::max(total, offset));
    return out;
  }
  return fail("not_ip");
}

DecodedPacket decode_packet(int link_type, const uint8_t* data, size_t caplen) {
  if (data == nullptr) return fail("empty");
  switch (link_type) {
    case link::kEthernet: {
      if (caplen < 14) return fail("truncated_link_header");
      size_t offset = 12;
      uint16_t type = be16(data + offset);
      for (int tags = 0; tags < 2 && (type == kEtherVlan || type == kEtherQinQ); ++tags) {
        offset += 4;
        if (caplen < offset + 2) return fail("truncated_link_header");
        type = be16(data + offset);
      }
      offset += 2;
      return decode_by_ethertype(type, data + offset, caplen - offset);
    }
    case link::kLinuxSll:
      if (caplen < 16) return fail("truncated_link_header");
      return decode_by_ethertype(be16(data + 14), data + 16, caplen - 16);
    case link::kLinuxSll2:
      if (caplen < 20) return fail("truncated_link_header");
      return decode_by_ethertype(be16(data), data + 20, caplen - 20);
    case link::kRaw:
    case link::kRawOpenBsd:
    case link::kRawLinktype:
    case link::kIpv4:
    case link::kIpv6:
      return decode_ip(data, caplen);
    case link::kNull:
    case link::kLoop: {
      if (caplen < 4) return fail("truncated_link_header");
      // The family is host order for NULL and network order for LOOP; the
      // file may come from another machine, so accept either order.
      const uint32_t big = be32(data);
      const uint32_t little = data[0] | (data[1] << 8) | (data[2] << 16) | (static_cast<uint32_t>(data[3]) << 24);
      const uint32_t family = big < 256 ? big : little;
      if (family == 2 || family == 10 || family == 24 || family == 28 || family == 30)
        return decode_ip(data + 4, caplen - 4);
      return fail("not_ip");
    }
    default:
      return fail("unsupported_link_type");
  }
}

}  // namespace vantage::capture
