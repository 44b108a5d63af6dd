// See loopback_targets.h.
#include "reports/control/tests/loopback_targets.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <stdexcept>

namespace vantage::control::testing {

namespace {

std::mutex user_agent_mutex;

}  // namespace

std::string loopback(int port) { return "127.0.0.1:" + std::to_string(port); }

ControlOptions loopback_only() {
  ControlOptions options;
  IpNetwork network;
  if (!parse_ip_network("127.0.0.0/8", network)) throw std::logic_error("127.0.0.0/8 does not parse");
  options.allowed_networks.push_back(network);
  options.system_store = false;
  options.ca_bundle = net::testing::test_pki().root_bundle_file;
  return options;
}

TargetServer::TargetServer(const net::testing::Identity* identity)
    : last_user_agent_(std::make_shared<std::string>()) {
  if (identity != nullptr) {
    server_ = std::make_unique<httplib::SSLServer>(identity->cert.get(), identity->key.get());
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  auto counted = [this](const httplib::Request& req) {
    ++requests_;
    std::lock_guard<std::mutex> lock(user_agent_mutex);
    *last_user_agent_ = req.get_header_value("User-Agent");
  };
  server_->Get("/page", [counted](const httplib::Request& req, httplib::Response& res) {
    counted(req);
    res.set_header("X-Test", "yes");
    res.set_header("Set-Cookie", "a=1");
    res.set_header("Set-Cookie", "b=2");
    res.set_content(kPageHtml, "text/html");
  });
  server_->Get("/latin1", [counted](const httplib::Request& req, httplib::Response& res) {
    counted(req);
    res.set_header("X-Latin1", "caf\xe9");
    res.set_content("<title>caf\xe9</title>", "text/html");
  });
  server_->Get("/big", [counted](const httplib::Request& req, httplib::Response& res) {
    counted(req);
    res.set_content(std::string(100000, 'v'), "text/plain");
  });
  server_->Get("/redirect", [counted](const httplib::Request& req, httplib::Response& res) {
    counted(req);
    res.set_redirect("/page");
  });
  server_->Post("/echo", [counted](const httplib::Request& req, httplib::Response& res) {
    counted(req);
    res.status = 201;
    res.set_content("posted:" + req.body, "text/plain");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("cannot bind the target server");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TargetServer::~TargetServer() {
  server_->stop();
  thread_.join();
}

std::string TargetServer::last_user_agent() const {
  std::lock_guard<std::mutex> lock(user_agent_mutex);
  return *last_user_agent_;
}

}  // namespace vantage::control::testing
