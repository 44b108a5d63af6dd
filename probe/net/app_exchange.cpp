// Application-level exchange: a non-blocking write, then poll()ed reads. See
// app_exchange.h.
#include "probe/net/app_exchange.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "probe/net/failure.h"
#include "reports/format/vocabulary.h"

namespace vantage::net {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kHeadBytes = 16;  // what the observation keeps of the reply

int millis_until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// Restores the socket's flags when the exchange ends.
class NonBlocking {
 public:
  explicit NonBlocking(int fd) : fd_(fd), flags_(::fcntl(fd, F_GETFL)) {
    if (flags_ >= 0) ::fcntl(fd_, F_SETFL, flags_ | O_NONBLOCK);
  }
  ~NonBlocking() {
    if (flags_ >= 0) ::fcntl(fd_, F_SETFL, flags_);
  }
  NonBlocking(const NonBlocking&) = delete;
  NonBlocking& operator=(const NonBlocking&) = delete;

 private:
  int fd_;
  int flags_;
};

// Waits for `events`; returns poll's revents, 0 on timeout, -1 with errno.
int wait_for(int fd, short events, int timeout_ms) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    int ready = ::poll(&pfd, 1, timeout_ms);
    if (ready > 0) return pfd.revents;
    if (ready == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

}  // namespace

format::AppExchangeObservation app_exchange(const Socket& socket, const std::string& address,
                                            const AppExchangeOptions& options, const StepContext& ctx) {
  format::AppExchangeObservation obs;
  obs.t0 = ctx.clock ? ctx.clock->now() : 0;
  obs.transaction_id = ctx.transaction_id;
  obs.address = address;
  obs.exchange = options.exchange;
  auto finish = [&](format::Failure failure) {
    obs.failure = std::move(failure);
    obs.t = ctx.clock ? ctx.clock->now() : 0;
    return obs;
  };
  if (!socket.valid()) return finish(failure_from_errno(EBADF));
  const int fd = socket.fd();
  const auto deadline = Clock::now() + options.timeout;
  NonBlocking nonblocking(fd);

  while (obs.sent_bytes < options.send.size()) {
    ssize_t n = ::send(fd, options.send.data() + obs.sent_bytes, options.send.size() - obs.sent_bytes, MSG_NOSIGNAL);
    if (n > 0) {
      obs.sent_bytes += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return finish(failure_from_errno(errno));
    int revents = wait_for(fd, POLLOUT, millis_until(deadline));
    if (revents == 0) return finish(std::string(vocab::kTimeout));
    if (revents < 0) return finish(failure_from_errno(errno));
  }

  char buffer[4096];
  while (obs.received_bytes < options.max_read) {
    // Before the first byte, wait until the deadline; after it, only while
    // more keeps coming.
    int wait_ms = millis_until(deadline);
    if (obs.received_bytes > 0) wait_ms = std::min(wait_ms, static_cast<int>(options.settle.count()));
    int revents = wait_for(fd, POLLIN, wait_ms);
    if (revents == 0) break;  // timeout (judged below) or settled
    if (revents < 0) return finish(failure_from_errno(errno));
    std::size_t want = std::min(sizeof buffer, options.max_read - static_cast<std::size_t>(obs.received_bytes));
    ssize_t n = ::recv(fd, buffer, want, 0);
    if (n > 0) {
      if (obs.received_head.size() < kHeadBytes)
        obs.received_head.append(buffer, std::min(static_cast<std::size_t>(n), kHeadBytes - obs.received_head.size()));
      obs.received_bytes += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {
      obs.closed_by_peer = true;
      break;
    }
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    // A reset after the server's own bytes is still an answer.
    if (obs.received_bytes > 0) break;
    return finish(failure_from_errno(errno));
  }
  if (obs.received_bytes > 0) return finish(std::nullopt);
  if (obs.closed_by_peer) return finish(std::string(vocab::kEof));
  return finish(std::string(vocab::kTimeout));
}

}  // namespace vantage::net
