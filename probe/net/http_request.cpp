// HTTP(S) request with a libcurl easy handle. See http_request.h.
//
// Pinned to the measured IP with CURLOPT_RESOLVE (CURLOPT_CONNECT_TO when the
// pinned port differs from the URL's), never through a proxy from the
// environment. Trust anchors are put into curl's OpenSSL context by
// add_trust_anchors() so the HTTP step trusts exactly what the TLS step
// trusts, without writing anything to disk. Stopping early on max_download
// or download_window is a measurement decision, not a failure: the body is
// marked truncated. Never blocks past options.timeout; never writes JSON.
#include "probe/net/http_request.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <mutex>
#include <string_view>

#include "probe/net/curl_failure.h"
#include "probe/net/curl_init.h"
#include "probe/net/failure.h"
#include "reports/format/ip_address.h"

namespace vantage::net {

namespace {

using Clock = std::chrono::steady_clock;

struct EasyFree {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct UrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

std::string trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

// Splits an HTTP/1-style head block into "Name: value" pairs, skipping the
// start line. Used for the request head curl reports through its debug hook.
format::HeaderList parse_head(std::string_view head) {
  format::HeaderList headers;
  bool start_line = true;
  while (!head.empty()) {
    std::size_t eol = head.find('\n');
    std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 1);
    if (start_line) {
      start_line = false;
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return headers;
}

// Everything the callbacks record while curl runs.
struct Transfer {
  const HttpOptions* options = nullptr;
  format::HttpObservation* obs = nullptr;
  bool stopped = false;  // we ended the transfer on purpose (limit or window)
  bool saw_body = false;
  Clock::time_point first_byte;
  Clock::time_point last_byte;

  bool window_over(Clock::time_point now) const {
    return options->download_window.count() > 0 && saw_body &&
           now - first_byte >= options->download_window;
  }
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  std::string_view line(data, length);
  if (line.starts_with("HTTP/")) {
    // A new response (after 1xx or a redirect): keep only the final one's.
    transfer->obs->response_headers.clear();
    return length;
  }
  std::size_t colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    transfer->obs->response_headers.emplace_back(trim(line.substr(0, colon)),
                                                 trim(line.substr(colon + 1)));
  }
  return length;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t length = size * count;
  const auto now = Clock::now();
  if (!transfer->saw_body) {
    transfer->saw_body = true;
    transfer->first_byte = now;
  }
  transfer->last_byte = now;
  auto& obs = *transfer->obs;
  obs.body_bytes_received += length;
  auto& body = obs.response_body;
  const std::size_t max_body = transfer->options->max_body;
  if (body.data.size() < max_body) {
    body.data.append(data, std::min(length, max_body - body.data.size()));
  }
  if (obs.body_bytes_received > body.data.size()) body.truncated = true;
  if (obs.body_bytes_received >= transfer->options->max_download || transfer->window_over(now)) {
    transfer->stopped = true;
    obs.download_stopped = obs.body_bytes_received >= transfer->options->max_download ? "size" : "window";
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  return length;
}

// Ends a transfer whose download window has passed while no data arrives.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->window_over(Clock::now())) {
    transfer->stopped = true;
    transfer->obs->download_stopped = "window";
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type == CURLINFO_HEADER_OUT) {
    static_cast<Transfer*>(user)->obs->request_headers = parse_head(std::string_view(data, size));
  }
  return 0;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user) {
  const auto* trust = static_cast<const TlsTrust*>(user);
  std::string error = use_trust_anchors(*trust, static_cast<SSL_CTX*>(ssl_ctx));
  return error.empty() ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

std::string with_brackets_if_ipv6(const std::string& ip) { return ip::bracket_host(ip); }

}  // namespace

format::HttpObservation http_request(const HttpOptions& options, const StepContext& ctx) {
  curl_global_init_once();
  format::HttpObservation obs;
  obs.url = options.url;
  obs.method = options.method;
  obs.request_body.data = options.body;
  obs.transaction_id = ctx.transaction_id;
  obs.t0 = ctx.clock ? ctx.clock->now() : 0;
  auto finish = [&](std::string failure) {
    obs.t = ctx.clock ? ctx.clock->now() : 0;
    if (!failure.empty()) obs.failure = std::move(failure);
    return std::move(obs);
  };

  std::unique_ptr<CURLU, UrlFree> url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, options.url.c_str(), 0) != CURLUE_OK) {
    return finish("unknown_failure: bad URL " + options.url);
  }
  std::string host, scheme, port;
  {
    char* part = nullptr;
    if (curl_url_get(url.get(), CURLUPART_HOST, &part, 0) == CURLUE_OK) host = part;
    curl_free(part);
    part = nullptr;
    if (curl_url_get(url.get(), CURLUPART_SCHEME, &part, 0) == CURLUE_OK) scheme = part;
    curl_free(part);
    part = nullptr;
    if (curl_url_get(url.get(), CURLUPART_PORT, &part, CURLU_DEFAULT_PORT) == CURLUE_OK) port = part;
    curl_free(part);
  }

