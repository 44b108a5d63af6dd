// --listen parsing. See listen_address.h.
#include "reports/server/listen_address.h"

namespace vantage::server {

bool split_listen_address(const std::string& text, std::string& host, int& port) {
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty() || port_text.empty() || port_text.size() > 5) return false;
  for (char c : port_text)
    if (c < '0' || c > '9') return false;
  port = std::stoi(port_text);
  return port <= 65535;
}

}  // namespace vantage::server
