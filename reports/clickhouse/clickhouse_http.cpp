// ClickHouse over HTTP. See clickhouse_http.h.
#include "reports/clickhouse/clickhouse_http.h"

#include <curl/curl.h>

#include <memory>

namespace vantage::clickhouse {
namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

}  // namespace

std::string quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string run(const Statement& s, std::string& out) {
  out.clear();
  std::unique_ptr<CURL, EasyFree> easy(curl_easy_init());
  if (!easy) return "clickhouse: cannot create a curl handle";
  CURL* curl = easy.get();
  std::string url = s.base_url;
  const std::string* body = &s.sql;
  if (!s.data.empty()) {
    char* escaped = curl_easy_escape(curl, s.sql.c_str(), static_cast<int>(s.sql.size()));
    url += std::string("?query=") + (escaped ? escaped : "");
    curl_free(escaped);
    body = &s.data;
  }
  if (!s.url_settings.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + s.url_settings;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");  // ClickHouse is never reached through a proxy
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK) return "clickhouse: " + s.base_url + ": " + curl_easy_strerror(rc);
  if (status != 200) {
    std::string msg = out.substr(0, 400);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return "clickhouse: HTTP " + std::to_string(status) + ": " + msg;
  }
  return "";
}

}  // namespace vantage::clickhouse
