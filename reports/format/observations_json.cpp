// Observation records → OONI archival JSON. See observations_json.h.
#include "reports/format/observations_json.h"

namespace vantage::format {
namespace {

using nlohmann::json;

json failure_json(const Failure& f) { return f ? json(*f) : json(nullptr); }

void add_times(json& j, const StepTimes& s) {
  j["t0"] = s.t0;
  j["t"] = s.t;
  j["transaction_id"] = s.transaction_id;
  j["tags"] = s.tags;
}

json headers_json(const HeaderList& list, json& headers_list) {
  json headers = json::object();
  headers_list = json::array();
  for (const auto& [k, v] : list) {
    headers_list.push_back(json::array({k, maybe_binary(v)}));
    if (!headers.contains(k)) headers[k] = maybe_binary(v);
  }
  return headers;
}

}  // namespace

std::string base64_encode(const std::string& in) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += table[(n >> 6) & 63];
    out += table[n & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += (i + 1 < in.size()) ? table[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(const std::string& text, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const char c = text[i];
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  for (; i < text.size(); ++i)
    if (text[i] != '=') return false;
  return true;
}

bool is_valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    uint8_t c = uint8_t(s[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; }
    else return false;
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      uint8_t cc = uint8_t(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

json maybe_binary(const std::string& bytes) {
  if (is_valid_utf8(bytes)) return bytes;
  return json{{"format", "base64"}, {"data", base64_encode(bytes)}};
}

json to_json(const DnsObservation& o) {
  json answers = json::array();
  for (const auto& a : o.answers) {
    json ja{{"answer_type", a.answer_type}, {"ttl", a.ttl}, {"asn", 0}, {"as_org_name", ""}};
    if (!a.ipv4.empty()) ja["ipv4"] = a.ipv4;
    if (!a.ipv6.empty()) ja["ipv6"] = a.ipv6;
    if (!a.hostname.empty()) ja["hostname"] = a.hostname;
    answers.push_back(ja);
  }
  json j{{"engine", o.engine},
         {"resolver_address", o.resolver_address},
         {"hostname", o.hostname},
         {"query_type", o.query_type},
         {"failure", failure_json(o.failure)},
         {"answers", answers}};
  j["getaddrinfo_error"] = o.getaddrinfo_error ? json(*o.getaddrinfo_error) : json(0);
  j["rcode"] = o.rcode ? json(*o.rcode) : json(0);
  if (!o.raw_response.empty()) j["raw_response"] = base64_encode(o.raw_response);
  if (o.ip_ttl) j["x_ip_ttl"] = *o.ip_ttl;
  if (o.query_id) j["x_query_id"] = *o.query_id;
  add_times(j, o);
  return j;
}

json to_json(const TcpConnectObservation& o) {
  json j{{"ip", o.ip},
         {"port", o.port},
         {"status", {{"success", !o.failure}, {"failure", failure_json(o.failure)}, {"blocked", nullptr}}}};
  add_times(j, o);
  return j;
}

json to_json(const TlsHandshakeObservation& o) {
  json certs = json::array();
  for (const auto& der : o.peer_certificates) certs.push_back({{"format", "base64"}, {"data", base64_encode(der)}});
  json j{{"network", o.network},
         {"address", o.address},
         {"server_name", o.server_name},
         {"alpn", o.alpn},
         {"cipher_suite", o.cipher_suite},
         {"tls_version", o.tls_version},
         {"negotiated_protocol", o.negotiated_protocol},
         {"no_tls_verify", o.no_tls_verify},
         {"peer_certificates", certs},
         {"failure", failure_json(o.failure)},
         {"so_error", nullptr}};
  add_times(j, o);
  return j;
}

json to_json(const HttpObservation& o) {
  json req_headers_list, resp_headers_list;
  json req_headers = headers_json(o.request_headers, req_headers_list);
  json resp_headers = headers_json(o.response_headers, resp_headers_list);
  json request{{"url", o.url},
               {"method", o.method},
               {"headers", req_headers},
               {"headers_list", req_headers_list},
               {"body", maybe_binary(o.request_body.data)},
               {"body_is_truncated", o.request_body.truncated},
               {"tor", {{"exit_ip", nullptr}, {"exit_name", nullptr}, {"is_tor", false}}},
               {"x_transport", o.network}};
  json response{{"code", o.status_code ? json(*o.status_code) : json(0)},
                {"headers", resp_headers},
                {"headers_list", resp_headers_list},
                {"body", maybe_binary(o.response_body.data)},
                {"body_is_truncated", o.response_body.truncated},
                {"x_body_bytes", o.body_bytes_received},
                {"x_download_seconds", o.download_seconds},
                {"x_body_stall_seconds", o.body_stall_seconds >= 0 ? json(o.body_stall_seconds) : json(nullptr)},
                {"x_download_stopped", o.download_stopped.empty() ? json(nullptr) : json(o.download_stopped)}};
  json j{{"network", o.network},
         {"address", o.address},
         {"alpn", o.alpn},
         {"failure", failure_json(o.failure)},
         {"request", request},
         {"response", response}};
  add_times(j, o);
  return j;
}

json to_json(const NetworkEvent& o) {
  json j{{"operation", o.operation},
         {"address", o.address},
         {"proto", o.proto},
         {"failure", failure_json(o.failure)},
         {"t", o.t},
         {"transaction_id", o.transaction_id},
         {"tags", o.tags}};
  if (o.num_bytes) j["num_bytes"] = *o.num_bytes;
  return j;
}

std::string hex_encode(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) out += digits[c >> 4], out += digits[c & 15];
  return out;
}

json to_json(const AppExchangeObservation& o) {
  json j{{"address", o.address},
         {"exchange", o.exchange},
         {"sent_bytes", o.sent_bytes},
         {"received_bytes", o.received_bytes},
         {"received_hex", hex_encode(o.received_head)},
         {"closed_by_peer", o.closed_by_peer},
         {"failure", failure_json(o.failure)}};
  add_times(j, o);
  return j;
}

}  // namespace vantage::format
