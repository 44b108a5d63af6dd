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
// timeout + hold. Until a matching answer arrives the same query is sent
// again every `resend_every` (a lost packet is then a short delay, not a
// timeout); once one has arrived, nothing more is sent.
//
// query_udp_many holds a batch of such queries at once: one socket each, all
// polled by one loop, so every query's hold-on window runs concurrently
// instead of each waiting for a thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

#include "probe/net/dns_internal.h"
#include "probe/net/dns_lookup.h"
#include "probe/net/failure.h"
#include "probe/net/socket.h"
#include "reports/format/ip_address.h"

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
  const auto hp = ip::split_host_port(spec);
  if (!hp || (hp->port && *hp->port < 1)) return std::nullopt;
  const std::string& host = hp->host;
  const int port = hp->port.value_or(53);

  ResolverAddress address;
  auto* sin = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in);
    address.family = AF_INET;
    address.text = ip::join_host_port(host, port);
  } else if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    address.length = sizeof(sockaddr_in6);
    address.family = AF_INET6;
    address.text = ip::join_host_port(host, port);
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

namespace {

// One query of a batch: its socket, its state in the shared poll loop and
// what it recorded.
struct PendingQuery {
  format::DnsObservation base;
  uint16_t id = 0;
  Socket sock;
  std::chrono::steady_clock::time_point deadline;
  std::string query;  // as sent, for resending
  std::chrono::steady_clock::time_point next_send = std::chrono::steady_clock::time_point::max();
  int sends = 0;
  bool matched = false;
  bool done = false;
  std::optional<std::string> failure;  // the query's only result when set
  std::vector<format::DnsObservation> responses;
};

// Opens, connects and sends one query; on failure sets q.failure and done.
void start_query(PendingQuery& q, const ResolverAddress& resolver, const std::string& hostname,
                 const UdpQueryOptions& options) {
  auto fail = [&](std::string f) {
    q.failure = std::move(f);
    q.done = true;
  };
  q.id = random_query_id();
  q.base.query_id = q.id;
  q.query = build_dns_query(hostname, options.type, q.id);
  const std::string& query = q.query;
  if (query.empty()) return fail("unknown_failure: hostname cannot be encoded in a DNS query");
  q.sock = Socket(::socket(resolver.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!q.sock.valid()) return fail(failure_from_errno(errno));
  const int on = 1;
  const int rc = resolver.family == AF_INET
                     ? setsockopt(q.sock.fd(), IPPROTO_IP, IP_RECVTTL, &on, sizeof(on))
                     : setsockopt(q.sock.fd(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof(on));
  if (rc != 0) return fail(failure_from_errno(errno));
  if (::connect(q.sock.fd(), reinterpret_cast<const sockaddr*>(&resolver.storage), resolver.length) != 0)
    return fail(failure_from_errno(errno));
  if (::send(q.sock.fd(), query.data(), query.size(), 0) != static_cast<ssize_t>(query.size()))
    return fail(failure_from_errno(errno));
  q.sends = 1;
  if (options.resend_every.count() > 0) q.next_send = std::chrono::steady_clock::now() + options.resend_every;
}

// Sends the query again when no answer has come by its resend time. A send
// that fails only stops the resending: the first send's answer may still come.
void maybe_resend(PendingQuery& q, std::chrono::steady_clock::time_point now, const UdpQueryOptions& options) {
  if (q.matched || q.next_send > now) return;
  if (::send(q.sock.fd(), q.query.data(), q.query.size(), 0) != static_cast<ssize_t>(q.query.size())) {
    q.next_send = std::chrono::steady_clock::time_point::max();
    return;
  }
  ++q.sends;
  q.next_send = now + options.resend_every;
}

// Reads one packet for `q` (its socket is readable).
void receive_one(PendingQuery& q, std::string& buffer, const UdpQueryOptions& options, const StepContext& ctx) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int)) * 4];
  iovec iov = {buffer.data(), buffer.size()};
  msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof(control);
  const ssize_t received = ::recvmsg(q.sock.fd(), &message, MSG_DONTWAIT);
  if (received < 0) {
    if (errno == EINTR || errno == EAGAIN) return;
    // An ICMP error (e.g. port unreachable → ECONNREFUSED) before any
    // answer is the result; during hold-on it only ends the listening.
    if (q.responses.empty()) q.failure = failure_from_errno(errno);
    q.done = true;
    return;
  }
  format::DnsObservation obs = q.base;
  obs.t = ctx.clock->now();
  obs.ip_ttl = ttl_from_control(message);
  if (!q.responses.empty()) obs.tags.push_back("x_hold_on");
  const std::string packet(buffer.data(), static_cast<size_t>(received));
  const bool well_formed = parse_dns_response(packet, obs);
  // parse_dns_response sets query_id to the id the response carries, which
  // is the evidence when it differs from ours.
  if (!well_formed) {
    obs.failure = "dns_server_misbehaving";
  } else if (obs.query_id != q.id) {
    obs.failure = "dns_reply_with_wrong_query_id";
  } else {
    obs.failure = failure_for_parsed_response(obs, options.type);
    if (!q.matched) {
      q.matched = true;
      q.deadline = std::chrono::steady_clock::now() + options.hold;
    }
  }
  q.responses.push_back(std::move(obs));
  if (q.responses.size() >= kMaxRecordedPackets) q.done = true;
}

}  // namespace

