// FakeDnsServer: see fake_dns_server.h. Responses are built by hand (not with
// the code under test) so a parser bug cannot hide behind a matching
// builder bug.
#include "probe/net/tests/fake_dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <sys/time.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace vantage::net::testing {

namespace {

void put_u16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

void put_u32(std::string& out, uint32_t value) {
  put_u16(out, static_cast<uint16_t>(value >> 16));
  put_u16(out, static_cast<uint16_t>(value & 0xffff));
}

std::string encode_name(const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<char>(dot - start));
    out.append(name, start, dot - start);
    start = dot + 1;
  }
  out.push_back('\0');
  return out;
}

}  // namespace

std::string make_dns_response(const std::string& query, const FakeDnsReply& reply) {
  if (query.size() < 12) throw std::invalid_argument("query too short");
  // The question: from offset 12 up to and including QTYPE/QCLASS.
  size_t end = 12;
  while (end < query.size() && query[end] != '\0') end += 1 + static_cast<uint8_t>(query[end]);
  end += 1 + 4;
  if (end > query.size()) throw std::invalid_argument("query has no complete question");
  const std::string question = query.substr(12, end - 12);

  uint16_t id = static_cast<uint16_t>((static_cast<uint8_t>(query[0]) << 8) |
                                      static_cast<uint8_t>(query[1]));
  if (reply.wrong_id) id ^= 0x5a5a;
  const int answer_count = (reply.cname.empty() ? 0 : 1) + static_cast<int>(reply.ipv4.size()) +
                           static_cast<int>(reply.ipv6.size());

  std::string out;
  put_u16(out, id);
  put_u16(out, static_cast<uint16_t>(0x8180 | (reply.rcode & 0xf)));  // QR RD RA
  put_u16(out, 1);
  put_u16(out, static_cast<uint16_t>(answer_count));
  put_u16(out, 0);
  put_u16(out, 0);
  out += question;

  // Owner of the address records: the question name (pointer to offset 12),
  // or the CNAME's target, which follows the CNAME record's fixed fields.
  std::string address_owner = std::string("\xc0\x0c", 2);
  if (!reply.cname.empty()) {
    const std::string target = encode_name(reply.cname);
    out += address_owner;
    put_u16(out, 5);
    put_u16(out, 1);
    put_u32(out, reply.ttl);
    put_u16(out, static_cast<uint16_t>(target.size()));
    const uint16_t target_offset = static_cast<uint16_t>(out.size());
    out += target;
    address_owner.clear();
    put_u16(address_owner, static_cast<uint16_t>(0xc000 | target_offset));
  }
  for (const auto& text : reply.ipv4) {
    in_addr addr{};
    if (inet_pton(AF_INET, text.c_str(), &addr) != 1) throw std::invalid_argument(text);
    out += address_owner;
    put_u16(out, 1);
    put_u16(out, 1);
    put_u32(out, reply.ttl);
    put_u16(out, 4);
    out.append(reinterpret_cast<const char*>(&addr), 4);
  }
  for (const auto& text : reply.ipv6) {
    in6_addr addr{};
    if (inet_pton(AF_INET6, text.c_str(), &addr) != 1) throw std::invalid_argument(text);
    out += address_owner;
    put_u16(out, 28);
    put_u16(out, 1);
    put_u32(out, reply.ttl);
    put_u16(out, 16);
    out.append(reinterpret_cast<const char*>(&addr), 16);
  }
  return out;
}

FakeDnsServer::FakeDnsServer(std::vector<FakeDnsReply> replies, bool ipv6)
    : replies_(std::move(replies)), ipv6_(ipv6) {
  fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket");
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (ipv6) {
    auto* addr = reinterpret_cast<sockaddr_in6*>(&storage);
    addr->sin6_family = AF_INET6;
    addr->sin6_addr = in6addr_loopback;
    length = sizeof(*addr);
  } else {
    auto* addr = reinterpret_cast<sockaddr_in*>(&storage);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof(*addr);
  }
  auto* generic = reinterpret_cast<sockaddr*>(&storage);
  if (::bind(fd_, generic, length) != 0 || ::getsockname(fd_, generic, &length) != 0) {
    ::close(fd_);
    throw std::runtime_error("bind");
  }
  port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeDnsServer::~FakeDnsServer() {
  stopping_ = true;
  thread_.join();
  ::close(fd_);
}

std::string FakeDnsServer::address() const {
  return (ipv6_ ? "[::1]:" : "127.0.0.1:") + std::to_string(port_);
}

std::string FakeDnsServer::last_query() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_query_;
}

