// The bounded HTTP server layer on libmicrohttpd. See http_server.h.
//
// How the limits map onto MHD: the polling threads (MHD_OPTION_THREAD_POOL_SIZE,
// epoll) hold every connection, idle or not, and run the handlers; the head
// must fit MHD's per-connection memory pool (MHD_OPTION_CONNECTION_MEMORY_LIMIT:
// MHD answers 414/431 itself); MHD_OPTION_CONNECTION_TIMEOUT is an idle
// timeout. MHD has no deadline for a whole head or request (a byte every few
// seconds keeps its idle timer fresh), so a watchdog thread here shuts down
// the socket of a connection past its deadline; MHD then sees the peer gone
// and cleans up in its own thread. The watchdog only touches sockets still
// registered (NOTIFY_CONNECTION STARTED..CLOSED, under one mutex), so it never
// hits a reused descriptor.
//
// Handlers never run on the polling threads: a polling thread serves many
// connections, and a handler that blocks (the test helper measures for
// seconds, the collector fsyncs) would stall every one of them, so that a
// connection accepted behind it misses its head deadline. Once a request's
// body is in, its connection is suspended (MHD_suspend_connection) and the
// request goes to a fixed pool of worker threads; the worker runs the
// handler, keeps the Response in the Exchange and resumes the connection,
// and MHD calls on_access again, which queues the answer. Requests wait in a
// FIFO bounded by the connection cap (one request per connection at a time);
// one that waited past the request deadline is answered 503 unrun. Suspended
// connections must all be resumed before MHD_stop_daemon: stop() joins the
// workers first, and no request is suspended once stopping has begun.
#include "reports/server/http_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_set>

#include "reports/server/http_status.h"
#include "reports/server/json_log.h"

namespace vantage::server {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::string* find_value(const std::vector<std::pair<std::string, std::string>>& kv, const std::string& key) {
  for (const auto& [k, v] : kv)
    if (k == key) return &v;
  return nullptr;
}

// What a log line may carry of a client-chosen string.
std::string log_prefix(const std::string& s, std::size_t max = 200) {
  return s.size() <= max ? s : s.substr(0, max) + "...";
}

}  // namespace

std::string Request::header(const std::string& name) const {
  const std::string* v = find_value(headers, lower(name));
  return v ? *v : "";
}
bool Request::has_header(const std::string& name) const { return find_value(headers, lower(name)) != nullptr; }
std::string Request::param(const std::string& name) const {
  const std::string* v = find_value(query, name);
  return v ? *v : "";
}
bool Request::has_param(const std::string& name) const { return find_value(query, name) != nullptr; }

Response json_response(int status, std::string json_body) {
  Response r;
  r.status = status;
  r.body = std::move(json_body);
  return r;
}

