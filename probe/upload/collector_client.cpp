// Collector protocol client. See collector_client.h.
#include "probe/upload/collector_client.h"

#include <curl/curl.h>
#include <unistd.h>
#include <zlib.h>

#include <thread>

#include "probe/net/curl_failure.h"
#include "probe/net/server_request.h"

namespace vantage::upload {

using nlohmann::json;

namespace {

// Whether a transfer error means the request cannot have reached the
// collector (so retrying at once is safe and useful). The failure string
// itself is net::failure_from_curl's, the same as every measurement's.
bool never_reached(CURLcode rc) {
  return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY;
}

bool has_prefix(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

}  // namespace

std::string gzip_compress(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "";
}

std::string check_options(const ClientOptions& o) {
  if (!has_prefix(o.collector_url, "http://") && !has_prefix(o.collector_url, "https://"))
    return "collector URL must start with http:// or https://, got \"" + o.collector_url + "\"";
  if (!o.proxy.empty() && !has_prefix(o.proxy, "http://") && !has_prefix(o.proxy, "https://") &&
      !has_prefix(o.proxy, "socks5://") && !has_prefix(o.proxy, "socks5h://"))
    return "proxy must be an http://, https://, socks5:// or socks5h:// URL, got \"" + o.proxy + "\"";
  if (!o.ca_bundle.empty() && access(o.ca_bundle.c_str(), R_OK) != 0)
    return "CA bundle " + o.ca_bundle + ": cannot read the file";
  return "";
}

CollectorClient::CollectorClient(ClientOptions options) : options_(std::move(options)) {
  while (!options_.collector_url.empty() && options_.collector_url.back() == '/') options_.collector_url.pop_back();
  curl_ = curl_easy_init();
}

CollectorClient::~CollectorClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Outcome CollectorClient::post_once(const std::string& url, const std::string& body) {
  Outcome out;
  CURL* curl = static_cast<CURL*>(curl_);
  if (!curl) {
    out.failure = "unknown_failure: cannot create a curl handle";
    return out;
  }
  curl_easy_reset(curl);  // keeps the connection cache
  net::ServerRequest request;
  request.url = url;
  request.ca_bundle = options_.ca_bundle;
  request.proxy = options_.proxy;  // only the proxy the volunteer named
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.timeout;
  net::set_server_request(curl, request);
  const std::string& response = request.answer;
  std::string payload = body;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  if (options_.gzip) {
    std::string compressed = gzip_compress(body);
    if (!compressed.empty()) {
      payload = std::move(compressed);
      headers = curl_slist_append(headers, "Content-Encoding: gzip");
    }
  }
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  char error_text[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  out.tries = 1;
  if (rc != CURLE_OK) {
    out.failure = net::failure_from_curl(curl, rc, error_text);
    out.connection_error = never_reached(rc);
    out.error = curl_easy_strerror(rc);
    return out;
  }
  out.http_status = static_cast<int>(status);
  json answer = json::parse(response, nullptr, false);
  if (status != 200) {
    out.failure = "http_request_failed";
    out.error = "HTTP " + std::to_string(status);
    if (answer.is_object() && answer.contains("error") && answer["error"].is_string())
      out.error += ": " + answer["error"].get<std::string>();
    return out;
  }
  if (!answer.is_object()) {
    out.failure = "unknown_failure: collector_answer_not_json";
    out.error = "the collector's answer is not a JSON object";
    return out;
  }
  out.report_id = answer.value("report_id", "");
  out.measurement_uid = answer.value("measurement_uid", "");
  return out;
}

Outcome CollectorClient::post(const std::string& path, const std::string& body) {
  const std::string url = options_.collector_url + path;
  Outcome out;
  int tries = 0;
  for (int attempt = 0;; ++attempt) {
    out = post_once(url, body);
    tries += out.tries;
    if (!out.connection_error || attempt >= options_.immediate_retries) break;
    std::this_thread::sleep_for(options_.retry_pause * (attempt + 1));
  }
  out.tries = tries;
  return out;
}

Outcome CollectorClient::open_report(const json& m) {
  auto text = [&](const char* key) { return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : ""; };
  json req = {{"data_format_version", "0.2.0"}, {"format", "json"},
              {"probe_asn", text("probe_asn")}, {"probe_cc", text("probe_cc")},
              {"software_name", text("software_name")}, {"software_version", text("software_version")},
              {"test_name", text("test_name")}, {"test_start_time", text("test_start_time")},
              {"test_version", text("test_version")}};
  Outcome out = post("/report", req.dump(-1, ' ', false, json::error_handler_t::replace));
  if (out.failure.empty() && out.report_id.empty()) {
    out.failure = "unknown_failure: collector_gave_no_report_id";
    out.error = "the collector's answer has no report_id";
  }
  for (char c : out.report_id) {
    // It goes into URL paths: only the characters OONI's ids are made of.
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      out.failure = "unknown_failure: collector_gave_bad_report_id";
      out.error = "the collector's report_id has characters other than letters, digits, _ and -";
      out.report_id.clear();
      break;
    }
  }
  return out;
}

Outcome CollectorClient::submit(const std::string& report_id, const json& measurement) {
  json content = measurement;
  content["report_id"] = report_id;
  json req = {{"format", "json"}, {"content", std::move(content)}};
  Outcome out = post("/report/" + report_id, req.dump(-1, ' ', false, json::error_handler_t::replace));
  if (out.failure.empty() && out.measurement_uid.empty()) {
    out.failure = "unknown_failure: collector_gave_no_measurement_uid";
    out.error = "the collector's answer has no measurement_uid";
  }
  return out;
}

Outcome CollectorClient::close_report(const std::string& report_id) {
  return post("/report/" + report_id + "/close", "{}");
}

}  // namespace vantage::upload