std::vector<std::vector<format::DnsObservation>> query_udp_many(const std::vector<UdpQuery>& queries,
                                                                const UdpQueryOptions& options) {
  using Clock = std::chrono::steady_clock;
  std::vector<PendingQuery> pending(queries.size());
  const auto resolver = parse_resolver(options.resolver);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    auto& q = pending[i];
    const StepContext& ctx = queries[i].ctx;
    q.base.engine = "udp";
    q.base.resolver_address = resolver ? resolver->text : options.resolver;
    q.base.hostname = queries[i].hostname;
    q.base.query_type = query_type_name(options.type);
    q.base.transaction_id = ctx.transaction_id;
    q.base.t0 = ctx.clock->now();
    if (!resolver) {
      q.failure = "unknown_failure: invalid resolver address " + options.resolver;
      q.done = true;
      continue;
    }
    // Until a well-formed response with our id arrives, the deadline is the
    // timeout; after it, the hold-on window. Wrong-id or malformed packets
    // are recorded but do not end the wait: a stub resolver would ignore
    // them too.
    q.deadline = Clock::now() + options.timeout;
    start_query(q, *resolver, queries[i].hostname, options);
  }

  // One poll over every open query: each one's window runs at once.
  std::string buffer(kReceiveBufferSize, '\0');
  std::vector<pollfd> fds;
  std::vector<std::size_t> owner;
  for (;;) {
    const auto now = Clock::now();
    fds.clear();
    owner.clear();
    auto next_deadline = Clock::time_point::max();
    for (std::size_t i = 0; i < pending.size(); ++i) {
      auto& q = pending[i];
      if (q.done) continue;
      if (q.deadline <= now) {
        q.done = true;
        continue;
      }
      maybe_resend(q, now, options);
      fds.push_back({q.sock.fd(), POLLIN, 0});
      owner.push_back(i);
      next_deadline = std::min({next_deadline, q.deadline, q.matched ? q.deadline : q.next_send});
    }
    if (fds.empty()) break;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now).count();
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(1, wait)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      const std::string f = failure_from_errno(errno);
      for (std::size_t i : owner) {
        if (pending[i].responses.empty()) pending[i].failure = f;
        pending[i].done = true;
      }
      break;
    }
    for (std::size_t k = 0; k < fds.size(); ++k)
      if (fds[k].revents & (POLLIN | POLLERR)) receive_one(pending[owner[k]], buffer, options, queries[owner[k]].ctx);
  }

  std::vector<std::vector<format::DnsObservation>> out(pending.size());
  for (std::size_t i = 0; i < pending.size(); ++i) {
    auto& q = pending[i];
    if (q.failure || q.responses.empty()) {
      format::DnsObservation obs = q.base;
      obs.failure = q.failure.value_or("generic_timeout_error");
      obs.t = queries[i].ctx.clock->now();
      out[i].push_back(std::move(obs));
    } else {
      out[i] = std::move(q.responses);
    }
    if (q.sends > 1)
      for (auto& obs : out[i]) obs.tags.push_back("x_resent");
  }
  return out;
}

std::vector<format::DnsObservation> query_udp(const std::string& hostname,
                                              const UdpQueryOptions& options,
                                              const StepContext& ctx) {
  return std::move(query_udp_many({{hostname, ctx}}, options).front());
}

}  // namespace vantage::net
