// Probe side of the control protocol: one libcurl POST. See control_client.h.
#include "probe/control/control_client.h"

#include <curl/curl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <memory>
#include <mutex>

#include "probe/net/curl_failure.h"
#include "probe/net/curl_init.h"
#include "probe/net/failure.h"

namespace vantage::control {

namespace {

using json = nlohmann::json;

// An answer bigger than this is not a control answer (64 endpoints fit in a
// few KiB); stop reading instead of filling memory.
constexpr std::size_t kMaxAnswerBytes = 4 << 20;

struct EasyFree {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t length = size * count;
  if (body->size() + length > kMaxAnswerBytes) return 0;  // → CURLE_WRITE_ERROR
  body->append(data, length);
  return length;
}

// The shared libcurl mapping, plus what only an oversized answer means here.
std::string control_failure(CURL* h, CURLcode code, const char* error_text) {
  if (code == CURLE_WRITE_ERROR) return "unknown_failure: control answer larger than 4 MiB";
  return net::failure_from_curl(h, code, error_text);
}

}  // namespace

ControlAnswer ask_control(const std::string& control_url, const ControlQuery& q,
                          std::chrono::milliseconds timeout) {
  ControlAnswer result;
  try {
    net::curl_global_init_once();
    // Replaces bytes that are not UTF-8 (a header value from a catalog, say)
    // rather than throwing.
    const std::string body =
        format::to_json(static_cast<const format::ControlRequest&>(q)).dump(-1, ' ', false, json::error_handler_t::replace);

    std::unique_ptr<CURL, EasyFree> easy(curl_easy_init());
    if (!easy) {
      result.failure = "unknown_failure: curl_easy_init failed";
      return result;
    }
    CURL* h = easy.get();
    std::unique_ptr<curl_slist, SlistFree> headers(
        curl_slist_append(nullptr, "Content-Type: application/json"));
    headers.reset(curl_slist_append(headers.release(), "Accept: application/json"));
    std::string answer_text;
    char error_text[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(h, CURLOPT_URL, control_url.c_str());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based timeouts
    curl_easy_setopt(h, CURLOPT_PROXY, "");     // never an environment proxy
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, timeout.count())));
    curl_easy_setopt(h, CURLOPT_USERAGENT, q.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!q.ca_bundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, q.ca_bundle.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer_text);

    const CURLcode code = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    result.http_status = static_cast<int>(status);
    if (code != CURLE_OK) {
      result.failure = control_failure(h, code, error_text);
      return result;
    }
    json parsed = json::parse(answer_text, nullptr, /*allow_exceptions=*/false);
    if (status != 200) {
      result.failure = "http_unexpected_status_code";
      if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()) {
        result.error = parsed["error"].get<std::string>();
      }
      return result;
    }
    if (parsed.is_discarded() || !parsed.is_object()) {
      result.failure = "json_parse_error";
      return result;
    }
    result.answer = std::move(parsed);
  } catch (const std::exception& e) {
    // Only allocation failures can get here.
    result.failure = std::string("unknown_failure: ") + e.what();
  }
  return result;
}

}  // namespace vantage::control
