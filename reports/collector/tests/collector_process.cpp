// Test helpers. See collector_process.h.
#include "reports/collector/tests/collector_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

namespace vantage::collector::testing {

namespace {

int listen_loopback(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(fd, 64);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// Waits for a connection, checking `stop` every 50 ms. -1 when stopping.
int accept_until(int listen_fd, const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd p{listen_fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) return accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  }
  return -1;
}

// Reads one HTTP request (headers and Content-Length body). `max_body`
// bytes of body at most. False on EOF before the headers ended.
bool read_request(int fd, std::string& req, std::size_t max_body = SIZE_MAX) {
  char buf[8192];
  std::size_t header_end = std::string::npos;
  std::size_t want = SIZE_MAX;
  while (true) {
    if (header_end == std::string::npos) {
      header_end = req.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::smatch m;
        std::string headers = req.substr(0, header_end);
        std::size_t length = 0;
        if (std::regex_search(headers, m, std::regex("[Cc]ontent-[Ll]ength: *([0-9]+)"))) length = std::stoul(m[1]);
        want = header_end + 4 + std::min(length, max_body);
      }
    }
    if (req.size() >= want) return true;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) return header_end != std::string::npos;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return header_end != std::string::npos;
    req.append(buf, static_cast<std::size_t>(n));
  }
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::string collector_binary() { return VANTAGE_COLLECTOR_PATH; }

CollectorProcess::CollectorProcess(std::string store, std::vector<std::string> extra)
    : store_(std::move(store)), extra_(std::move(extra)) {
  log_path_ = "/tmp/collector_test_" + std::to_string(getpid()) + "_" + std::to_string(std::rand()) + ".log";
}

CollectorProcess::~CollectorProcess() {
  if (pid_ > 0) kill9();
  unlink(log_path_.c_str());
}

bool CollectorProcess::start(int port) {
  if (port == 0) port = port_;
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  std::vector<std::string> args = {collector_binary(), "--listen", listen, "--store", store_};
  args.insert(args.end(), extra_.begin(), extra_.end());
  const auto log_start = log().size();
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  static const std::regex listening(R"re("address":"127\.0\.0\.1:([0-9]+)")re");
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = log().substr(std::min(log_start, log().size()));
    std::smatch m;
    if (std::regex_search(text, m, listening)) {
      port_ = std::stoi(m[1]);
      return true;
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    usleep(20000);
  }
  return false;
}

void CollectorProcess::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int CollectorProcess::terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string CollectorProcess::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string CollectorProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

MisbehavingServer::MisbehavingServer(Misbehavior how) : how_(how) {
  listen_fd_ = listen_loopback(port_);
  acceptor_ = std::thread([this] { serve(); });
}

MisbehavingServer::~MisbehavingServer() {
  stop_ = true;
  acceptor_.join();
  for (auto& w : workers_) w.join();
  close(listen_fd_);
}

void MisbehavingServer::serve() {
  while (true) {
    int fd = accept_until(listen_fd_, stop_);
    if (fd < 0) return;
    ++connections_;
    workers_.emplace_back([this, fd] {
      std::string req;
      switch (how_) {
        case Misbehavior::status_500:
          if (read_request(fd, req))
            write_all(fd, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                          "Content-Length: 29\r\nConnection: close\r\n\r\n{\"error\":\"injected failure\"}\n");
          break;
        case Misbehavior::hang:
          read_request(fd, req);
          while (!stop_) usleep(20000);
          break;
        case Misbehavior::close_mid_body:
          read_request(fd, req, 5);  // headers and 5 bytes of the body
          break;
        case Misbehavior::truncated_reply:
          if (read_request(fd, req))
            write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"report_");
          break;
      }
      close(fd);
    });
  }
}

AckDroppingProxy::AckDroppingProxy(int target_port, int drop_replies) : target_port_(target_port), to_drop_(drop_replies) {
  listen_fd_ = listen_loopback(port_);
  acceptor_ = std::thread([this] { serve(); });
}

AckDroppingProxy::~AckDroppingProxy() {
  stop_ = true;
  acceptor_.join();
  close(listen_fd_);
}

void AckDroppingProxy::serve() {
  while (true) {
    int fd = accept_until(listen_fd_, stop_);
    if (fd < 0) return;
    // One request per connection, served inline: the probe uploads one at a time.
    std::string req;
    while (read_request(fd, req)) {
      int up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(static_cast<uint16_t>(target_port_));
      std::string reply;
      if (connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        write_all(up, req);
        read_request(up, reply);  // an HTTP response parses the same way
      }
      close(up);
      const bool submission = req.rfind("POST /report/", 0) == 0 && req.find("/close ") == std::string::npos;
      if (submission && to_drop_.fetch_sub(1) > 0) {
        ++dropped_;
        break;  // the collector stored it; the probe never hears so
      }
      write_all(fd, reply);
      req.clear();
    }
    close(fd);
  }
}

}  // namespace vantage::collector::testing
