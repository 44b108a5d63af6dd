// The HTTP server of Vantage's Internet-facing programs (vantage-collector,
// vantage-testhelper), on libmicrohttpd, with every input bounded before it
// is buffered. Handlers are plain functions over Request -> Response; the
// layer does the rest:
//
//   - a deadline for the whole request head (request line + headers), and one
//     for the whole request (head + body), from the first byte: a client
//     sending a byte every few seconds is cut off (idle timeouts alone never
//     fire on it);
//   - the head is read into a fixed per-connection buffer (memory_limit):
//     an overlong request line or header is refused (414/431) before more is
//     read, and the connection closed;
//   - a body limit on every request, registered route or not: by
//     Content-Length before reading (413 at once), and while reading (chunked
//     bodies), on the wire and after gzip decompression; a body that is not
//     fully read is answered with "Connection: close" and never parsed as a
//     next request;
//   - Content-Encoding other than gzip/identity and multipart bodies: 415;
//   - connections are served by a fixed pool of threads polling with epoll
//     (no thread per connection), at most max_connections in all and
//     per_ip_connections per client address; handlers run on a separate
//     pool of workers, so a slow handler never stalls other connections;
//   - one JSON log line per request (never the client's address).
//
// Routes: route("POST", "/report/*/close", handler). "*" matches one
// non-empty path segment; a trailing "**" matches the non-empty rest of the
// path, slashes included; the matches are in Request::params, in order. A GET
// route also answers HEAD. Unknown path: 404; known path, other method: 405.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vantage::server {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query, percent-decoded by MHD
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::vector<std::string> params;  // what each "*" of the route matched
  std::string body;                 // decompressed, at most the route's limit
  std::string peer;                 // the client's address ("127.0.0.1", "::1")

  // The first value, or "" (names of headers are case-insensitive).
  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const;
  std::string param(const std::string& name) const;  // query parameter
  bool has_param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A large answer in pieces: called until it returns false, each call
  // appending the next piece to `chunk` (sent chunked, `body` ignored).
  // Runs on a polling thread: keep each call short.
  std::function<bool(std::string& chunk)> stream;
  // What the log line says went wrong (defaults to the JSON body's "error").
  std::string log_error;
};

using Handler = std::function<Response(const Request&)>;

// A JSON answer {"error": message} (or any JSON text as body).
Response json_response(int status, std::string json_body);
Response error_response(int status, const std::string& message);

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port
  std::size_t max_body = 1 << 20;   // default per-route limit, wire and decompressed
  std::size_t memory_limit = 32 * 1024;  // per connection: the request head must fit
  std::chrono::seconds head_timeout{10};     // request line + headers, from the first byte
  std::chrono::seconds request_timeout{120};  // head + body
  std::chrono::seconds idle_timeout{15};     // no bytes at all (also keep-alive idle)
  unsigned threads = 2;                      // polling threads: I/O only
  unsigned workers = 8;                      // handler threads (requests beyond wait in order)
  unsigned max_connections = 1000;
  unsigned per_ip_connections = 32;  // 0 = unlimited (behind a proxy, everyone is the proxy)
  std::string tls_cert_pem, tls_key_pem;     // both set = HTTPS (GnuTLS, inside MHD)
  std::string not_found_hint = "see --help for the endpoints";
  std::string server_name = "server";  // for log lines
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler. body_limit 0 = options.max_body.
  void route(const std::string& method, const std::string& pattern, Handler handler, std::size_t body_limit = 0);
  // Runs after the head and before the body is read; an answer stops the
  // request there (for rate limits). The Request has no body yet.
  void set_filter(std::function<std::optional<Response>(const Request&)> filter);

  // Binds and starts serving in the background. False with `error` set.
  bool start(std::string& error);
  int port() const;
  // Stops accepting, waits up to `grace` for requests in flight to be
  // answered, then closes every connection.
  void stop(std::chrono::seconds grace = std::chrono::seconds(20));

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Whether `pattern` ("/report/*") matches `path`; the "*" matches in params.
bool match_route(const std::string& pattern, const std::string& path, std::vector<std::string>& params);

}  // namespace vantage::server
