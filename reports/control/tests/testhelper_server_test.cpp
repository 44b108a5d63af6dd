// End-to-end specification of vantage-testhelper and of the probe's client
// (probe/control/control_client.h): the real server program on 127.0.0.1
// with an ephemeral port, asked by ask_control over HTTP, and the client
// against a TLS server, all on loopback.
#include <algorithm>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "probe/control/control_client.h"
#include "probe/net/tests/test_pki.h"
#include "reports/control/test_helper.h"
#include "reports/control/tests/isolated_network.h"
#include "reports/control/tests/loopback_targets.h"

extern char** environ;

namespace vantage::control {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::ClosedPort;
using testing::loopback;
using testing::TargetServer;

// vantage-testhelper as a child process; collects its stderr log lines.
class HelperProcess {
 public:
  explicit HelperProcess(std::vector<std::string> args) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    args.insert(args.begin(), VANTAGE_TESTHELPER_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, VANTAGE_TESTHELPER_PATH, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    read_fd_ = pipe_fds[0];
    reader_ = std::thread([this] { read_lines(); });
  }

  ~HelperProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
    if (read_fd_ >= 0) ::close(read_fd_);
  }

  // The port from the "listening" log line, or 0 if it never came.
  int wait_for_port(std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return port_ != 0 || closed_; });
    return port_;
  }

  // Sends `signal_number`, waits for the exit; returns the wait status.
  int stop(int signal_number) {
    ::kill(pid_, signal_number);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    reader_.join();
    return status;
  }

  std::vector<json> log() {
    std::lock_guard<std::mutex> lock(mutex_);
    return log_;
  }
  std::vector<std::string> raw_lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return raw_;
  }

 private:
  void read_lines() {
    std::string pending;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(read_fd_, buffer, sizeof buffer);
      if (n <= 0) break;
      pending.append(buffer, static_cast<size_t>(n));
      for (auto newline = pending.find('\n'); newline != std::string::npos; newline = pending.find('\n')) {
        const std::string line = pending.substr(0, newline);
        pending.erase(0, newline + 1);
        std::lock_guard<std::mutex> lock(mutex_);
        raw_.push_back(line);
        json parsed = json::parse(line, nullptr, false);
        if (!parsed.is_discarded() && parsed.value("event", "") == "listening") {
          const std::string address = parsed.value("address", "");
          port_ = std::stoi(address.substr(address.rfind(':') + 1));
        }
        log_.push_back(std::move(parsed));
        changed_.notify_all();
      }
    }
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  int read_fd_ = -1;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int port_ = 0;
  bool closed_ = false;
  std::vector<json> log_;
  std::vector<std::string> raw_;
};

std::vector<std::string> loopback_helper_args() {
  return {"--listen", "127.0.0.1:0", "--allow-net", "127.0.0.0/8", "--max-body", "4096"};
}

