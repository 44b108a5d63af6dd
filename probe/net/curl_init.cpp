// libcurl's global initialization. See curl_init.h.
#include "probe/net/curl_init.h"

#include <curl/curl.h>

#include <mutex>

namespace vantage::net {

void curl_global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace vantage::net
