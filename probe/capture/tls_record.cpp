// TLS and HTTP payload sniffing. See tls_record.h.
#include "probe/capture/tls_record.h"

#include "probe/capture/dns_message.h"

namespace vantage::capture {
namespace {

uint8_t u8(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }
size_t be16(std::string_view s, size_t i) { return (static_cast<size_t>(u8(s, i)) << 8) | u8(s, i + 1); }

bool is_tls_record_header(std::string_view p, uint8_t content_type) {
  return p.size() >= 5 && u8(p, 0) == content_type && u8(p, 1) == 3 && u8(p, 2) <= 4;
}

// The host name, label by label, in the same escaped form as DNS names.
std::string escape_sni(std::string_view name) {
  std::string out;
  size_t start = 0;
  while (true) {
    const size_t dot = name.find('.', start);
    out += escape_name(name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    out.push_back('.');
    start = dot + 1;
  }
}

}  // namespace

std::optional<ClientHelloInfo> parse_client_hello(std::string_view payload) {
  // Record header (5) + handshake header (4): type 1 = ClientHello.
  if (!is_tls_record_header(payload, 0x16) || payload.size() < 6 || u8(payload, 5) != 1) return std::nullopt;
  ClientHelloInfo info;
  const size_t record_end = 5 + be16(payload, 3);
  std::string_view p = payload.substr(0, std::min(payload.size(), record_end));
  info.truncated = payload.size() < record_end;
  // handshake header 4, client_version 2, random 32
  size_t pos = 5 + 4 + 2 + 32;
  auto need = [&](size_t n) {
    if (p.size() < pos || p.size() - pos < n) {
      info.truncated = true;
      return false;
    }
    return true;
  };
  if (!need(1)) return info;
  pos += 1 + u8(p, pos);  // session id
  if (!need(2)) return info;
  pos += 2 + be16(p, pos);  // cipher suites
  if (!need(1)) return info;
  pos += 1 + u8(p, pos);  // compression methods
  if (!need(2)) return info;
  const size_t extensions_end = pos + 2 + be16(p, pos);
  pos += 2;
  while (pos < extensions_end) {
    if (!need(4)) return info;
    const size_t type = be16(p, pos);
    const size_t length = be16(p, pos + 2);
    pos += 4;
    if (type == 0) {
      // server_name_list: length 2, then entries {type 1, length 2, name}.
      if (!need(5)) return info;
      const size_t name_type = u8(p, pos + 2);
      const size_t name_length = be16(p, pos + 3);
      if (name_type != 0) return info;
      pos += 5;
      if (!need(name_length)) {
        info.sni = escape_sni(p.substr(pos));
        return info;
      }
      info.sni = escape_sni(p.substr(pos, name_length));
      return info;
    }
    pos += length;
  }
  return info;
}

std::optional<TlsAlert> parse_tls_alert(std::string_view payload) {
  if (!is_tls_record_header(payload, 0x15) || payload.size() < 7) return std::nullopt;
  if (be16(payload, 3) < 2) return std::nullopt;
  TlsAlert alert;
  alert.level = u8(payload, 5);
  alert.description = u8(payload, 6);
  if (alert.level != 1 && alert.level != 2) return std::nullopt;
  return alert;
}

bool looks_like_http_request(std::string_view p) {
  static constexpr std::string_view kMethods[] = {"GET ", "POST ", "HEAD ", "PUT ", "OPTIONS ",
                                                  "DELETE ", "CONNECT ", "PATCH "};
  for (auto m : kMethods)
    if (p.substr(0, m.size()) == m) return true;
  return false;
}

int http_response_status(std::string_view p) {
  if (p.size() < 12 || p.substr(0, 7) != "HTTP/1." || p[8] != ' ') return 0;
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (p[i] < '0' || p[i] > '9') return 0;
    code = code * 10 + (p[i] - '0');
  }
  return code;
}

}  // namespace vantage::capture
