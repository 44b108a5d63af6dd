// Real servers on loopback (127.0.0.1 or ::1, ephemeral ports), each running
// in its own thread, for the TCP, TLS and HTTP tests. They stand in for the
// service and for the censor's behaviours (silence, reset, close). They only
// ever listen on loopback and never connect anywhere.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe/net/tests/test_pki.h"

namespace httplib {
class Server;
}

namespace vantage::net::testing {

// A port on 127.0.0.1 that is bound but not listening: connects get a RST
// (connection refused) and nobody else can take the port meanwhile.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A listener with backlog 0 whose accept queue is already full: Linux drops
// further SYNs, so a connect to it times out, all on loopback.
class SaturatedListener {
 public:
  SaturatedListener();
  ~SaturatedListener();
  int port() const { return port_; }

 private:
  int listen_fd_ = -1;
  int port_ = 0;
  std::vector<int> fillers_;
};

// Accepts TCP connections and then behaves like a censor (or a mute server).
class RawTcpServer {
 public:
  enum class Behaviour {
    kHold,                   // accept, keep open, never send anything
    kResetAfterClientHello,  // read the first bytes, then RST (SO_LINGER 0, close)
    kCloseAfterClientHello,  // read the first bytes, then close cleanly (FIN)
    kAnswerAndHold,          // read the first bytes, send `answer`, keep open
    kAnswerAndClose,         // read the first bytes, send `answer`, close (FIN)
  };
  explicit RawTcpServer(Behaviour behaviour, bool ipv6 = false, std::string answer = "");
  ~RawTcpServer();
  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  // The first flight of the last connection (what the client sent first).
  std::string first_flight() const;

 private:
  void serve();
  Behaviour behaviour_;
  std::string answer_;
  mutable std::mutex mu_;
  std::string first_flight_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::vector<int> held_;
  std::thread thread_;
};

// OpenSSL TLS server: serves `chain` (leaf first, key = chain[0].key), picks
// the first of `alpn` the client offers (none when empty), completes the
// handshake, then does `after` with the client's first application data,
// waits for the client's close_notify and closes.
class TlsServer {
 public:
  enum class After {
    kWaitForClose,     // read and discard until the client closes
    kAnswer,           // read the first application data, send `answer`, then wait for the close
    kResetOnData,      // read the first application data, then RST (SO_LINGER 0, close)
    kCloseNotifyOnData,  // read the first application data, then close_notify and FIN
    kHoldOnData,       // read the first application data, then say nothing until the client goes
  };
  TlsServer(std::vector<Identity> chain, std::vector<std::string> alpn = {}, After after = After::kWaitForClose,
            std::string answer = "");
  ~TlsServer();
  int port() const { return port_; }
  int handshakes() const { return handshakes_.load(); }
  // The first application data of the last connection (decrypted).
  std::string first_data() const;

 private:
  void serve();
  std::vector<Identity> chain_;
  std::string alpn_wire_;
  After after_;
  std::string answer_;
  mutable std::mutex mu_;
  std::string first_data_;
  struct ssl_ctx_st* ctx_ = nullptr;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> handshakes_{0};
  std::thread thread_;
};

// cpp-httplib server on `host` (127.0.0.1 or ::1), plain or TLS (with
// `identity` as its certificate).
// Routes:
//   GET  /hello        200 "hello vantage", header X-Vantage-Test: yes
//   GET  /bytes/<n>    200 with n bytes of 'v' (Content-Length)
//   GET  /slow         chunked, 1000 bytes every 20 ms for 4 s
//   GET  /stall        chunked, 100 bytes then silence for 3 s
//   GET  /redirect     302 to /hello
//   POST /post         200 "got <body>" if body == kExpectedPostBody, else 400
//   GET  /cgi-bin/micromsg-bin/newgetdns
//                      WeChat's HTTP-DNS service: 200 text/xml kNewGetDnsBody
//                      if the request has no query string, else 400
//   anything else      404
class HttpServer {
 public:
  static constexpr const char* kExpectedPostBody = "vantage=post&n=1";
  static constexpr const char* kNewGetDnsBody =
      "<dns><domainlist><domain name=\"long.weixin.qq.com\" timeout=\"1800\"><ip>127.0.0.1</ip></domain>"
      "</domainlist><builtiniplist><ip>127.0.0.1</ip></builtiniplist><clientip>127.0.0.1</clientip></dns>";
  explicit HttpServer(const Identity* identity = nullptr, const std::string& host = "127.0.0.1");
  ~HttpServer();
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> stopping_{false};
  int port_ = 0;
  std::thread thread_;
};

}  // namespace vantage::net::testing
