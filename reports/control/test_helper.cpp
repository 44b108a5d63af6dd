// The control vantage point's measurement: validates a request, runs the DNS
// lookup, every TCP connect (+ TLS handshake) and the HTTP request
// concurrently, and assembles OONI's answer. See test_helper.h.
//
// Every connection goes to an address the policy allows: requested endpoints
// are checked before connecting, and the HTTP request is always pinned to a
// checked IP (curl never resolves for us and never follows redirects), so a
// client cannot use the helper to reach the helper's own network.
#include "reports/control/test_helper.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "probe/net/dns_lookup.h"
#include "probe/net/http_request.h"
#include "probe/net/step_clock.h"
#include "probe/net/tcp_connect.h"
#include "probe/net/tls_handshake.h"
#include "reports/control/chain_plan.h"
#include "reports/format/control_protocol.h"

namespace vantage::control {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- addresses

// An IP literal ("[v6]" brackets allowed) with every IPv6 spelling of an
// IPv4 address read as that address (ip::Spelling::embedded_is_v4), so the
// policy cannot be bypassed by spelling 127.0.0.1 (or 10.0.0.1) differently;
// ::1 and :: become 0.0.0.1 and 0.0.0.0: in 0.0.0.0/8, refused.
std::optional<ip::Address> parse_ip_literal(std::string literal) {
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  return ip::parse_address(literal, ip::Spelling::embedded_is_v4);
}

// "ip:port" with the IP a literal ("[v6]:port" for IPv6) and 1 <= port <= 65535.
bool parse_endpoint(const std::string& text, std::string& ip, int& port) {
  const auto hp = ip::split_host_port(text);
  if (!hp || !hp->port || *hp->port < 1) return false;
  // Brackets only for IPv6, and a bare IPv6 (no port) is ambiguous.
  if (hp->bracketed != (hp->host.find(':') != std::string::npos)) return false;
  ip = hp->host;
  port = *hp->port;
  return parse_ip_literal(ip).has_value();
}

// -------------------------------------------------------------------- URLs

struct ParsedUrl {
  std::string scheme;  // "http" | "https"
  std::string host;    // without brackets
  int port = 0;        // explicit or the scheme's default
};

// A deliberately strict URL check: http(s), a host name or IP literal, an
// optional port, no user info. The rest (path, query) is passed to curl as is.
bool parse_url(const std::string& url, ParsedUrl& out, std::string& why) {
  if (url.size() > 4096) {
    why = "longer than 4096 bytes";
    return false;
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) {
      why = "contains spaces, control or non-ASCII characters";
      return false;
    }
  }
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    why = "has no scheme";
    return false;
  }
  out.scheme = url.substr(0, scheme_end);
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.scheme != "http" && out.scheme != "https") {
    why = "scheme is not http or https";
    return false;
  }
  const auto authority_start = scheme_end + 3;
  const auto authority_end = url.find_first_of("/?#", authority_start);
  const std::string authority = url.substr(
      authority_start, authority_end == std::string::npos ? std::string::npos : authority_end - authority_start);
  if (authority.find('@') != std::string::npos) {
    why = "has user info";
    return false;
  }
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) {
      why = "has an unclosed IPv6 literal";
      return false;
    }
    out.host = authority.substr(1, close - 1);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        why = "has junk after the IPv6 literal";
        return false;
      }
      port_text = rest.substr(1);
    }
    if (const auto literal = ip::parse_address(out.host, ip::Spelling::literal); !literal || literal->family != 6) {
      why = "has an invalid IPv6 literal";
      return false;
    }
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
    const bool host_ok = !out.host.empty() && out.host.size() <= 253 &&
                         std::all_of(out.host.begin(), out.host.end(), [](unsigned char c) {
                           return std::isalnum(c) || c == '-' || c == '.' || c == '_';
                         });
    if (!host_ok) {
      why = "has an empty or invalid host";
      return false;
    }
  }
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      why = "has an invalid port";
      return false;
    }
    out.port = std::stoi(port_text);
    if (out.port < 1 || out.port > 65535) {
      why = "has a port outside 1-65535";
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- answers

// Network text (header values, titles) may be any bytes; JSON needs UTF-8.
// Invalid sequences become U+FFFD so serialising the answer cannot throw.
std::string valid_utf8(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    std::size_t length = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      length = 2, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4, min = 0x10000;
    }
    bool ok = length != 0 && i + length <= in.size();
    uint32_t code = length == 2 ? (c & 0x1f) : length == 3 ? (c & 0x0f) : (c & 0x07);
    for (std::size_t k = 1; ok && k < length; ++k) {
      const auto next = static_cast<unsigned char>(in[i + k]);
      if ((next & 0xc0) != 0x80) ok = false;
      code = (code << 6) | (next & 0x3f);
    }
    if (ok && (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))) ok = false;
    if (ok) {
      out.append(in, i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// The page's <title>, as OONI's helper extracts it: the text of the first
// <title> element, at most 128 bytes, no markup inside.
std::string extract_title(const std::string& body) {
  std::string lower(body.size(), '\0');
  std::transform(body.begin(), body.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::size_t search_from = 0;
  for (;;) {
    const auto open = lower.find("<title", search_from);
    if (open == std::string::npos) return "";
    const auto after = open + 6;
    if (after < lower.size() && lower[after] != '>' && !std::isspace(static_cast<unsigned char>(lower[after]))) {
      search_from = after;  // e.g. <titlebar>
      continue;
    }
    const auto content_start = lower.find('>', after);
    if (content_start == std::string::npos) return "";
    const auto content_end = lower.find('<', content_start + 1);
    if (content_end == std::string::npos || lower.compare(content_end, 8, "</title>") != 0) return "";
    std::string title = body.substr(content_start + 1, content_end - content_start - 1);
    if (title.size() > 128) title.resize(128);
    return valid_utf8(title);
  }
}

// ---------------------------------------------------------------- requests

struct Endpoint {
  std::string key;  // as the client spelled it; the answer's key
  std::string ip;
  int port = 0;
  bool allowed = false;
  // Filled by the endpoint's worker.
  bool connect_done = false;
  format::Failure connect_failure;
  bool tls_done = false;
  format::TlsHandshakeObservation tls;
};

struct ValidRequest {
  std::string url;
  ParsedUrl parsed;
  std::string method = "GET";
  std::string body;
  std::string user_agent;
  std::vector<Endpoint> endpoints;
};

constexpr const char* kInternalError = "internal error: ";

json error_answer(const std::string& message) { return json{{"error", message}}; }

// Checks every field; returns the error text, or "" when `out` is usable.
// The shape is the protocol's (format::parse_control_request); the limits
// and the policy are the helper's own.
std::string validate(const json& request, const ControlOptions& options, ValidRequest& out,
                     format::ControlRequest& typed) {
  if (!request.is_object()) return "request is not a JSON object";
  for (const auto& [key, value] : request.items()) {
    (void)value;
    if (key.rfind("x_tls_", 0) == 0) {
      return "\"" + key + "\" is not accepted: TLS trust is the helper's own configuration";
    }
  }
  if (std::string error = format::parse_control_request(request, typed); !error.empty()) return error;

  out.url = typed.http_request;
  std::string why;
  if (!parse_url(out.url, out.parsed, why)) return "\"http_request\": URL " + why;
  // The client's headers are checked for shape but never forwarded, its
  // User-Agent included: a helper that sends what a stranger chose (a
  // log4j-style string, a scanner's banner) is a relay for it.
  out.user_agent = options.user_agent;

  if (!typed.http_method.empty()) {
    out.method = typed.http_method;
    if (out.method != "GET" && out.method != "HEAD" && out.method != "POST") {
      return "\"x_http_method\" must be GET, HEAD or POST";
    }
  }
  if (!typed.http_body.empty()) {
    if (out.method != "POST") return "\"x_http_body\" needs \"x_http_method\": \"POST\"";
    out.body = typed.http_body;
    // Only the probe's shape: a few zero bytes (it tests whether a POST gets
    // through, not what it says). A caller-chosen body would make the
    // helper a relay for logins, form spam and exploits.
    if (out.body.size() > kMaxPostBodyBytes ||
        std::any_of(out.body.begin(), out.body.end(), [](char c) { return c != '\0'; }))
      return "\"x_http_body\" must be at most " + std::to_string(kMaxPostBodyBytes) + " zero bytes";
  }

  if (typed.tcp_connect.size() > kMaxTcpConnectEntries) {
    return "\"tcp_connect\" has " + std::to_string(typed.tcp_connect.size()) + " entries; at most " +
           std::to_string(kMaxTcpConnectEntries) + " are allowed";
  }
  for (std::size_t i = 0; i < typed.tcp_connect.size(); ++i) {
    Endpoint endpoint;
    endpoint.key = typed.tcp_connect[i];
    if (!parse_endpoint(endpoint.key, endpoint.ip, endpoint.port)) {
      return "\"tcp_connect\"[" + std::to_string(i) + "] = \"" + valid_utf8(endpoint.key) +
             "\" is not an \"ip:port\" literal";
    }
    const bool duplicate = std::any_of(out.endpoints.begin(), out.endpoints.end(),
                                       [&](const Endpoint& e) { return e.key == endpoint.key; });
    if (duplicate) continue;  // measured once, answered once
    endpoint.allowed = address_allowed(endpoint.ip, options);
    out.endpoints.push_back(std::move(endpoint));
  }
  return "";
}

std::chrono::milliseconds capped(std::chrono::milliseconds step, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(std::chrono::milliseconds(1), std::min(step, left));
}

// Shared state of one request's workers.
struct Run {
  const ControlOptions* options = nullptr;
  ValidRequest request;
  net::StepClock clock;
  Clock::time_point deadline;
  net::TlsTrust trust;
  ChainPlan plan;  // which steps this request asked for (chain_plan.h)

  std::mutex mutex;
  std::condition_variable changed;
  bool dns_done = false;
  format::DnsObservation dns;
};

void measure_endpoint(Run& run, std::size_t index) {
  const net::StepContext ctx{&run.clock, static_cast<int64_t>(index + 1)};
  Endpoint snapshot;
  {
    std::lock_guard<std::mutex> lock(run.mutex);
    snapshot = run.request.endpoints[index];
  }
  net::TcpConnectResult connected;
  if (snapshot.allowed) {
    connected = net::tcp_connect(snapshot.ip, snapshot.port,
                                 capped(run.options->connect_timeout, run.deadline), ctx);
  } else {
    connected.observation.failure = kRefusedByPolicy;
  }
  const bool is_connected = !connected.observation.failure.has_value();
  {
    std::lock_guard<std::mutex> lock(run.mutex);
    auto& endpoint = run.request.endpoints[index];
    endpoint.connect_done = true;
    endpoint.connect_failure = connected.observation.failure;
  }
  run.changed.notify_all();
  if (!is_connected || !run.plan.tls) return;

  net::TlsOptions tls;
  tls.server_name = run.request.parsed.host;
  tls.alpn = {"h2", "http/1.1"};
  tls.trust = run.trust;
  tls.timeout = capped(run.options->tls_timeout, run.deadline);
  auto observation = net::tls_handshake(connected.socket, snapshot.key, tls, ctx);
  {
    std::lock_guard<std::mutex> lock(run.mutex);
    auto& endpoint = run.request.endpoints[index];
    endpoint.tls_done = true;
    endpoint.tls = std::move(observation);
  }
}

void measure_dns(Run& run) {
  const net::StepContext ctx{&run.clock, 0};
  auto observation =
      net::lookup_getaddrinfo(run.request.parsed.host, capped(run.options->dns_timeout, run.deadline), ctx);
  {
    std::lock_guard<std::mutex> lock(run.mutex);
    run.dns = std::move(observation);
    run.dns_done = true;
  }
  run.changed.notify_all();
}

// Where the HTTP request goes. For https, the first requested endpoint (in
// the client's order, preferring the URL's port) that connected: the answer
// then says what *that* server returns. Otherwise the first address of the
// helper's own lookup that the policy allows. Returns the IP, or sets
// `failure` when there is nowhere to go.
std::string choose_http_ip(Run& run, std::string& failure) {
  std::unique_lock<std::mutex> lock(run.mutex);
  const auto& endpoints = run.request.endpoints;
  if (run.request.parsed.scheme == "https" && !endpoints.empty()) {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      if (endpoints[i].port == run.request.parsed.port) candidates.push_back(i);
    }
    if (candidates.empty()) {
      for (std::size_t i = 0; i < endpoints.size(); ++i) candidates.push_back(i);
    }
    for (std::size_t i : candidates) {
      run.changed.wait_until(lock, run.deadline, [&] { return endpoints[i].connect_done; });
      if (!endpoints[i].connect_done) break;  // out of time
      if (!endpoints[i].connect_failure) return endpoints[i].ip;
    }
  }
  run.changed.wait_until(lock, run.deadline, [&] { return run.dns_done; });
  if (!run.dns_done) {
    failure = "generic_timeout_error";
    return "";
  }
  if (run.dns.failure) {
    failure = *run.dns.failure;
    return "";
  }
  for (const auto& answer : run.dns.answers) {
    const std::string& ip = !answer.ipv4.empty() ? answer.ipv4 : answer.ipv6;
    if (!ip.empty() && address_allowed(ip, *run.options)) return ip;
  }
  failure = kRefusedByPolicy;
  return "";
}

bool response_header_kept(const std::string& lower_name) {
  for (const char* kept : kResponseHeadersKept)
    if (lower_name == kept) return true;
  return false;
}

format::ControlHttp measure_http(Run& run) {
  format::ControlHttp answer;
  std::string failure;
  const std::string ip = choose_http_ip(run, failure);
  if (ip.empty()) {
    answer.failure = failure;
    return answer;
  }
  net::HttpOptions http;
  http.url = run.request.url;
  http.method = run.request.method;
  http.body = run.request.body;
  http.pin_ip = ip;
  http.trust = run.trust;
  http.user_agent = run.request.user_agent;
  http.max_body = 1 << 16;  // enough for the <title>
  http.timeout = capped(run.options->http_timeout, run.deadline);
  http.follow_redirects = false;  // a redirect could lead past the address policy
  const auto observation = net::http_request(http, net::StepContext{&run.clock, 0});
  if (observation.failure || !observation.status_code) {
    answer.failure = observation.failure ? valid_utf8(*observation.failure) : "http_request_failed";
    return answer;
  }
  answer.status_code = *observation.status_code;
  answer.body_length = static_cast<int64_t>(observation.body_bytes_received);
  answer.title = extract_title(observation.response_body.data);
  std::vector<std::string> seen;  // lower-cased names: the first value wins, as in OONI
  for (const auto& [name, value] : observation.response_headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // Only what a verdict or a reader of the answer uses: the helper is not
    // a way to read another site's cookies, tokens or banners.
    if (!response_header_kept(lower)) continue;
    if (std::find(seen.begin(), seen.end(), lower) != seen.end()) continue;
    seen.push_back(lower);
    answer.headers[valid_utf8(name)] = valid_utf8(value.substr(0, 512));
  }
  return answer;
}

std::optional<std::string> failure_text(const format::Failure& failure) {
  if (failure) return valid_utf8(*failure);
  return std::nullopt;
}

format::ControlResponse measure(Run& run) {
  std::vector<std::thread> workers;
  format::ControlHttp http_answer;
  // Threads may fail to start under resource exhaustion; those steps run
  // inline instead (slower, still bounded by their timeouts).
  auto start = [&](auto&& work) {
    try {
      workers.emplace_back(work);
    } catch (const std::system_error&) {
      work();
    }
  };
  if (run.plan.dns) start([&run] { measure_dns(run); });
  if (run.plan.connect)
    for (std::size_t i = 0; i < run.request.endpoints.size(); ++i) start([&run, i] { measure_endpoint(run, i); });
  if (run.plan.http) http_answer = measure_http(run);
  for (auto& worker : workers) worker.join();

  format::ControlResponse answer;
  if (run.plan.dns) {
    format::ControlDns dns;
    dns.failure = failure_text(run.dns.failure);
    for (const auto& a : run.dns.answers) {
      if (!a.ipv4.empty()) dns.addrs.push_back(a.ipv4);
      if (!a.ipv6.empty()) dns.addrs.push_back(a.ipv6);
    }
    answer.dns = std::move(dns);
  }
  std::map<std::string, format::ControlConnect> tcp;
  std::map<std::string, format::ControlHandshake> tls;
  for (const auto& endpoint : run.request.endpoints) {
    tcp[endpoint.key] = {!endpoint.connect_failure.has_value(), failure_text(endpoint.connect_failure)};
    if (endpoint.tls_done)
      tls[endpoint.key] = {run.request.parsed.host, !endpoint.tls.failure.has_value(), failure_text(endpoint.tls.failure)};
  }
  if (run.plan.connect) answer.tcp_connect = std::move(tcp);
  if (run.plan.tls) answer.tls_handshake = std::move(tls);
  if (run.plan.http) answer.http_request = std::move(http_answer);
  if (!run.plan.chain.empty()) answer.chain = run.plan.chain;
  answer.ip_info = json::object();
  return answer;
}

}  // namespace

bool parse_ip_network(const std::string& text, IpNetwork& out) {
  out = IpNetwork{};
  out.text = text;
  // Networks are read as written: the policy's addresses are normalized
  // (parse_ip_literal), a configured network is not.
  const auto network = ip::parse_network(text, ip::Spelling::literal, /*bare_address_ok=*/true);
  if (!network) return false;
  out.network = *network;
  return true;
}

bool address_allowed(const std::string& ip, const ControlOptions& options) {
  const auto parsed = parse_ip_literal(ip);
  if (!parsed) return false;
  if (!options.allowed_networks.empty()) {
    return std::any_of(options.allowed_networks.begin(), options.allowed_networks.end(),
                       [&](const IpNetwork& network) { return ip::contains(network.network, *parsed); });
  }
  if (options.allow_private) return true;
  return !ip::in_special_range(*parsed, ip::kNonPublic);
}

json handle_control_request(const json& request, const ControlOptions& options) {
  try {
    Run run;
    run.options = &options;
    format::ControlRequest typed;
    const std::string error = validate(request, options, run.request, typed);
    if (!error.empty()) return error_answer(error);
    if (const std::string chain_error = chain_plan(typed.chain, run.request.parsed.scheme, run.plan); !chain_error.empty())
      return error_answer(chain_error);
    run.deadline = Clock::now() + options.overall;
    run.trust.system_store = options.system_store;
    run.trust.ca_bundle_file = options.ca_bundle;
    run.trust.verify = true;
    return format::to_json(measure(run));
  } catch (const std::exception& e) {
    // Only resource exhaustion can get here; the client still gets JSON.
    return error_answer(std::string(kInternalError) + e.what());
  }
}

ControlReply handle_control_body(std::string_view body, const ControlOptions& options) {
  ControlReply reply;
  json request = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) {
    reply.http_status = 400;
    reply.body = error_answer("body is not valid JSON");
    return reply;
  }
  reply.body = handle_control_request(request, options);
  if (reply.body.contains("error")) {
    const std::string message = reply.body["error"].get<std::string>();
    reply.http_status = message.rfind(kInternalError, 0) == 0 ? 500 : 400;
  }
  return reply;
}

}  // namespace vantage::control