  std::unique_ptr<CURL, EasyFree> easy(curl_easy_init());
  if (!easy) return finish("unknown_failure: curl_easy_init failed");
  CURL* h = easy.get();
  Transfer transfer;
  transfer.options = &options;
  transfer.obs = &obs;
  char error_text[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(h, CURLOPT_URL, options.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based timeouts
  curl_easy_setopt(h, CURLOPT_PROXY, "");     // never through an environment proxy
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  // 0 would mean "no timeout" to libcurl; a spent budget must still end.
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, std::max<long>(1, static_cast<long>(options.timeout.count())));
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, options.follow_redirects ? 1L : 0L);
  if (options.follow_redirects) {
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  }

  std::unique_ptr<curl_slist, SlistFree> pins;
  if (!options.pin_ip.empty()) {
    const std::string pinned = with_brackets_if_ipv6(options.pin_ip);
    std::string entry;
    const std::string pinned_port = options.pin_port == 0 ? port : std::to_string(options.pin_port);
    if (host.starts_with("[")) {
      // An IPv6-literal host cannot be a RESOLVE key; an empty CONNECT_TO
      // host and port match it.
      entry = "::" + pinned + ":" + pinned_port;
      pins.reset(curl_slist_append(nullptr, entry.c_str()));
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, pins.get());
    } else if (pinned_port == port) {
      entry = host + ":" + port + ":" + pinned;
      pins.reset(curl_slist_append(nullptr, entry.c_str()));
      curl_easy_setopt(h, CURLOPT_RESOLVE, pins.get());
    } else {
      entry = host + ":" + port + ":" + pinned + ":" + pinned_port;
      pins.reset(curl_slist_append(nullptr, entry.c_str()));
      curl_easy_setopt(h, CURLOPT_CONNECT_TO, pins.get());
    }
  }

  if (options.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (options.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (options.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, options.method.c_str());
    }
    if (options.method == "POST" || !options.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, options.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options.body.size()));
    }
  }

  if (!options.trust.verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    // curl loads nothing itself; on_ssl_ctx adds what `trust` names.
    curl_easy_setopt(h, CURLOPT_CAINFO, static_cast<char*>(nullptr));
    curl_easy_setopt(h, CURLOPT_CAPATH, static_cast<char*>(nullptr));
    curl_easy_setopt(h, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, &options.trust);
  }

  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);  // needed for on_debug; it prints nothing
  if (options.download_window.count() > 0) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  }

  const CURLcode code = curl_easy_perform(h);

  long status = 0;
  if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status > 0) {
    obs.status_code = static_cast<int>(status);
  }
  char* primary_ip = nullptr;
  long primary_port = 0;
  curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &primary_ip);
  curl_easy_getinfo(h, CURLINFO_PRIMARY_PORT, &primary_port);
  if (primary_ip != nullptr && primary_ip[0] != '\0') {
    obs.address = with_brackets_if_ipv6(primary_ip) + ":" + std::to_string(primary_port);
  }
  long http_version = 0;
  curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &http_version);
  if (scheme == "https") {
    switch (http_version) {
      case CURL_HTTP_VERSION_1_0: obs.alpn = "http/1.0"; break;
      case CURL_HTTP_VERSION_1_1: obs.alpn = "http/1.1"; break;
      case CURL_HTTP_VERSION_2_0: obs.alpn = "h2"; break;
      case CURL_HTTP_VERSION_3: obs.alpn = "h3"; break;
      default: break;
    }
  }
  if (transfer.saw_body) {
    obs.download_seconds =
        std::chrono::duration<double>(transfer.last_byte - transfer.first_byte).count();
    obs.body_stall_seconds = std::chrono::duration<double>(Clock::now() - transfer.last_byte).count();
  }

  if (code == CURLE_OK) return finish("");
  if (transfer.stopped && (code == CURLE_WRITE_ERROR || code == CURLE_ABORTED_BY_CALLBACK)) {
    obs.response_body.truncated = true;
    return finish("");
  }
  return finish(failure_from_curl(h, code, error_text));
}

}  // namespace vantage::net
