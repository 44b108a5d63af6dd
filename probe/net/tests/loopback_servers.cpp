// See loopback_servers.h.
// Debian's cpp-httplib is a compiled library built with OpenSSL support; its
// pkg-config Cflags define this too, and the header must agree with the .so.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#include "probe/net/tests/loopback_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vantage::net::testing {

namespace {

[[noreturn]] void die_errno(const char* what) {
  std::fprintf(stderr, "loopback_servers: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// Binds a TCP socket to loopback on an ephemeral port; listens when
// backlog >= 0. Returns the fd and sets *port.
int bind_loopback(int backlog, int* port, bool ipv6 = false) {
  int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("socket");
  sockaddr_storage address{};
  socklen_t length = 0;
  if (ipv6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    v6->sin6_family = AF_INET6;
    v6->sin6_addr = in6addr_loopback;
    length = sizeof *v6;
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof *v4;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) die_errno("bind");
  if (backlog >= 0 && ::listen(fd, backlog) != 0) die_errno("listen");
  length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  *port = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  return fd;
}

// Waits for a connection on listen_fd or a byte on stop_fd. Returns the
// accepted fd, or -1 when asked to stop.
int accept_or_stop(int listen_fd, int stop_fd) {
  for (;;) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      die_errno("poll");
    }
    if (fds[1].revents != 0) return -1;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) return fd;
    }
  }
}

// Reads what the client sends first (its ClientHello), until it pauses.
std::string drain_first_flight(int fd) {
  char buffer[16384];
  std::string flight;
  int wait_ms = 2000;  // for the first bytes
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, wait_ms) <= 0) return flight;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return flight;
    flight.append(buffer, static_cast<std::size_t>(n));
    wait_ms = 50;  // then only for the rest of the same flight
  }
}

void set_io_timeouts(int fd, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Server threads write to clients that may have gone (that is what several
// tests do); block SIGPIPE on them so the write fails with EPIPE instead of
// killing the test. Threads they start (httplib's pool) inherit the mask.
// The client code under test gets no such help: it must cope by itself.
void block_sigpipe_on_this_thread() {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
}

void make_stop_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) die_errno("pipe2");
}

void stop_and_join(int stop_pipe[2], std::thread& thread) {
  char byte = 's';
  if (::write(stop_pipe[1], &byte, 1) != 1) die_errno("write stop pipe");
  if (thread.joinable()) thread.join();
  ::close(stop_pipe[0]);
  ::close(stop_pipe[1]);
}

}  // namespace

ClosedPort::ClosedPort() { fd_ = bind_loopback(-1, &port_); }
ClosedPort::~ClosedPort() { ::close(fd_); }

SaturatedListener::SaturatedListener() {
  listen_fd_ = bind_loopback(0, &port_);
  // With backlog 0 the accept queue holds one connection; fill it (and a
  // spare, in case the kernel allows one more) so later SYNs are dropped.
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port_));
  for (int i = 0; i < 2; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) die_errno("socket");
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    fillers_.push_back(fd);
  }
  // Let the handshakes of the fillers settle.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

SaturatedListener::~SaturatedListener() {
  for (int fd : fillers_) ::close(fd);
  ::close(listen_fd_);
}

RawTcpServer::RawTcpServer(Behaviour behaviour, bool ipv6, std::string answer)
    : behaviour_(behaviour), answer_(std::move(answer)) {
  listen_fd_ = bind_loopback(128, &port_, ipv6);
  make_stop_pipe(stop_pipe_);
  thread_ = std::thread([this] { serve(); });
}

RawTcpServer::~RawTcpServer() {
  stop_and_join(stop_pipe_, thread_);
  for (int fd : held_) ::close(fd);
  ::close(listen_fd_);
}

std::string RawTcpServer::first_flight() const {
  std::lock_guard lock(mu_);
  return first_flight_;
}

void RawTcpServer::serve() {
  block_sigpipe_on_this_thread();
  for (;;) {
    int fd = accept_or_stop(listen_fd_, stop_pipe_[0]);
    if (fd < 0) return;
    ++accepted_;
    switch (behaviour_) {
      case Behaviour::kHold:
        held_.push_back(fd);
        break;
      case Behaviour::kResetAfterClientHello: {
        drain_first_flight(fd);
        linger abortive{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
        ::close(fd);
        break;
      }
      case Behaviour::kCloseAfterClientHello:
        drain_first_flight(fd);  // unread data would turn close() into a RST
        ::close(fd);
        break;
      case Behaviour::kAnswerAndHold:
      case Behaviour::kAnswerAndClose: {
        std::string flight = drain_first_flight(fd);
        {
          std::lock_guard lock(mu_);
          first_flight_ = flight;
        }
        if (::write(fd, answer_.data(), answer_.size()) < 0) {
          // the client went: nothing to answer
        }
        if (behaviour_ == Behaviour::kAnswerAndHold) held_.push_back(fd);
        else ::close(fd);
        break;
      }
    }
  }
}

TlsServer::TlsServer(std::vector<Identity> chain, std::vector<std::string> alpn, After after, std::string answer)
    : chain_(std::move(chain)), after_(after), answer_(std::move(answer)) {
  for (const auto& name : alpn) {
    alpn_wire_.push_back(static_cast<char>(name.size()));
    alpn_wire_ += name;
  }
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (ctx_ == nullptr) die_errno("SSL_CTX_new");
  if (SSL_CTX_use_certificate(ctx_, chain_.at(0).cert.get()) != 1) die_errno("use_certificate");
  for (std::size_t i = 1; i < chain_.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(ctx_, chain_[i].cert.get()) != 1) die_errno("add1_chain_cert");
  }
  if (SSL_CTX_use_PrivateKey(ctx_, chain_[0].key.get()) != 1) die_errno("use_PrivateKey");
  if (!alpn_wire_.empty()) {
    SSL_CTX_set_alpn_select_cb(
        ctx_,
        [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned int inlen, void* arg) -> int {
          auto* wire = static_cast<std::string*>(arg);
          unsigned char* chosen = nullptr;
          if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<unsigned char*>(wire->data()),
                                    static_cast<unsigned>(wire->size()), in,
                                    inlen) != OPENSSL_NPN_NEGOTIATED) {
            return SSL_TLSEXT_ERR_NOACK;
          }
          *out = chosen;
          return SSL_TLSEXT_ERR_OK;
        },
        &alpn_wire_);
  }
  listen_fd_ = bind_loopback(128, &port_);
  make_stop_pipe(stop_pipe_);
  thread_ = std::thread([this] { serve(); });
}

