// An application-level exchange on a connected TCP socket, or inside a TLS
// session that tls_handshake established on it (app_exchange_tls): sends the
// app's opening bytes and reads what comes back, within a bounded time and
// size.
//
// Contract:
//  - everything in `send` is written (or the write fails); nothing else is
//    ever sent;
//  - reading stops at the first of: `max_read` bytes, the server's close,
//    a reset, the timeout, or — once some bytes came — no more arriving for
//    `settle` (a server that answered and then waits for the client's next
//    message costs no timeout);
//  - any byte back is a success, even if the server closed or reset after
//    it (a server that answers is not blocked); a reset before any byte is
//    "connection_reset", a close before any byte "eof_error", silence
//    "generic_timeout_error";
//  - never blocks longer than `timeout` in total; the socket's flags are
//    restored. Never throws.
// Inside TLS the bytes go out as application data and what is counted and
// kept is the decrypted reply; the server's close_notify or a close without
// one is the close, a TLS error after the handshake is "unknown_failure: ..."
// naming OpenSSL's reason. The session stays open (tls_handshake closes it).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "probe/net/socket.h"
#include "probe/net/step_clock.h"
#include "reports/format/observations.h"

struct ssl_st;  // OpenSSL's SSL, kept out of this header

namespace vantage::net {

struct AppExchangeOptions {
  std::string exchange;  // its name, recorded
  std::string send;      // the bytes to send
  std::size_t max_read = 4096;
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds settle{200};
};

format::AppExchangeObservation app_exchange(const Socket& socket, const std::string& address,
                                            const AppExchangeOptions& options, const StepContext& ctx);

// The same exchange inside an established TLS session on `fd` (called from
// TlsOptions::established, after a verified handshake).
format::AppExchangeObservation app_exchange_tls(::ssl_st* ssl, int fd, const std::string& address,
                                                const AppExchangeOptions& options, const StepContext& ctx);

}  // namespace vantage::net
