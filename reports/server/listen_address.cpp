// --listen parsing. See listen_address.h.
#include "reports/server/listen_address.h"

#include "reports/format/ip_address.h"

namespace vantage::server {

bool split_listen_address(const std::string& text, std::string& host, int& port) {
  const auto hp = ip::split_host_port(text);
  if (!hp || hp->host.empty() || !hp->port) return false;
  host = hp->host;
  port = *hp->port;
  return true;
}

}  // namespace vantage::server
