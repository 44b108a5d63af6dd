// Application-level exchange: a non-blocking write, then poll()ed reads, on
// the bare socket or through the TLS session. See app_exchange.h.
#include "probe/net/app_exchange.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
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

// What the exchange sends and reads through. Each call moves bytes (> 0),
// reports the peer's close (0, reads only) or returns -1 having set either
// `wait` (poll the socket for those events, then call again; 0 = call again
// at once) or `failure`.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual long send(const char* data, std::size_t n) = 0;
  virtual long recv(char* buffer, std::size_t n) = 0;
  // Bytes already received and decrypted but not yet read: poll() cannot see them.
  virtual bool pending() const { return false; }
  short wait = 0;
  std::string failure;
};

class SocketTransport : public Transport {
 public:
  explicit SocketTransport(int fd) : fd_(fd) {}
  long send(const char* data, std::size_t n) override {
    return settle(::send(fd_, data, n, MSG_NOSIGNAL), POLLOUT);
  }
  long recv(char* buffer, std::size_t n) override { return settle(::recv(fd_, buffer, n, 0), POLLIN); }

 private:
  long settle(ssize_t n, short events) {
    wait = 0;
    if (n >= 0) return static_cast<long>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK) wait = events;
    else if (errno != EINTR) failure = failure_from_errno(errno);
    return -1;
  }
  int fd_;
};

class TlsTransport : public Transport {
 public:
  explicit TlsTransport(SSL* ssl) : ssl_(ssl) {}
  long send(const char* data, std::size_t n) override {
    ERR_clear_error();
    errno = 0;
    return settle(SSL_write(ssl_, data, static_cast<int>(n)));
  }
  long recv(char* buffer, std::size_t n) override {
    ERR_clear_error();
    errno = 0;
    return settle(SSL_read(ssl_, buffer, static_cast<int>(n)));
  }
  bool pending() const override { return SSL_pending(ssl_) > 0; }

 private:
  long settle(int ret) {
    const int sys_errno = errno;
    wait = 0;
    if (ret > 0) return ret;
    const int error = SSL_get_error(ssl_, ret);
    const unsigned long queued = ERR_peek_error();
    switch (error) {
      case SSL_ERROR_WANT_READ: wait = POLLIN; return -1;
      case SSL_ERROR_WANT_WRITE: wait = POLLOUT; return -1;
      case SSL_ERROR_ZERO_RETURN: return 0;  // close_notify
      case SSL_ERROR_SYSCALL:
        if (queued != 0 && ERR_GET_LIB(queued) == ERR_LIB_SYS && ERR_GET_REASON(queued) != 0) {
          failure = failure_from_errno(ERR_GET_REASON(queued));
          return -1;
        }
        if (sys_errno == EINTR) return -1;
        if (sys_errno == 0) return 0;  // closed without close_notify
        failure = failure_from_errno(sys_errno);
        return -1;
      default:
        if (queued != 0 && ERR_GET_LIB(queued) == ERR_LIB_SYS && ERR_GET_REASON(queued) != 0) {
          failure = failure_from_errno(ERR_GET_REASON(queued));
        } else if (queued != 0 && ERR_GET_LIB(queued) == ERR_LIB_SSL &&
                   ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
          return 0;  // closed without close_notify (OpenSSL 3)
        } else {
          const char* reason = queued != 0 ? ERR_reason_error_string(queued) : nullptr;
          failure = std::string("unknown_failure: TLS error after the handshake: ") + (reason ? reason : "unknown");
        }
        return -1;
    }
  }
  SSL* ssl_;
};

format::AppExchangeObservation run_exchange(Transport& io, int fd, const std::string& address,
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
  if (fd < 0) return finish(failure_from_errno(EBADF));
  const auto deadline = Clock::now() + options.timeout;
  NonBlocking nonblocking(fd);

  while (obs.sent_bytes < options.send.size()) {
    long n = io.send(options.send.data() + obs.sent_bytes, options.send.size() - obs.sent_bytes);
    if (n > 0) {
      obs.sent_bytes += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {  // inside TLS: the server's close_notify (or close) before the bytes were all written
      obs.closed_by_peer = true;
      return finish(std::string(vocab::kEof));
    }
    if (!io.failure.empty()) return finish(io.failure);
    if (io.wait == 0) continue;
    int revents = wait_for(fd, io.wait, millis_until(deadline));
    if (revents == 0) return finish(std::string(vocab::kTimeout));
    if (revents < 0) return finish(failure_from_errno(errno));
  }

  char buffer[4096];
  while (obs.received_bytes < options.max_read) {
    if (!io.pending()) {
      // Before the first byte, wait until the deadline; after it, only
      // while more keeps coming.
      int wait_ms = millis_until(deadline);
      if (obs.received_bytes > 0) wait_ms = std::min(wait_ms, static_cast<int>(options.settle.count()));
      int revents = wait_for(fd, io.wait == POLLOUT ? POLLOUT : POLLIN, wait_ms);
      if (revents == 0) break;  // timeout (judged below) or settled
      if (revents < 0) return finish(failure_from_errno(errno));
    }
    std::size_t want = std::min(sizeof buffer, options.max_read - static_cast<std::size_t>(obs.received_bytes));
    long n = io.recv(buffer, want);
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
    if (io.failure.empty()) continue;  // wait again (TLS: a record that held no data, e.g. a session ticket)
    // A reset after the server's own bytes is still an answer.
    if (obs.received_bytes > 0) break;
    return finish(io.failure);
  }
  if (obs.received_bytes > 0) return finish(std::nullopt);
  if (obs.closed_by_peer) return finish(std::string(vocab::kEof));
  return finish(std::string(vocab::kTimeout));
}

}  // namespace

format::AppExchangeObservation app_exchange(const Socket& socket, const std::string& address,
                                            const AppExchangeOptions& options, const StepContext& ctx) {
  const int fd = socket.valid() ? socket.fd() : -1;
  SocketTransport io(fd);
  return run_exchange(io, fd, address, options, ctx);
}

format::AppExchangeObservation app_exchange_tls(::ssl_st* ssl, int fd, const std::string& address,
                                                const AppExchangeOptions& options, const StepContext& ctx) {
  if (ssl == nullptr) fd = -1;
  TlsTransport io(ssl);
  return run_exchange(io, fd, address, options, ctx);
}

}  // namespace vantage::net
