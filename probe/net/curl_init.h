// libcurl's global initialization, once per process, whichever step (HTTP
// request, DoH, the control client) comes first and from whichever thread:
// curl_global_init is not thread-safe, so no two callers may race into it.
#pragma once

namespace vantage::net {

void curl_global_init_once();

}  // namespace vantage::net
