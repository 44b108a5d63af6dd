// HTTP status reason texts. See http_status.h.
#include "reports/server/http_status.h"

namespace vantage::server {

std::string http_status_text(int status, const std::string& not_found_hint) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "not found: " + not_found_hint;
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 414: return "URI too long";
    case 415: return "unsupported Content-Encoding (gzip or none)";
    default: return "HTTP status " + std::to_string(status);
  }
}

}  // namespace vantage::server
