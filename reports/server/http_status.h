// The reason text Vantage's servers put in {"error": ...} for statuses that
// the server layer answers by itself (no route, oversized body, ...).
#pragma once

#include <string>

namespace vantage::server {

// `not_found_hint` tells a client what the server does serve.
std::string http_status_text(int status, const std::string& not_found_hint);

}  // namespace vantage::server
