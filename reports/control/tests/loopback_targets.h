// Test support: real targets on 127.0.0.1 (ephemeral ports) for the control
// tests — a listening port, a refusing port, and an HTTP(S) server with a
// titled page. They only ever listen on loopback and never connect anywhere.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "probe/net/tests/test_pki.h"

namespace httplib {
class Server;
}

namespace vantage::control::testing {

// Listens (the kernel completes handshakes; nobody accepts).
class ListeningPort {
 public:
  ListeningPort();
  ~ListeningPort();
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Bound but not listening: connects are refused, and the port stays ours.
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// cpp-httplib server, plain or TLS with `identity`. Routes:
//   GET  /page     200, <title>Vantage control test</title>, X-Test: yes,
//                  Set-Cookie twice (a=1, then b=2)
//   GET  /big      200, 100000 bytes, no title
//   GET  /redirect 302 to /page
//   GET  /latin1   200, title and header X-Latin1 "caf\xe9" (not UTF-8)
//   POST /echo     201 "posted:<body>"
//   anything else  404
inline constexpr const char* kPageHtml =
    "<html><head><TITLE>Vantage control test</TITLE></head><body>hi</body></html>";

class TargetServer {
 public:
  explicit TargetServer(const net::testing::Identity* identity = nullptr);
  ~TargetServer();
  int port() const { return port_; }
  int requests() const { return requests_.load(); }
  std::string last_user_agent() const;

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::shared_ptr<std::string> last_user_agent_;
  std::thread thread_;
};

// "127.0.0.1:<port>"
std::string loopback(int port);

}  // namespace vantage::control::testing
