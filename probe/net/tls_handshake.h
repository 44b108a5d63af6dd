// TLS handshake with OpenSSL over an already connected socket: chosen SNI and
// ALPN, records version, cipher, ALPN and the full peer chain (DER), verifies
// against the system store, a CA bundle file and/or pinned PEM certificates.
// Failures map to ssl_unknown_authority, ssl_invalid_hostname,
// ssl_invalid_certificate, connection_reset, eof_error,
// generic_timeout_error, ssl_failed_handshake. Never blocks past its timeout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "probe/net/socket.h"
#include "probe/net/step_clock.h"
#include "reports/format/observations.h"

namespace vantage::net {

struct TlsTrust {
  bool system_store = true;           // the OS's roots
  std::string ca_bundle_file;         // extra PEM file (--ca-bundle); "" = none
  std::string pinned_pem;             // extra PEM certificates (catalog pins)
  bool verify = true;                 // false = record chain, don't judge
};

struct TlsOptions {
  std::string server_name;          // SNI and the name verified
  std::vector<std::string> alpn;    // e.g. {"h2","http/1.1"}
  TlsTrust trust;
  std::chrono::milliseconds timeout{10000};
};

format::TlsHandshakeObservation tls_handshake(Socket& socket, const std::string& address,
                                              const TlsOptions& options, const StepContext& ctx);

}  // namespace vantage::net
