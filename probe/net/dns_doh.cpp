// query_doh: DNS over HTTPS (RFC 8484), one POST of an application/dns-message
// body via libcurl, TLS verified against the system store or a given CA
// bundle. Never follows redirects, never speaks anything but HTTPS, never
// blocks longer than the timeout.
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "probe/net/dns_internal.h"
#include "probe/net/dns_lookup.h"
#include "probe/net/curl_failure.h"
#include "probe/net/curl_init.h"
#include "probe/net/failure.h"

namespace vantage::net {

namespace {

// Bounds what a misbehaving server can make us buffer; a DNS message is at
// most 65535 bytes.
constexpr size_t kMaxBody = 65535;

size_t append_body(char* data, size_t size, size_t count, void* userdata) {
  auto* body = static_cast<std::string*>(userdata);
  const size_t bytes = size * count;
  if (body->size() + bytes > kMaxBody) return 0;  // aborts with CURLE_WRITE_ERROR
  body->append(data, bytes);
  return bytes;
}

}  // namespace

format::DnsObservation query_doh(const std::string& hostname, const DohQueryOptions& options,
                                 const StepContext& ctx) {
  curl_global_init_once();

  format::DnsObservation obs;
  obs.engine = "doh";
  obs.resolver_address = options.url;
  obs.hostname = hostname;
  obs.query_type = query_type_name(options.type);
  obs.transaction_id = ctx.transaction_id;
  obs.t0 = ctx.clock->now();

  // RFC 8484 §4.1: id 0, so identical queries are cacheable by HTTP caches.
  const std::string query = build_dns_query(hostname, options.type, 0);
  if (query.empty()) {
    obs.failure = "unknown_failure: hostname cannot be encoded in a DNS query";
    obs.t = ctx.clock->now();
    return obs;
  }
  obs.query_id = 0;

  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    obs.failure = "unknown_failure: curl_easy_init failed";
    obs.t = ctx.clock->now();
    return obs;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/dns-message");
  headers = curl_slist_append(headers, "Accept: application/dns-message");
  std::string body;
  char error_text[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(curl, CURLOPT_URL, options.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, query.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(query.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  // 0 would mean "no timeout" to libcurl; a spent budget must still end.
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, std::max<long>(1, static_cast<long>(options.timeout.count())));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_bundle.c_str());

  const CURLcode code = curl_easy_perform(curl);
  obs.t = ctx.clock->now();
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (code != CURLE_OK) {
    obs.failure = failure_from_curl(curl, code, error_text);
  } else if (status != 200) {
    obs.failure = "dns_server_misbehaving";
  } else if (parse_dns_response(body, obs)) {
    obs.failure = failure_for_parsed_response(obs, options.type);
  }  // else parse_dns_response set dns_server_misbehaving
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return obs;
}

}  // namespace vantage::net
