// Requests to Vantage's own servers. See server_request.h.
#include "probe/net/server_request.h"

namespace vantage::net {
namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  auto* request = static_cast<ServerRequest*>(user);
  const std::size_t bytes = size * n;
  if (request->answer.size() + bytes > request->max_answer) return 0;  // curl fails the transfer
  request->answer.append(data, bytes);
  return bytes;
}

}  // namespace

void set_server_request(CURL* curl, ServerRequest& request) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "vantage/" VANTAGE_VERSION);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &request);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!request.ca_bundle.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_bundle.c_str());
  curl_easy_setopt(curl, CURLOPT_PROXY, request.proxy.c_str());
}

}  // namespace vantage::net