TlsServer::~TlsServer() {
  stop_and_join(stop_pipe_, thread_);
  ::close(listen_fd_);
  SSL_CTX_free(ctx_);
}

void TlsServer::serve() {
  block_sigpipe_on_this_thread();
  for (;;) {
    int fd = accept_or_stop(listen_fd_, stop_pipe_[0]);
    if (fd < 0) break;
    set_io_timeouts(fd, 2);
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    bool reset = false;
    if (SSL_accept(ssl) == 1) {
      ++handshakes_;
      char buffer[4096];
      if (after_ != After::kWaitForClose) {
        int n = SSL_read(ssl, buffer, sizeof buffer);
        {
          std::lock_guard lock(mu_);
          first_data_.assign(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
        }
        if (after_ == After::kAnswer && n > 0) SSL_write(ssl, answer_.data(), static_cast<int>(answer_.size()));
        reset = after_ == After::kResetOnData;
      }
      if (reset) {
        linger hard{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      } else if (after_ != After::kCloseNotifyOnData) {
        while (SSL_read(ssl, buffer, sizeof buffer) > 0) {
        }
      }
      if (!reset) SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    ::close(fd);
  }
  ERR_clear_error();
  OPENSSL_thread_stop();
}

std::string TlsServer::first_data() const {
  std::lock_guard lock(mu_);
  return first_data_;
}

HttpServer::HttpServer(const Identity* identity, const std::string& host) {
  if (identity != nullptr) {
    server_ = std::make_unique<httplib::SSLServer>(identity->cert.get(), identity->key.get());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  auto& server = *server_;
  server.Get("/hello", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("X-Vantage-Test", "yes");
    response.set_content("hello vantage", "text/plain");
  });
  server.Get(R"(/bytes/(\d+))", [](const httplib::Request& request, httplib::Response& response) {
    std::size_t count = std::stoul(request.matches[1].str());
    response.set_content(std::string(count, 'v'), "application/octet-stream");
  });
  server.Get("/slow", [this](const httplib::Request&, httplib::Response& response) {
    response.set_chunked_content_provider(
        "application/octet-stream", [this](std::size_t offset, httplib::DataSink& sink) {
          if (stopping_ || offset >= 200 * 1000) {
            sink.done();
            return true;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          return sink.write(std::string(1000, 's').data(), 1000);
        });
  });
  server.Get("/stall", [this](const httplib::Request&, httplib::Response& response) {
    response.set_chunked_content_provider(
        "application/octet-stream", [this](std::size_t offset, httplib::DataSink& sink) {
          if (offset == 0) return sink.write(std::string(100, 'z').data(), 100);
          for (int i = 0; i < 300 && !stopping_ && sink.is_writable(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          }
          sink.done();
          return true;
        });
  });
  server.Get("/cgi-bin/micromsg-bin/newgetdns", [](const httplib::Request& request, httplib::Response& response) {
    if (request.target != "/cgi-bin/micromsg-bin/newgetdns") {
      response.status = 400;
      response.set_content("unexpected query: " + request.target, "text/plain");
      return;
    }
    response.set_content(kNewGetDnsBody, "text/xml");
  });
  server.Get("/redirect", [](const httplib::Request&, httplib::Response& response) {
    response.set_redirect("/hello");
  });
  server.Post("/post", [](const httplib::Request& request, httplib::Response& response) {
    if (request.body == kExpectedPostBody) {
      response.set_content("got " + request.body, "text/plain");
    } else {
      response.status = 400;
      response.set_content("unexpected body: " + request.body, "text/plain");
    }
  });
  port_ = server.bind_to_any_port(host);
  if (port_ <= 0) die_errno("httplib bind");
  thread_ = std::thread([this] {
    block_sigpipe_on_this_thread();
    server_->listen_after_bind();
  });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HttpServer::~HttpServer() {
  stopping_ = true;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vantage::net::testing
