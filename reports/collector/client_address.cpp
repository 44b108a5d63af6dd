// Client addresses at the collector. See client_address.h.
#include "reports/collector/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "reports/format/address_scrub.h"

namespace vantage::collector {

namespace {

std::string normalize(std::string ip) {
  while (!ip.empty() && ip.front() == ' ') ip.erase(ip.begin());
  while (!ip.empty() && ip.back() == ' ') ip.pop_back();
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  unsigned char b[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, ip.c_str(), b) == 1) return inet_ntop(AF_INET, b, out, sizeof out);
  if (inet_pton(AF_INET6, ip.c_str(), b) == 1) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, mapped, 12) == 0) return inet_ntop(AF_INET, b + 12, out, sizeof out);
    return inet_ntop(AF_INET6, b, out, sizeof out);
  }
  return "";
}

bool is_loopback(const std::string& ip) { return ip == "::1" || ip.rfind("127.", 0) == 0; }

}  // namespace

std::string client_address(const std::string& peer, const std::string& xff,
                           const std::vector<std::string>& trusted_proxies) {
  auto trusted = [&](const std::string& a) {
    const std::string n = normalize(a);
    return !n.empty() && std::find(trusted_proxies.begin(), trusted_proxies.end(), n) != trusted_proxies.end();
  };
  if (xff.empty() || !trusted(peer)) return normalize(peer);
  // Walk the chain from the right: the first hop no trusted proxy vouches for.
  std::size_t end = xff.size();
  while (true) {
    const std::size_t comma = xff.rfind(',', end == 0 ? 0 : end - 1);
    const std::size_t start = comma == std::string::npos ? 0 : comma + 1;
    const std::string hop = xff.substr(start, end - start);
    if (hop.size() > 64) return "";  // not an address
    if (!trusted(hop) || comma == std::string::npos) return normalize(hop);
    end = comma;
  }
}

PlainResponse whoami(const std::string& method, const std::string& ip) {
  PlainResponse res;
  if (method != "GET") {
    res.status = 405;
    res.body = nlohmann::json{{"error", "use GET /api/v1/whoami"}}.dump();
    return res;
  }
  if (ip.empty()) {
    res.status = 502;
    res.body = nlohmann::json{{"error", "the client's address is not known (bad X-Forwarded-For from the proxy?)"}}.dump();
    return res;
  }
  res.body = nlohmann::json{{"ip", ip}}.dump();
  return res;
}

std::string own_address_refusal(const nlohmann::json& measurement, const std::string& client_ip) {
  if (client_ip.empty() || is_loopback(client_ip)) return "";
  if (!format::AddressScrubber({client_ip}).found_in(measurement)) return "";
  // Never echo the address: this text goes to logs and the probe's spool.
  return "the measurement contains the address this upload comes from; it was not stored (the probe must scrub "
         "its public address: is the probe's whoami lookup working?)";
}

}  // namespace vantage::collector
