// Public and resolver addresses. See public_address.h.
#include "probe/location/public_address.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "probe/net/server_request.h"
#include "reports/format/ip_address.h"

namespace vantage::location {

namespace {

}  // namespace

std::string normalize_ip(const std::string& ip) {
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) return inet_ntop(AF_INET, buf, out, sizeof out) ? out : "";
  if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(buf, mapped, 12) == 0) return inet_ntop(AF_INET, buf + 12, out, sizeof out) ? out : "";
    return inet_ntop(AF_INET6, buf, out, sizeof out) ? out : "";
  }
  return "";
}

bool is_global_address(const std::string& text) {
  const auto a = ip::parse_address(text, ip::Spelling::mapped_is_v4);
  return a && !ip::in_special_range(*a, ip::kNotGlobal);
}

AddressAnswer ask_public_address(const WhoamiOptions& o) {
  AddressAnswer a;
  std::string url = o.collector_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    a.failure = "no collector URL to ask";
    return a;
  }
  url += "/api/v1/whoami";
  CURL* curl = curl_easy_init();
  if (!curl) {
    a.failure = "curl_easy_init failed";
    return a;
  }
  // Through the upload's proxy, so the request goes where the upload goes.
  net::ServerRequest request;
  request.url = url;
  request.ca_bundle = o.ca_bundle;
  request.proxy = o.proxy;
  request.connect_timeout = o.timeout;
  request.timeout = o.timeout;
  request.max_answer = 4096;  // the answer is a few bytes: refuse anything big
  net::set_server_request(curl, request);
  const std::string& body = request.answer;
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    a.failure = std::string("the collector's whoami could not be reached: ") + curl_easy_strerror(rc);
    return a;
  }
  if (status != 200) {
    a.failure = "the collector's whoami answered HTTP " + std::to_string(status);
    return a;
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("ip") || !j["ip"].is_string() || normalize_ip(j["ip"]).empty()) {
    a.failure = "the collector's whoami answer is not {\"ip\": ADDRESS}";
    return a;
  }
  a.ip = normalize_ip(j["ip"]);
  return a;
}

std::vector<std::string> machine_addresses() {
  std::vector<std::string> out;
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) != 0) return out;
  for (ifaddrs* i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK)) continue;
    int fam = i->ifa_addr->sa_family;
    if (fam != AF_INET && fam != AF_INET6) continue;
    char host[NI_MAXHOST];
    socklen_t len = fam == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (getnameinfo(i->ifa_addr, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0) {
      std::string h = host;
      if (auto pct = h.find('%'); pct != std::string::npos) h.resize(pct);
      out.push_back(h);
    }
  }
  freeifaddrs(ifs);
  return out;
}

AddressAnswer system_resolver_address(const std::string& path) {
  AddressAnswer a;
  std::ifstream in(path);
  if (!in) {
    a.failure = path + " cannot be read";
    return a;
  }
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    if (auto pct = value.find('%'); pct != std::string::npos) value.resize(pct);
    std::string ip = normalize_ip(value);
    if (ip.empty()) continue;
    if (!is_global_address(ip)) {
      a.failure = "the system resolver is a local or private address; its upstream is not known";
      return a;
    }
    a.ip = ip;
    return a;
  }
  a.failure = "no nameserver in " + path;
  return a;
}

}  // namespace vantage::location
