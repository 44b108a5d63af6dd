// Fake DNS servers for the DNS primitives' tests, real servers on 127.0.0.1
// (ephemeral ports), each run in its own thread. Test-only; never bind
// anything but loopback.
//
//  - FakeDnsServer (UDP) answers every query with a scripted list of replies,
//    the way a resolver, a censor's injector, or both racing would.
//  - FakeDohServer (HTTPS, OpenSSL) hands each POSTed body to a handler; it
//    serves a self-signed certificate it generates for a given subjectAltName.
//    (Written on OpenSSL directly: Debian's cpp-httplib is a compiled library,
//    and only OpenSSL is linked into the test.)
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vantage::net::testing {

// One response packet sent for a query.
struct FakeDnsReply {
  int rcode = 0;
  std::string cname;               // if set, a CNAME answer first; addresses then belong to it
  std::vector<std::string> ipv4;   // A answers
  std::vector<std::string> ipv6;   // AAAA answers
  uint32_t ttl = 300;              // DNS TTL of every answer
  bool wrong_id = false;           // reply with an id that is not the query's
  std::string raw;                 // if set, sent instead of a built response
  int ip_ttl = 64;                 // IP TTL of the packet (setsockopt IP_TTL)
  std::chrono::milliseconds delay{0};  // after the query arrived
};

// The response `reply` describes, to the DNS query `query` (which must hold a
// header and one question).
std::string make_dns_response(const std::string& query, const FakeDnsReply& reply);

class FakeDnsServer {
 public:
  // Each query gets `replies`, in order; an empty list means "stay silent".
  // Listens on 127.0.0.1, or on ::1 when `ipv6` (then ip_ttl sets the hop limit).
  explicit FakeDnsServer(std::vector<FakeDnsReply> replies, bool ipv6 = false);
  ~FakeDnsServer();
  FakeDnsServer(const FakeDnsServer&) = delete;
  FakeDnsServer& operator=(const FakeDnsServer&) = delete;

  std::string address() const;  // "127.0.0.1:port" or "[::1]:port"
  int queries_received() const { return queries_received_.load(); }
  // The next `n` queries get no reply at all (lost packets).
  void ignore_queries(int n) { ignore_ = n; }
  std::string last_query() const;

 private:
  void serve();

  std::vector<FakeDnsReply> replies_;
  bool ipv6_ = false;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> queries_received_{0};
  std::atomic<int> ignore_{0};
  mutable std::mutex mutex_;
  std::string last_query_;
  std::thread thread_;
};

struct FakeHttpResponse {
  int status = 200;
  std::string content_type = "application/dns-message";
  std::string body;
  std::chrono::milliseconds delay{0};  // before responding
};

class FakeDohServer {
 public:
  // Called with the request's body and Content-Type for every POST.
  using Handler = std::function<FakeHttpResponse(const std::string& body,
                                                 const std::string& content_type)>;

  // `subject_alt_name` in OpenSSL config syntax: "IP:127.0.0.1", "DNS:x.example".
  FakeDohServer(const std::string& subject_alt_name, Handler handler);
  ~FakeDohServer();
  FakeDohServer(const FakeDohServer&) = delete;
  FakeDohServer& operator=(const FakeDohServer&) = delete;

  std::string url() const;                         // https://127.0.0.1:port/dns-query
  const std::string& ca_bundle() const { return cert_path_; }  // the certificate, PEM

 private:
  void serve();
  void serve_connection(int fd);

  Handler handler_;
  void* ssl_ctx_ = nullptr;  // SSL_CTX*, kept opaque to keep OpenSSL out of the header
  std::string cert_path_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace vantage::net::testing
