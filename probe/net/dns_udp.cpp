// query_udp: one DNS query over UDP to a chosen resolver, with "hold-on".
//
// After the first matching response the socket stays open for `hold`, and
// every packet that arrives is recorded as its own observation with its
// arrival time and IP TTL (IP_RECVTTL / IPV6_RECVHOPLIMIT): an on-path
// injector's forged answer usually wins the race against the real one and
// carries a different TTL, and that is only visible if both are kept.
// The socket is connected so that an ICMP port-unreachable surfaces as
// ECONNREFUSED (injectors spoof the resolver's address and port, so their
// packets still pass the connected socket's filter). Never blocks longer than
// timeout + hold; never sends more than the one query.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

#include "probe/net/dns_internal.h"
#include "probe/net/dns_lookup.h"
#include "probe/net/failure.h"
#include "probe/net/socket.h"

namespace vantage::net {

namespace {

// Bounds the memory a flood of packets during hold-on can take.
constexpr size_t kMaxRecordedPackets = 64;
// Large enough for any UDP payload; longer packets are reported truncated
// (and then fail to parse).
constexpr size_t kReceiveBufferSize = 65536;

struct ResolverAddress {
  sockaddr_storage storage = {};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  std::string text;  // "ip:port" or "[ip6]:port"
};

// Accepts "ip", "ip:port", "ip6", "[ip6]" and "[ip6]:port"; port 53 if absent.
std::optional<ResolverAddress> parse_resolver(const std::string& spec) {
  std::string host = spec;
  std::string port_text = "53";
  if (!spec.empty() && spec.front() == '[') {
    const auto close = spec.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = spec.substr(1, close - 1);
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return std::nullopt;
      port_text = spec.substr(close + 2);
    }
  } else if (const auto colon = spec.find(':');
             colon != std::string::npos && spec.find(':', colon + 1) == std::string::npos) {
    host = spec.substr(0, colon);
    port_text = spec.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const int port = std::stoi(port_text);
  if (port <= 0 || port > 65535) return std::nullopt;

  ResolverAddress address;
  auto* sin = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in);
    address.family = AF_INET;
    address.text = host + ":" + port_text;
  } else if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in6);
    address.family = AF_INET6;
    address.text = "[" + host + "]:" + port_text;
  } else {
    return std::nullopt;
  }
  return address;
}

uint16_t random_query_id() {
  static thread_local std::mt19937 generator{std::random_device{}()};
  return static_cast<uint16_t>(std::uniform_int_distribution<int>(0, 0xffff)(generator));
}

std::optional<int> ttl_from_control(msghdr& message) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL;
    const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT;
    if ((v4 || v6) && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int ttl = 0;
      std::memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
      return ttl;
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<format::DnsObservation> query_udp(const std::string& hostname,
                                              const UdpQueryOptions& options,
                                              const StepContext& ctx) {
  using Clock = std::chrono::steady_clock;
  format::DnsObservation base;
  base.engine = "udp";
  base.resolver_address = options.resolver;
  base.hostname = hostname;
  base.query_type = query_type_name(options.type);
  base.transaction_id = ctx.transaction_id;
  base.t0 = ctx.clock->now();

  auto failed = [&](std::string failure) {
    format::DnsObservation obs = base;
    obs.failure = std::move(failure);
    obs.t = ctx.clock->now();
    return std::vector<format::DnsObservation>{std::move(obs)};
  };

  const auto resolver = parse_resolver(options.resolver);
  if (!resolver) return failed("unknown_failure: invalid resolver address " + options.resolver);
  base.resolver_address = resolver->text;

  const uint16_t id = random_query_id();
  base.query_id = id;
  const std::string query = build_dns_query(hostname, options.type, id);
  if (query.empty()) return failed("unknown_failure: hostname cannot be encoded in a DNS query");

  Socket sock(::socket(resolver->family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return failed(failure_from_errno(errno));
  const int on = 1;
  const int rc = resolver->family == AF_INET
                     ? setsockopt(sock.fd(), IPPROTO_IP, IP_RECVTTL, &on, sizeof(on))
                     : setsockopt(sock.fd(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
  if (rc != 0) return failed(failure_from_errno(errno));
  if (::connect(sock.fd(), reinterpret_cast<const sockaddr*>(&resolver->storage),
                resolver->length) != 0) {
    return failed(failure_from_errno(errno));
  }
  if (::send(sock.fd(), query.data(), query.size(), 0) != static_cast<ssize_t>(query.size())) {
    return failed(failure_from_errno(errno));
  }

  std::vector<format::DnsObservation> responses;
  std::string buffer(kReceiveBufferSize, '\0');
  // Until a well-formed response with our id arrives, the deadline is the
  // timeout; after it, the hold-on window. Wrong-id or malformed packets are
  // recorded but do not end the wait: a stub resolver would ignore them too.
  auto deadline = Clock::now() + options.timeout;
  bool matched = false;
  while (responses.size() < kMaxRecordedPackets) {
    const auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) break;
    pollfd pfd = {sock.fd(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(remaining));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      if (responses.empty()) return failed(failure_from_errno(errno));
      break;
    }
    if (ready == 0) break;

    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) * 4];
    iovec iov = {buffer.data(), buffer.size()};
    msghdr message = {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t received = ::recvmsg(sock.fd(), &message, 0);
    if (received < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      // An ICMP error (e.g. port unreachable → ECONNREFUSED) before any
      // answer is the result; during hold-on it only ends the listening.
      if (responses.empty()) return failed(failure_from_errno(errno));
      break;
    }

    format::DnsObservation obs = base;
    obs.t = ctx.clock->now();
    obs.ip_ttl = ttl_from_control(message);
    if (!responses.empty()) obs.tags.push_back("x_hold_on");
    const std::string packet(buffer.data(), static_cast<size_t>(received));
    const bool well_formed = parse_dns_response(packet, obs);
    // parse_dns_response sets query_id to the id the response carries, which
    // is the evidence when it differs from ours.
    if (!well_formed) {
      obs.failure = "dns_server_misbehaving";
    } else if (obs.query_id != id) {
      obs.failure = "dns_reply_with_wrong_query_id";
    } else {
      obs.failure = failure_for_parsed_response(obs, options.type);
      if (!matched) {
        matched = true;
        deadline = Clock::now() + options.hold;
      }
    }
    responses.push_back(std::move(obs));
  }

  if (responses.empty()) return failed("generic_timeout_error");
  return responses;
}

}  // namespace vantage::net
