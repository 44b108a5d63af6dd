// TCP connect with its own timeout (non-blocking connect + poll). Returns the
// observation and, on success, the connected socket for the next step.
// Never blocks longer than its timeout.
#pragma once

#include <chrono>
#include <string>

#include "probe/net/socket.h"
#include "probe/net/step_clock.h"
#include "reports/format/observations.h"

namespace vantage::net {

struct TcpConnectResult {
  format::TcpConnectObservation observation;
  Socket socket;  // valid only when observation.failure is empty
};

TcpConnectResult tcp_connect(const std::string& ip, int port, std::chrono::milliseconds timeout,
                             const StepContext& ctx);

}  // namespace vantage::net