TEST(TestHelperServer, AnswersHealthAndControlRequestsAndSurvivesBadInput) {
  HelperProcess helper(loopback_helper_args());
  const int port = helper.wait_for_port();
  ASSERT_GT(port, 0) << "the helper never logged its address";
  const std::string base = "http://" + loopback(port);

  httplib::Client raw("127.0.0.1", port);
  raw.set_read_timeout(20, 0);
  auto health = raw.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body), json({{"status", "ok"}}));

  TargetServer target;
  ClosedPort closed;
  ControlQuery query;
  query.http_request = "http://" + loopback(target.port()) + "/page";
  query.http_request_headers = {{"User-Agent", {"ooniprobe-vantage-test"}}};
  query.tcp_connect = {loopback(target.port()), loopback(closed.port())};
  ControlAnswer answer = ask_control(base + "/", query, 20s);
  ASSERT_EQ(answer.failure, "") << answer.error;
  EXPECT_EQ(answer.http_status, 200);
  EXPECT_EQ(answer.answer["tcp_connect"][loopback(target.port())]["status"], true);
  EXPECT_EQ(answer.answer["tcp_connect"][loopback(closed.port())]["failure"], "connection_refused");
  EXPECT_EQ(answer.answer["http_request"]["status_code"], 200);
  EXPECT_EQ(answer.answer["http_request"]["title"], "Vantage control test");
  EXPECT_EQ(target.last_user_agent(), "vantage-testhelper");  // the client's is never forwarded

  // Garbage, wrong types, too big, wrong path: each refused, none fatal.
  auto garbage = raw.Post("/", "{\"http_request\": ", "application/json");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  EXPECT_TRUE(json::parse(garbage->body).contains("error"));

  auto bad_endpoint = raw.Post("/", R"({"http_request":"http://127.0.0.1/","tcp_connect":["localhost:80"]})",
                               "application/json");
  ASSERT_TRUE(bad_endpoint);
  EXPECT_EQ(bad_endpoint->status, 400);

  const std::string oversized = R"({"http_request":"http://127.0.0.1/","x":")" + std::string(8192, 'a') + "\"}";
  auto too_big = raw.Post("/", oversized, "application/json");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);

  auto not_found = raw.Get("/nope");
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->status, 404);
  EXPECT_TRUE(json::parse(not_found->body).contains("error"));

  // Through the client, a 400 is a failure with the server's reason.
  ControlQuery bad = query;
  bad.tcp_connect = {"not-an-endpoint"};
  const ControlAnswer refused = ask_control(base + "/", bad, 20s);
  EXPECT_EQ(refused.failure, "http_unexpected_status_code");
  EXPECT_EQ(refused.http_status, 400);
  EXPECT_NE(refused.error.find("ip:port"), std::string::npos) << refused.error;

  // Still serving after all that.
  answer = ask_control(base + "/", query, 20s);
  EXPECT_EQ(answer.failure, "");
  EXPECT_EQ(answer.answer["http_request"]["status_code"], 200);

  const int status = helper.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // Every stderr line is one JSON object; one "request" line per request.
  std::vector<int> statuses;
  for (const auto& line : helper.raw_lines()) {
    const json parsed = json::parse(line, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << line;
    EXPECT_TRUE(parsed.contains("ts")) << line;
    if (parsed["event"] == "request") statuses.push_back(parsed["status"].get<int>());
  }
  // The server logs when a request ends, and the 413 (rejected while its
  // body is still arriving) can end after the next request: compare as sets.
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 400, 400, 400, 404, 413}));
  const auto log = helper.log();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back()["event"], "stopped");
}

TEST(TestHelperServer, SigintStopsGracefullyEvenWhileARequestIsInFlight) {
  HelperProcess helper(loopback_helper_args());
  const int port = helper.wait_for_port();
  ASSERT_GT(port, 0);
  // A listener that never answers keeps the helper's HTTP step busy.
  testing::ListeningPort silent;
  ControlQuery query;
  query.http_request = "http://" + loopback(silent.port()) + "/";
  ControlAnswer answer;
  std::thread in_flight([&] { answer = ask_control("http://" + loopback(port) + "/", query, 30s); });
  std::this_thread::sleep_for(500ms);
  const auto stopping = std::chrono::steady_clock::now();
  const int status = helper.stop(SIGINT);
  in_flight.join();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The request in flight was finished, not cut: its answer arrived.
  EXPECT_EQ(answer.failure, "") << answer.failure;
  EXPECT_EQ(answer.answer["http_request"]["failure"], "generic_timeout_error");
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 16s);
}

TEST(TestHelperServer, RejectsBadFlags) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--allow-net", "not-a-cidr"}, {"--listen", "nowhere"}, {"--max-body", "0"}}) {
    HelperProcess helper(args);
    // It must exit by itself (its stderr closes), non-zero, with a message.
    const int port = helper.wait_for_port(10s);
    EXPECT_EQ(port, 0) << args[0] << ": started listening despite a bad flag";
    const int status = helper.stop(port == 0 ? 0 : SIGKILL);  // signal 0: just wait
    ASSERT_TRUE(WIFEXITED(status)) << args[0];
    EXPECT_NE(WEXITSTATUS(status), 0) << args[0];
    EXPECT_FALSE(helper.raw_lines().empty()) << args[0];
  }
}

