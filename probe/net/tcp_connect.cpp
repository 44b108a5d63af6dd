// TCP connect with its own deadline: a non-blocking connect() followed by
// poll(). See tcp_connect.h.
//
// The returned socket is in *blocking* mode (the flags it had before the
// connect are restored), so a caller that does plain read()/write() works;
// tls_handshake switches it to non-blocking for its own loop and restores it.
// Never resolves names: `ip` must be an IPv4 or IPv6 literal.
#include "probe/net/tcp_connect.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "probe/net/failure.h"

namespace vantage::net {

namespace {

using Clock = std::chrono::steady_clock;

// Fills `storage` from an IP literal ("192.0.2.1", "2001:db8::1" or
// "[2001:db8::1]"). Returns false when `ip` is not a literal.
bool make_address(const std::string& ip, int port, sockaddr_storage& storage, socklen_t& length) {
  std::memset(&storage, 0, sizeof storage);
  std::string literal = ip;
  if (literal.size() >= 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  if (inet_pton(AF_INET, literal.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET6, literal.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// Waits until the in-progress connect finishes or the deadline passes.
// Returns 0 on completion (check SO_ERROR), ETIMEDOUT, or poll's errno.
int wait_writable(int fd, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return ETIMEDOUT;
    pollfd pfd{fd, POLLOUT, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
    if (ready > 0) return 0;
    if (ready == 0) continue;  // re-check the deadline (poll rounds down)
    if (errno != EINTR) return errno;
  }
}

}  // namespace

TcpConnectResult tcp_connect(const std::string& ip, int port, std::chrono::milliseconds timeout,
                             const StepContext& ctx) {
  TcpConnectResult result;
  auto& obs = result.observation;
  obs.ip = ip;
  obs.port = port;
  obs.transaction_id = ctx.transaction_id;
  obs.t0 = ctx.clock ? ctx.clock->now() : 0;
  const auto deadline = Clock::now() + timeout;
  auto finish = [&](int err) {
    obs.t = ctx.clock ? ctx.clock->now() : 0;
    if (err != 0) {
      obs.failure = failure_from_errno(err);
      result.socket.reset();
    }
    return std::move(result);
  };

  sockaddr_storage address;
  socklen_t address_length = 0;
  if (port <= 0 || port > 65535 || !make_address(ip, port, address, address_length)) {
    obs.t = ctx.clock ? ctx.clock->now() : 0;
    obs.failure = "unknown_failure: not an IP address and port: " + ip + ":" + std::to_string(port);
    return result;
  }

  Socket socket(::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return finish(errno);
  const int flags = ::fcntl(socket.fd(), F_GETFL, 0);
  if (flags < 0 || ::fcntl(socket.fd(), F_SETFL, flags | O_NONBLOCK) < 0) return finish(errno);
  result.socket = std::move(socket);
  const int fd = result.socket.fd();

  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), address_length) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) return finish(errno);
    if (int err = wait_writable(fd, deadline); err != 0) return finish(err);
    int so_error = 0;
    socklen_t so_error_length = sizeof so_error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &so_error_length) != 0) {
      return finish(errno);
    }
    if (so_error != 0) return finish(so_error);
  }
  if (::fcntl(fd, F_SETFL, flags) < 0) return finish(errno);
  return finish(0);
}

}  // namespace vantage::net
