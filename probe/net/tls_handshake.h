// TLS handshake with OpenSSL over an already connected socket: chosen SNI and
// ALPN, records version, cipher, ALPN and the full peer chain (DER), verifies
// against the system store, a CA bundle file and/or pinned PEM certificates.
// Failures map to ssl_unknown_authority, ssl_invalid_hostname,
// ssl_invalid_certificate, connection_reset, eof_error,
// generic_timeout_error, ssl_failed_handshake. Never blocks past its timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "probe/net/socket.h"
#include "probe/net/step_clock.h"
#include "reports/format/observations.h"

struct x509_store_st;  // OpenSSL's X509_STORE, kept out of this header
struct ssl_ctx_st;     // OpenSSL's SSL_CTX
struct ssl_st;         // OpenSSL's SSL

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
  // Run on the established session when the handshake succeeded (and the
  // chain verified), before the close_notify: an application exchange inside
  // TLS (app_exchange_tls), on the handshake's own connection, SNI and
  // verification. The socket is non-blocking meanwhile; the observation's
  // `t` is the handshake's end, not the callback's. Empty = none.
  std::function<void(::ssl_st* ssl, int fd)> established;
};

// `socket` must be connected; blocking or not, its file-status flags are the
// same on return. On return the TLS session is closed (close_notify sent when
// the handshake completed, after `established` ran); the socket stays open
// and owned by the caller.
// SIGPIPE raised by writes to a dead peer is blocked and discarded.
format::TlsHandshakeObservation tls_handshake(Socket& socket, const std::string& address,
                                              const TlsOptions& options, const StepContext& ctx);

// Shared with http_request, which verifies through libcurl's OpenSSL context.

// X509_V_ERR_* verification result → ssl_invalid_hostname,
// ssl_unknown_authority or ssl_invalid_certificate ("" for X509_V_OK).
std::string failure_from_verify_result(long verify_result);

// Adds the trust anchors `trust` names (system store, bundle file, pinned PEM)
// to an OpenSSL X509_STORE. Returns "" or an "unknown_failure: ..." string
// naming what could not be loaded.
//
// The system store is read the way OpenSSL's defaults name it (SSL_CERT_FILE,
// SSL_CERT_DIR, else OPENSSLDIR's cert.pem and certs/), with one difference:
// when the certificate directory holds hashed names (NNNNNNNN.D, as Debian's
// update-ca-certificates and `openssl rehash` make them), only the directory
// is used, and OpenSSL reads an anchor from it when a chain needs it. Loading
// the bundle file parses every root (~140, about 2 MB of the probe's memory)
// for the two or three a run uses. Without hashed names, or with SSL_CERT_FILE
// set, the bundle file is loaded as well, as OpenSSL's defaults do.
std::string add_trust_anchors(const TlsTrust& trust, ::x509_store_st* store);

// Whether any of `dirs` (':'-separated, as SSL_CERT_DIR) holds a hashed
// certificate name (8 hex digits, '.', a number).
bool has_hashed_certificates(const std::string& dirs);

// Makes `ctx` verify against the anchors `trust` names, from a store built
// once per distinct trust setting and shared (read-only) by every handshake
// of the process: loading the system store costs tens of milliseconds of
// CPU, which many concurrent handshakes (the control's helper, a full run)
// would otherwise pay each. Returns "" or the add_trust_anchors error.
std::string use_trust_anchors(const TlsTrust& trust, ::ssl_ctx_st* ctx);

}  // namespace vantage::net
