// Test support: real targets on 127.0.0.1 (ephemeral ports) for the control
// tests — a listening port, a refusing port, and an HTTP(S) server with a
// titled page. They only ever listen on loopback and never connect anywhere.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "probe/net/tests/loopback_servers.h"
#include "probe/net/tests/test_pki.h"
#include "reports/control/test_helper.h"

namespace httplib {
class Server;
}

namespace vantage::control::testing {

// Listens (the kernel completes handshakes; nobody accepts).
// The probe's own loopback test servers (probe/net/tests): a port that
// accepts and holds connections, and one that refuses them.
class ListeningPort : public net::testing::RawTcpServer {
 public:
  ListeningPort() : RawTcpServer(Behaviour::kHold) {}
};
using net::testing::ClosedPort;

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

// Helper options for tests: only 127.0.0.0/8 may be contacted (as the lab
// passes --allow-net), trusting the test PKI's root and not the system's.
ControlOptions loopback_only();

}  // namespace vantage::control::testing