void FakeDnsServer::serve() {
  char buffer[4096];
  while (!stopping_) {
    pollfd pfd = {fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 20) <= 0) continue;
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof(peer);
    const ssize_t n = ::recvfrom(fd_, buffer, sizeof(buffer), 0,
                                 reinterpret_cast<sockaddr*>(&peer), &peer_length);
    if (n <= 0) continue;
    const auto arrived = std::chrono::steady_clock::now();
    const std::string query(buffer, static_cast<size_t>(n));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_query_ = query;
    }
    queries_received_++;
    if (ignore_ > 0) {
      --ignore_;
      continue;
    }
    for (const auto& reply : replies_) {
      std::this_thread::sleep_until(arrived + reply.delay);
      // The same socket (so the same source port, as an injector spoofing the
      // resolver would use), with its IP TTL changed for this packet.
      const int ip_ttl = reply.ip_ttl;
      if (ipv6_) {
        ::setsockopt(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ip_ttl, sizeof(ip_ttl));
      } else {
        ::setsockopt(fd_, IPPROTO_IP, IP_TTL, &ip_ttl, sizeof(ip_ttl));
      }
      const std::string packet = reply.raw.empty() ? make_dns_response(query, reply) : reply.raw;
      ::sendto(fd_, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&peer),
               peer_length);
    }
  }
}

// ------------------------------------------------------------ FakeDohServer

namespace {

// A self-signed P-256 certificate for `subject_alt_name`, marked CA:TRUE so
// it can serve as its own trust anchor in a CA bundle.
void make_certificate(const std::string& subject_alt_name, X509** cert_out, EVP_PKEY** key_out) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) throw std::runtime_error("openssl allocation");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("vantage test doh"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  const std::pair<int, std::string> extensions[] = {
      {NID_subject_alt_name, subject_alt_name}, {NID_basic_constraints, "critical,CA:TRUE"}};
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (ext == nullptr) throw std::invalid_argument("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert, key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign");
  *cert_out = cert;
  *key_out = key;
}

std::string header_value(const std::string& head, const char* name) {
  const std::string wanted = std::string("\r\n") + name + ":";
  for (size_t pos = head.find("\r\n"); pos != std::string::npos; pos = head.find("\r\n", pos + 2)) {
    if (strncasecmp(head.c_str() + pos, wanted.c_str(), wanted.size()) != 0) continue;
    size_t start = pos + wanted.size();
    while (start < head.size() && head[start] == ' ') ++start;
    return head.substr(start, head.find("\r\n", start) - start);
  }
  return "";
}

}  // namespace

FakeDohServer::FakeDohServer(const std::string& subject_alt_name, Handler handler)
    : handler_(std::move(handler)) {
  // A client that gives up (timeout tests) makes our late write hit a closed
  // socket; that must fail the write, not kill the test program.
  std::signal(SIGPIPE, SIG_IGN);

  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  make_certificate(subject_alt_name, &cert, &key);
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr || SSL_CTX_use_certificate(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key) != 1) {
    throw std::runtime_error("SSL_CTX setup");
  }
  ssl_ctx_ = ctx;

  char path[] = "/tmp/vantage-doh-ca-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  FILE* file = ::fdopen(fd, "w");
  PEM_write_X509(file, cert);
  std::fclose(file);
  cert_path_ = path;
  X509_free(cert);
  EVP_PKEY_free(key);

  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 8) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    throw std::runtime_error("listen");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeDohServer::~FakeDohServer() {
  stopping_ = true;
  thread_.join();
  ::close(listen_fd_);
  SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
  std::remove(cert_path_.c_str());
}

std::string FakeDohServer::url() const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/dns-query";
}

void FakeDohServer::serve() {
  while (!stopping_) {
    pollfd pfd = {listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // One connection at a time is all the tests need; a bounded read wait
    // keeps a client that never speaks from wedging the server.
    timeval limit = {2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    serve_connection(fd);
    ::close(fd);
  }
}

void FakeDohServer::serve_connection(int fd) {
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) != 1) {  // e.g. the client rejected our certificate
    ERR_clear_error();
    SSL_free(ssl);
    return;
  }
  std::string request;
  char buffer[4096];
  size_t head_end = std::string::npos;
  size_t body_length = 0;
  while (true) {
    if (head_end == std::string::npos) {
      head_end = request.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        body_length = std::strtoul(header_value(request.substr(0, head_end + 2), "Content-Length").c_str(),
                                   nullptr, 10);
      }
    }
    if (head_end != std::string::npos && request.size() >= head_end + 4 + body_length) break;
    const int n = SSL_read(ssl, buffer, sizeof(buffer));
    if (n <= 0) {
      ERR_clear_error();
      SSL_free(ssl);
      return;
    }
    request.append(buffer, static_cast<size_t>(n));
  }
  const std::string head = request.substr(0, head_end + 2);
  FakeHttpResponse response;
  if (head.rfind("POST ", 0) != 0) {
    response.status = 405;
    response.content_type = "text/plain";
  } else {
    response = handler_(request.substr(head_end + 4, body_length), header_value(head, "Content-Type"));
  }
  std::this_thread::sleep_for(response.delay);
  const std::string out = "HTTP/1.1 " + std::to_string(response.status) +
                          (response.status == 200 ? " OK" : " Error") +
                          "\r\nContent-Type: " + response.content_type +
                          "\r\nContent-Length: " + std::to_string(response.body.size()) +
                          "\r\nConnection: close\r\n\r\n" + response.body;
  if (SSL_write(ssl, out.data(), static_cast<int>(out.size())) > 0) SSL_shutdown(ssl);
  ERR_clear_error();
  SSL_free(ssl);
}

}  // namespace vantage::net::testing
