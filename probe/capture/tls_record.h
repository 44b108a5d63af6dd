// TLS and HTTP payload sniffing for captured TCP segments: is this the
// ClientHello (and which SNI), a TLS alert, an HTTP request or response?
//
// Looks only at the start of one segment's captured bytes — a record split
// across segments or cut by the snaplen is reported as far as it was read
// (`truncated`). Never throws, never reads past the view.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vantage::capture {

struct ClientHelloInfo {
  std::string sni;         // "" when absent or not in the captured bytes
  bool truncated = false;  // the hello continues past the captured bytes
};

// A TLS handshake record whose first message is a ClientHello.
std::optional<ClientHelloInfo> parse_client_hello(std::string_view payload);

struct TlsAlert {
  int level = 0;        // 1 warning, 2 fatal
  int description = 0;  // e.g. 40 handshake_failure, 112 unrecognized_name
};

// A TLS alert record (content type 21). An encrypted alert (TLS 1.3 after
// the handshake) is content type 23 and is not reported.
std::optional<TlsAlert> parse_tls_alert(std::string_view payload);

// "GET / HTTP/1.1", "POST ..." etc. at the start of the segment.
bool looks_like_http_request(std::string_view payload);
// "HTTP/1.x NNN" at the start of the segment; the status code or 0.
int http_response_status(std::string_view payload);

}  // namespace vantage::capture