// ------------------------------------------------------- client over TLS

// The control handler behind a TLS server with `identity`.
class TlsControlServer {
 public:
  explicit TlsControlServer(const net::testing::Identity& identity)
      : server_(identity.cert.get(), identity.key.get()) {
    options_ = ControlOptions{};
    IpNetwork network;
    parse_ip_network("127.0.0.0/8", network);
    options_.allowed_networks.push_back(network);
    server_.Post("/", [this](const httplib::Request& req, httplib::Response& res) {
      const auto reply = handle_control_body(req.body, options_);
      res.status = reply.http_status;
      res.set_content(reply.body.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~TlsControlServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::SSLServer server_;
  ControlOptions options_;
  int port_ = 0;
  std::thread thread_;
};

TEST(ControlClient, VerifiesTheControlsCertificate) {
  const auto& pki = net::testing::test_pki();
  TlsControlServer good(pki.good_leaf);  // IP SAN 127.0.0.1
  TlsControlServer untrusted(pki.untrusted_leaf);
  ClosedPort closed;
  ControlQuery query;
  query.http_request = "http://" + loopback(closed.port()) + "/";
  query.tcp_connect = {loopback(closed.port())};

  query.ca_bundle = pki.root_bundle_file;
  const ControlAnswer ok = ask_control("https://" + loopback(good.port()) + "/", query, 10s);
  ASSERT_EQ(ok.failure, "");
  EXPECT_EQ(ok.answer["tcp_connect"][loopback(closed.port())]["failure"], "connection_refused");

  const ControlAnswer bad = ask_control("https://" + loopback(untrusted.port()) + "/", query, 10s);
  EXPECT_EQ(bad.failure, "ssl_unknown_authority");
  EXPECT_TRUE(bad.answer.is_null());

  query.ca_bundle.clear();  // system store: does not know the test root
  const ControlAnswer unknown = ask_control("https://" + loopback(good.port()) + "/", query, 10s);
  EXPECT_EQ(unknown.failure, "ssl_unknown_authority");
}

TEST(ControlClient, NetworkFailuresAreFailureStrings) {
  ClosedPort closed;
  ControlQuery query;
  query.http_request = "http://127.0.0.1/";
  const ControlAnswer refused = ask_control("http://" + loopback(closed.port()) + "/", query, 5s);
  EXPECT_EQ(refused.failure, "connection_refused");
  EXPECT_EQ(refused.http_status, 0);

  testing::ListeningPort silent;  // accepts nothing, answers nothing
  const auto started = std::chrono::steady_clock::now();
  const ControlAnswer slow = ask_control("http://" + loopback(silent.port()) + "/", query, 300ms);
  EXPECT_EQ(slow.failure, "generic_timeout_error");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(ControlClient, NonJsonAnswerIsJsonParseError) {
  httplib::Server html;
  html.Post("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("<html>", "text/html"); });
  const int port = html.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { html.listen_after_bind(); });
  while (!html.is_running()) std::this_thread::sleep_for(1ms);
  ControlQuery query;
  query.http_request = "http://127.0.0.1/";
  const ControlAnswer answer = ask_control("http://" + loopback(port) + "/", query, 5s);
  EXPECT_EQ(answer.failure, "json_parse_error");
  EXPECT_EQ(answer.http_status, 200);
  html.stop();
  serving.join();
}

TEST(ControlClient, RequestBodyCarriesExtensions) {
  ControlQuery query;
  query.http_request = "https://a.example/x";
  query.http_request_headers = {{"Accept", {"*/*"}}};
  query.tcp_connect = {"192.0.2.1:443"};
  query.http_method = "POST";
  query.http_body = "a=1";
  const json body = format::to_json(query);
  EXPECT_EQ(body, json::parse(R"({"http_request":"https://a.example/x",
      "http_request_headers":{"Accept":["*/*"]},"tcp_connect":["192.0.2.1:443"],
      "x_http_method":"POST","x_http_body":"a=1"})"));
}

}  // namespace
}  // namespace vantage::control
