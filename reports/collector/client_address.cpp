// Client addresses at the collector. See client_address.h.
#include "reports/collector/client_address.h"

#include <arpa/inet.h>

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

std::string client_address(const ClientRequest& r, bool trust_proxy) {
  if (trust_proxy && !r.x_forwarded_for.empty()) {
    // The proxy appends the address it saw last.
    auto comma = r.x_forwarded_for.rfind(',');
    return normalize(comma == std::string::npos ? r.x_forwarded_for : r.x_forwarded_for.substr(comma + 1));
  }
  return normalize(r.peer_address);
}

PlainResponse whoami(const ClientRequest& r, bool trust_proxy) {
  PlainResponse res;
  if (r.method != "GET") {
    res.status = 405;
    res.body = nlohmann::json{{"error", "use GET /api/v1/whoami"}}.dump();
    return res;
  }
  const std::string ip = client_address(r, trust_proxy);
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