Response error_response(int status, const std::string& message) {
  return json_response(status, json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

bool match_route(const std::string& pattern, const std::string& path, std::vector<std::string>& params) {
  params.clear();
  std::size_t p = 0, q = 0;
  while (p < pattern.size() && q < path.size()) {
    if (pattern.compare(p, 2, "**") == 0 && p + 2 == pattern.size()) {
      // A trailing "**": the rest of the path, one segment or more.
      params.push_back(path.substr(q));
      return true;
    }
    if (pattern[p] == '*') {
      const std::size_t end = path.find('/', q);
      const std::size_t stop = end == std::string::npos ? path.size() : end;
      if (stop == q) return false;  // an empty segment matches no "*"
      params.push_back(path.substr(q, stop - q));
      q = stop;
      ++p;
    } else if (pattern[p] == path[q]) {
      ++p, ++q;
    } else {
      return false;
    }
  }
  return p == pattern.size() && q == path.size();
}

namespace {

struct Route {
  std::string method, pattern;
  Handler handler;
  std::size_t body_limit;
};

// One connection (MHD's socket context), seen by the watchdog.
struct Connection {
  int fd = -1;
  std::atomic<Clock::rep> began{0};  // when the current request's first byte could arrive
  std::atomic<int> phase{0};         // 0 reading the head, 1 reading the body, 2 answering
  bool cut = false;                  // the watchdog shut it down (under the registry mutex)
};

// One request (MHD's con_cls).
struct Exchange {
  Request request;
  Clock::time_point start = Clock::now();
  const Route* route = nullptr;
  std::size_t limit = 0;
  std::size_t wire_bytes = 0;
  bool too_large = false;
  bool gzip = false, gzip_started = false, gzip_done = false, gzip_bad = false;
  z_stream zs{};
  bool answered = false;
  int status = 0;
  std::size_t response_bytes = 0;
  std::string error;  // for the log line
  std::string content_encoding;
  bool dispatched = false;          // handed to the workers (connection suspended)
  std::atomic<bool> ready{false};   // the worker has put its answer in `result`
  Response result;
  ~Exchange() {
    if (gzip_started) inflateEnd(&zs);
  }
};

struct Stream {
  std::function<bool(std::string&)> next;
  std::string pending;
  std::size_t offset = 0;
  bool done = false;
  std::size_t* sent;  // Exchange::response_bytes (the exchange outlives the response)
};

ssize_t stream_read(void* cls, uint64_t, char* buf, std::size_t max) {
  auto* s = static_cast<Stream*>(cls);
  while (s->offset >= s->pending.size()) {
    if (s->done) return MHD_CONTENT_READER_END_OF_STREAM;
    s->pending.clear();
    s->offset = 0;
    try {
      if (!s->next(s->pending)) s->done = true;
    } catch (...) {
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
  const std::size_t n = std::min(max, s->pending.size() - s->offset);
  std::memcpy(buf, s->pending.data() + s->offset, n);
  s->offset += n;
  *s->sent += n;
  return static_cast<ssize_t>(n);
}

void stream_free(void* cls) { delete static_cast<Stream*>(cls); }

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  std::vector<Route> routes;
  std::function<std::optional<Response>(const Request&)> filter;
  MHD_Daemon* daemon = nullptr;
  int port = 0;
  std::atomic<int> active{0};  // requests between head and completion

  std::mutex registry_mutex;
  std::unordered_set<Connection*> registry;
  std::mutex watchdog_mutex;
  std::condition_variable watchdog_wake;
  bool watchdog_stop = false;
  std::thread watchdog;

  // Requests whose body is in, waiting for a worker.
  struct Job {
    MHD_Connection* connection;
    Exchange* exchange;
    Clock::time_point queued;
  };
  std::mutex jobs_mutex;
  std::condition_variable jobs_wake;
  std::deque<Job> jobs;
  bool jobs_stop = false;  // under jobs_mutex: no more suspending
  std::atomic<int> dispatched_open{0};  // dispatched requests not yet completed
  std::vector<std::thread> workers;

  static Clock::rep now_rep() { return Clock::now().time_since_epoch().count(); }

  void watch() {
    std::unique_lock lock(watchdog_mutex);
    while (!watchdog_stop) {
      watchdog_wake.wait_for(lock, std::chrono::milliseconds(250));
      const auto now = Clock::now();
      std::lock_guard reg(registry_mutex);
      for (Connection* c : registry) {
        if (c->cut) continue;
        const auto began = Clock::time_point(Clock::duration(c->began.load()));
        const int phase = c->phase.load();
        const bool late = (phase == 0 && now - began > options.head_timeout) ||
                          (phase == 1 && now - began > options.request_timeout);
        if (late) {
          ::shutdown(c->fd, SHUT_RDWR);
          c->cut = true;
        }
      }
    }
  }

  static void on_connection(void* cls, MHD_Connection* connection, void** socket_context,
                            MHD_ConnectionNotificationCode code) {
    auto* self = static_cast<Impl*>(cls);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      auto* c = new Connection;
      const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      c->fd = info ? info->connect_fd : -1;
      c->began = now_rep();
      *socket_context = c;
      std::lock_guard reg(self->registry_mutex);
      self->registry.insert(c);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      auto* c = static_cast<Connection*>(*socket_context);
      if (!c) return;
      {
        std::lock_guard reg(self->registry_mutex);
        self->registry.erase(c);
      }
      delete c;
      *socket_context = nullptr;
    }
  }

  static Connection* connection_state(MHD_Connection* connection) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? static_cast<Connection*>(info->socket_context) : nullptr;
  }

  static MHD_Result collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* out = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
    out->emplace_back(key ? key : "", value ? value : "");
    return MHD_YES;
  }

  // Queues `r` on `connection`; `body_unread` adds Connection: close (MHD
  // closes after an early answer anyway; the header tells the client).
  MHD_Result answer(MHD_Connection* connection, Exchange& ex, Response r, bool body_unread) {
    MHD_Response* response = nullptr;
    if (r.stream) {
      auto* s = new Stream{std::move(r.stream), {}, 0, false, &ex.response_bytes};
      response = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, &stream_read, s, &stream_free);
    } else {
      ex.response_bytes = r.body.size();
      response = MHD_create_response_from_buffer(r.body.size(), r.body.data(), MHD_RESPMEM_MUST_COPY);
    }
    if (!response) return MHD_NO;
    MHD_add_response_header(response, "Content-Type", r.content_type.c_str());
    for (const auto& [name, value] : r.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
    if (body_unread) MHD_add_response_header(response, "Connection", "close");
    ex.status = r.status;
    ex.answered = true;
    if (!r.log_error.empty()) {
      ex.error = r.log_error;
    } else if (r.status >= 400 && r.body.size() < 4096) {
      const json body = json::parse(r.body, nullptr, false);
      if (body.is_object() && body.contains("error") && body["error"].is_string()) ex.error = body["error"];
    }
    const MHD_Result queued = MHD_queue_response(connection, static_cast<unsigned>(r.status), response);
    MHD_destroy_response(response);
    return queued;
  }

  Response status_error(int status) { return error_response(status, http_status_text(status, options.not_found_hint)); }

  // The first call for a request: the head is complete, no body read yet.
  MHD_Result begin(MHD_Connection* connection, const char* url, const char* method, Exchange& ex) {
    Request& req = ex.request;
    req.method = method;
    req.path = url;
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &collect, &req.headers);
    for (auto& [k, v] : req.headers) k = lower(k);
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, &collect, &req.query);
    if (const MHD_ConnectionInfo* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        info && info->client_addr) {
      char host[NI_MAXHOST] = "";
      const socklen_t len =
          info->client_addr->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
      if (getnameinfo(info->client_addr, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0) req.peer = host;
    }
    ex.content_encoding = req.header("content-encoding");
    const bool has_body = req.has_header("transfer-encoding") ||
                          (req.has_header("content-length") && req.header("content-length") != "0");

    bool path_known = false;
    std::vector<std::string> params;
    for (const auto& r : routes) {
      if (!match_route(r.pattern, req.path, params)) continue;
      path_known = true;
      if (r.method == req.method || (r.method == "GET" && req.method == "HEAD")) {
        ex.route = &r;
        req.params = params;
        break;
      }
    }
    if (!ex.route) {
      Response r = status_error(path_known ? 405 : 404);
      if (path_known) {
        std::string allow;
        for (const auto& route : routes)
          if (match_route(route.pattern, req.path, params)) allow += (allow.empty() ? "" : ", ") + route.method;
        r.headers.emplace_back("Allow", allow);
      }
      return answer(connection, ex, std::move(r), has_body);
    }
    ex.limit = ex.route->body_limit ? ex.route->body_limit : options.max_body;
    if (filter) {
      std::optional<Response> refused;
      try {
        refused = filter(req);
      } catch (...) {
        refused = error_response(500, "internal error");
      }
      if (refused) return answer(connection, ex, std::move(*refused), has_body);
    }
    const std::string encoding = lower(ex.content_encoding);
    if (!encoding.empty() && encoding != "identity" && encoding != "gzip")
      return answer(connection, ex, error_response(415, "Content-Encoding must be gzip or identity"), has_body);
    ex.gzip = encoding == "gzip";
    if (lower(req.header("content-type")).rfind("multipart/", 0) == 0)
      return answer(connection, ex, error_response(415, "multipart bodies are not accepted; send JSON"), has_body);
    if (req.has_header("content-length")) {
      const std::string length = req.header("content-length");
      if (length.empty() || length.size() > 18 || length.find_first_not_of("0123456789") != std::string::npos ||
          std::stoull(length) > ex.limit)
        return answer(connection, ex,
                      error_response(413, "request body larger than " + std::to_string(ex.limit) + " bytes"),
                      has_body);
    }
    return MHD_YES;
  }

  // A piece of the body: appended (inflated first when gzip) up to the limit.
  void take(Exchange& ex, const char* data, std::size_t size) {
    if (ex.too_large || ex.gzip_bad) return;
    if (!ex.gzip) {
      if (ex.request.body.size() + size > ex.limit) {
        ex.too_large = true;
        std::string().swap(ex.request.body);
      } else {
        ex.request.body.append(data, size);
      }
      return;
    }
    if (!ex.gzip_started) {
      if (inflateInit2(&ex.zs, 15 + 16) != Z_OK) {
        ex.gzip_bad = true;
        return;
      }
      ex.gzip_started = true;
    }
    if (ex.gzip_done) return;  // bytes after the gzip stream: ignored
    ex.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    ex.zs.avail_in = static_cast<uInt>(size);
    char out[16 * 1024];
    while (ex.zs.avail_in > 0 || ex.zs.avail_out == 0) {
      ex.zs.next_out = reinterpret_cast<Bytef*>(out);
      ex.zs.avail_out = sizeof out;
      const int rc = inflate(&ex.zs, Z_NO_FLUSH);
      const std::size_t produced = sizeof out - ex.zs.avail_out;
      if (ex.request.body.size() + produced > ex.limit) {
        ex.too_large = true;
        std::string().swap(ex.request.body);
        return;
      }
      ex.request.body.append(out, produced);
      if (rc == Z_STREAM_END) {
        ex.gzip_done = true;
        return;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        ex.gzip_bad = true;
        return;
      }
      if (rc == Z_BUF_ERROR && ex.zs.avail_in == 0) return;
    }
  }

  static MHD_Result on_access(void* cls, MHD_Connection* connection, const char* url, const char* method,
                              const char*, const char* upload_data, std::size_t* upload_data_size, void** con_cls) {
    auto* self = static_cast<Impl*>(cls);
    auto* ex = static_cast<Exchange*>(*con_cls);
    if (!ex) {
      if (Connection* c = connection_state(connection)) c->phase = 1;
      ex = new Exchange;
      *con_cls = ex;
      ++self->active;
      return self->begin(connection, url, method, *ex);
    }
    if (ex->answered) {  // answered early: MHD does not read on; discard anything it hands us
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (*upload_data_size > 0) {
      ex->wire_bytes += *upload_data_size;
      // Past twice the limit on the wire the rest is not even drained: the
      // connection is dropped (the answer would be 413 anyway).
      if (ex->wire_bytes > 2 * ex->limit) return MHD_NO;
      if (ex->wire_bytes > ex->limit) ex->too_large = true;
      self->take(*ex, upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    // The whole body is in.
    if (Connection* c = connection_state(connection)) c->phase = 2;
    if (ex->too_large)
      return self->answer(connection, *ex,
                          error_response(413, "request body larger than " + std::to_string(ex->limit) + " bytes"),
                          false);
    if (ex->gzip && ex->wire_bytes > 0 && (ex->gzip_bad || !ex->gzip_done))
      return self->answer(connection, *ex, error_response(400, "request body could not be read (truncated, or bad gzip)"),
                          false);
    if (ex->ready.load(std::memory_order_acquire))  // resumed: the worker's answer
      return self->answer(connection, *ex, std::move(ex->result), false);
    if (ex->dispatched) return MHD_YES;  // still with a worker
    return self->dispatch(connection, *ex);
  }

  // Suspends the connection and queues its request for a worker; once
  // stopping has begun, answers 503 here instead (nothing may stay suspended).
  MHD_Result dispatch(MHD_Connection* connection, Exchange& ex) {
    {
      std::lock_guard lock(jobs_mutex);
      if (!jobs_stop) {
        ex.dispatched = true;
        ++dispatched_open;
        MHD_suspend_connection(connection);
        jobs.push_back({connection, &ex, Clock::now()});
        jobs_wake.notify_one();
        return MHD_YES;
      }
    }
    Response r = error_response(503, "server shutting down: try again later");
    r.headers.emplace_back("Retry-After", "60");
    return answer(connection, ex, std::move(r), false);
  }

  Response run_handler(Exchange& ex) {
    Response r;
    try {
      r = ex.route->handler(ex.request);
    } catch (const std::exception& e) {
      r = error_response(500, "internal error");
      r.log_error = std::string("handler threw: ") + e.what();
    } catch (...) {
      r = error_response(500, "internal error");
    }
    return r;
  }

  // A worker: takes requests in arrival order until stopped with none left.
  // After stop, those still queued are answered 503 without running.
  void work() {
    for (;;) {
      Job job;
      bool stopping;
      {
        std::unique_lock lock(jobs_mutex);
        jobs_wake.wait(lock, [this] { return jobs_stop || !jobs.empty(); });
        if (jobs.empty()) return;
        job = jobs.front();
        jobs.pop_front();
        stopping = jobs_stop;
      }
      Exchange& ex = *job.exchange;
      if (stopping || Clock::now() - job.queued > options.request_timeout) {
        ex.result = error_response(503, stopping ? "server shutting down: try again later"
                                                 : "server busy: try again later");
        ex.result.headers.emplace_back("Retry-After", "60");
      } else {
        ex.result = run_handler(ex);
      }
      ex.ready.store(true, std::memory_order_release);
      MHD_resume_connection(job.connection);
    }
  }

  static void on_completed(void* cls, MHD_Connection* connection, void** con_cls, MHD_RequestTerminationCode toe) {
    auto* self = static_cast<Impl*>(cls);
    auto* ex = static_cast<Exchange*>(*con_cls);
    if (Connection* c = connection_state(connection)) {
      c->phase = 0;
      c->began = now_rep();
    }
    if (!ex) return;
    json line = {{"event", "request"},
                 {"server", self->options.server_name},
                 {"method", log_prefix(ex->request.method, 16)},
                 {"path", log_prefix(ex->request.path)},
                 {"status", ex->status},
                 {"request_bytes", ex->wire_bytes},
                 {"response_bytes", ex->response_bytes},
                 {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - ex->start).count()}};
    if (!ex->content_encoding.empty()) line["content_encoding"] = log_prefix(ex->content_encoding, 32);
    if (!ex->error.empty()) line["error"] = log_prefix(ex->error, 300);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
      line["aborted"] = toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED   ? "timeout"
                        : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? "client closed"
                        : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
                                                                        : "error";
      if (!ex->answered && ex->wire_bytes > 2 * ex->limit) line["error"] = "body over twice the limit: dropped";
    }
    log_json_line(std::move(line));
    if (ex->dispatched) --self->dispatched_open;
    delete ex;
    *con_cls = nullptr;
    --self->active;
  }
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>()) { impl_->options = std::move(options); }

HttpServer::~HttpServer() { stop(std::chrono::seconds(0)); }

void HttpServer::route(const std::string& method, const std::string& pattern, Handler handler,
                       std::size_t body_limit) {
  impl_->routes.push_back({method, pattern, std::move(handler), body_limit});
}

void HttpServer::set_filter(std::function<std::optional<Response>(const Request&)> filter) {
  impl_->filter = std::move(filter);
}

int HttpServer::port() const { return impl_->port; }

bool HttpServer::start(std::string& error) {
  Impl& s = *impl_;
  const ServerOptions& o = s.options;
  addrinfo hints{};
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(o.port);
  if (getaddrinfo(o.host.c_str(), port_text.c_str(), &hints, &found) != 0 || !found) {
    error = "not a numeric address: " + o.host;
    return false;
  }
  sockaddr_storage address{};
  std::memcpy(&address, found->ai_addr, found->ai_addrlen);
  const bool v6 = found->ai_family == AF_INET6;
  freeaddrinfo(found);

  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
  if (v6) flags |= MHD_USE_IPv6;
  const bool tls = !o.tls_cert_pem.empty() && !o.tls_key_pem.empty();
  if (tls) flags |= MHD_USE_TLS;
  std::vector<MHD_OptionItem> items = {
      {MHD_OPTION_SOCK_ADDR, 0, &address},
      {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(o.idle_timeout.count()), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(o.memory_limit), nullptr},
      {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(o.max_connections), nullptr},
      {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(o.per_ip_connections), nullptr},
      {MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(std::max(1u, o.threads)), nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Impl::on_completed), &s},
      {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&Impl::on_connection), &s},
  };
  if (tls) {
    items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(o.tls_cert_pem.c_str())});
    items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(o.tls_key_pem.c_str())});
  }
  items.push_back({MHD_OPTION_END, 0, nullptr});
  s.daemon = MHD_start_daemon(flags, static_cast<uint16_t>(o.port), nullptr, nullptr, &Impl::on_access, &s,
                              MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
  if (!s.daemon) {
    error = "cannot listen on " + o.host + ":" + port_text + (tls ? " (or the TLS certificate/key is unusable)" : "");
    return false;
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(s.daemon, MHD_DAEMON_INFO_BIND_PORT);
  s.port = info ? info->port : o.port;
  for (unsigned i = 0; i < std::max(1u, o.workers); ++i) s.workers.emplace_back([&s] { s.work(); });
  s.watchdog = std::thread([&s] { s.watch(); });
  return true;
}

void HttpServer::stop(std::chrono::seconds grace) {
  Impl& s = *impl_;
  if (!s.daemon) return;
  // No new connections; those open go on. The listening socket is now ours
  // to close, after MHD has stopped.
  const MHD_socket listener = MHD_quiesce_daemon(s.daemon);
  const auto until = Clock::now() + grace;
  while (s.active.load() > 0 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Every suspended connection resumed (handlers running finish; those
  // queued are answered 503) before MHD may stop.
  {
    std::lock_guard lock(s.jobs_mutex);
    s.jobs_stop = true;
  }
  s.jobs_wake.notify_all();
  for (auto& w : s.workers) w.join();
  s.workers.clear();
  // Their answers (503 for those never run) go out before the sockets close.
  const auto flushed = Clock::now() + std::chrono::seconds(2);
  while (s.dispatched_open.load() > 0 && Clock::now() < flushed)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  MHD_stop_daemon(s.daemon);
  s.daemon = nullptr;
  if (listener != MHD_INVALID_SOCKET) ::close(listener);
  {
    std::lock_guard lock(s.watchdog_mutex);
    s.watchdog_stop = true;
  }
  s.watchdog_wake.notify_all();
  if (s.watchdog.joinable()) s.watchdog.join();
}

}  // namespace vantage::server
