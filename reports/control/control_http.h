// The control helper's HTTP endpoint as a plain function (served by
// vantage-testhelper and, with --control, by vantage-collector). Serving
// only: what is measured and refused is test_helper.cpp's.
#pragma once

#include <cstddef>

#include "reports/control/test_helper.h"
#include "reports/server/http_server.h"

namespace vantage::control {

// A control request is a URL, a few headers and at most 64 ip:port entries:
// a few KB. Larger bodies are refused before they are read.
inline constexpr std::size_t kMaxControlBody = 64 * 1024;

server::Response http_control(const server::Request& req, const ControlOptions& options);

}  // namespace vantage::control
