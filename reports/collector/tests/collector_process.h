// Test helpers: a real vantage-collector process on 127.0.0.1 (started,
// stopped gracefully or with SIGKILL, restarted on the same store), and a
// tiny misbehaving HTTP server for failure injection. Loopback only.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace vantage::collector::testing {

class CollectorProcess {
 public:
  // `store` is a store URL; `extra` are more flags. Starts and waits until
  // it listens (port 0 = any free port, kept across restart()).
  CollectorProcess(std::string store, std::vector<std::string> extra = {});
  ~CollectorProcess();
  bool start(int port = 0);
  void kill9();
  int terminate();  // SIGTERM; returns the exit status (or -1)
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const;
  std::string log() const;  // its stderr so far

 private:
  std::string store_;
  std::vector<std::string> extra_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// What the misbehaving server does with each connection.
enum class Misbehavior {
  status_500,       // reads the request, answers 500
  hang,             // reads the request, never answers (until stopped)
  close_mid_body,   // reads the headers and part of the body, then closes
  truncated_reply,  // answers 200 with Content-Length 100 and sends 10 bytes
};

class MisbehavingServer {
 public:
  explicit MisbehavingServer(Misbehavior how);
  ~MisbehavingServer();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }

 private:
  void serve();
  Misbehavior how_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// Forwards requests to `target_port` but, for the first `drop_replies`
// submissions (POST /report/{id}), closes the client's connection instead of
// returning the collector's answer: the collector stored the measurement,
// the probe never heard so. One request per connection.
class AckDroppingProxy {
 public:
  AckDroppingProxy(int target_port, int drop_replies);
  ~AckDroppingProxy();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int dropped() const { return dropped_.load(); }

 private:
  void serve();
  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> to_drop_;
  std::atomic<int> dropped_{0};
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
};

std::string collector_binary();

}  // namespace vantage::collector::testing
