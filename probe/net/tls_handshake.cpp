// TLS handshake with OpenSSL 3 over a connected socket. See tls_handshake.h.
//
// The handshake always runs with SSL_VERIFY_NONE and the chain is judged
// afterwards from SSL_get_verify_result(): that way a forged or broken chain
// is still recorded (with version, cipher and ALPN) as evidence, and the
// failure is named precisely instead of as a generic handshake alert.
// Never blocks past options.timeout; never closes the caller's socket.
#include "probe/net/tls_handshake.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <tuple>

#include "probe/net/failure.h"

namespace vantage::net {

namespace {

using Clock = std::chrono::steady_clock;

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

// OpenSSL's socket BIO writes with write(), so a peer that has gone away
// raises SIGPIPE, which would kill the probe. Block it on this thread for the
// duration and swallow any SIGPIPE we caused, leaving the process's
// disposition alone (the engine may run many handshakes concurrently).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    already_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
  }
  ~SigpipeBlock() {
    if (!already_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_only, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t old_mask_;
  bool already_pending_ = false;
};

// ALPN protocol list in wire format: length-prefixed names.
std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& name : protocols) {
    if (name.empty() || name.size() > 255) continue;
    wire.push_back(static_cast<char>(name.size()));
    wire += name;
  }
  return wire;
}

std::string der_of(X509* cert) {
  int length = i2d_X509(cert, nullptr);
  if (length <= 0) return {};
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &out);
  return der;
}

// The chain as the server sent it, leaf first (on the client side
// SSL_get_peer_cert_chain includes the leaf). This is what OONI's
// peer_certificates means; the locally built chain would add our own root.
std::vector<std::string> peer_chain(SSL* ssl) {
  std::vector<std::string> chain;
  STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl);
  if (sent != nullptr) {
    for (int i = 0; i < sk_X509_num(sent); ++i) chain.push_back(der_of(sk_X509_value(sent, i)));
  } else if (X509* leaf = SSL_get0_peer_certificate(ssl)) {
    chain.push_back(der_of(leaf));
  }
  return chain;
}

// Names a handshake that stopped with SSL_get_error() == `ssl_error`.
// `sys_errno` is errno right after the failing call.
std::string failure_from_ssl_error(int ssl_error, int sys_errno) {
  unsigned long queued = ERR_peek_error();
  if (queued != 0 && ERR_GET_LIB(queued) == ERR_LIB_SYS && ERR_GET_REASON(queued) != 0) {
    return failure_from_errno(ERR_GET_REASON(queued));
  }
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return "eof_error";
    case SSL_ERROR_SYSCALL:
      // No errno: the peer closed the connection without an alert.
      return sys_errno != 0 ? failure_from_errno(sys_errno) : "eof_error";
    case SSL_ERROR_SSL:
      if (queued != 0 && ERR_GET_LIB(queued) == ERR_LIB_SSL &&
          ERR_GET_REASON(queued) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        return "eof_error";
      }
      return "ssl_failed_handshake";
    default:
      return "ssl_failed_handshake";
  }
}

// Runs SSL_connect until done, a failure, or the deadline. Returns "" or
// the failure string.
std::string run_handshake(SSL* ssl, int fd, Clock::time_point deadline) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int ret = SSL_connect(ssl);
    const int sys_errno = errno;
    if (ret == 1) return "";
    const int ssl_error = SSL_get_error(ssl, ret);
    short events = 0;
    if (ssl_error == SSL_ERROR_WANT_READ) {
      events = POLLIN;
    } else if (ssl_error == SSL_ERROR_WANT_WRITE) {
      events = POLLOUT;
    } else {
      return failure_from_ssl_error(ssl_error, sys_errno);
    }
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return "generic_timeout_error";
      pollfd pfd{fd, events, 0};
      int ready = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
      if (ready > 0) break;  // readable, writable, or an error SSL_connect will report
      if (ready < 0 && errno != EINTR) return failure_from_errno(errno);
    }
  }
}

}  // namespace

std::string failure_from_verify_result(long verify_result) {
  switch (verify_result) {
    case X509_V_OK:
      return "";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "ssl_invalid_hostname";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return "ssl_unknown_authority";
    default:
      return "ssl_invalid_certificate";
  }
}

bool has_hashed_certificates(const std::string& dirs) {
  auto hashed = [](const std::string& name) {
    if (name.size() < 10 || name[8] != '.') return false;
    for (std::size_t i = 0; i < 8; ++i)
      if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
    for (std::size_t i = 9; i < name.size(); ++i)
      if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
    return true;
  };
  std::istringstream list(dirs);
  for (std::string dir; std::getline(list, dir, ':');) {
    std::error_code ec;
    if (dir.empty()) continue;
    for (std::filesystem::directory_iterator it(dir, ec), done; !ec && it != done; it.increment(ec))
      if (hashed(it->path().filename().string())) return true;
  }
  return false;
}

namespace {

// The system's roots: see add_trust_anchors in the header.
bool add_system_store(X509_STORE* store) {
  const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
  const std::string dirs = dir_env ? dir_env : X509_get_default_cert_dir();
  if (std::getenv(X509_get_default_cert_file_env()) == nullptr && has_hashed_certificates(dirs)) {
    X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    return lookup != nullptr && X509_LOOKUP_add_dir(lookup, dirs.c_str(), X509_FILETYPE_PEM) == 1;
  }
  return X509_STORE_set_default_paths(store) == 1;
}

}  // namespace

std::string add_trust_anchors(const TlsTrust& trust, ::x509_store_st* store) {
  if (trust.system_store && !add_system_store(store)) {
    return "unknown_failure: cannot load the system certificate store";
  }
  if (!trust.ca_bundle_file.empty() &&
      X509_STORE_load_file(store, trust.ca_bundle_file.c_str()) != 1) {
    return "unknown_failure: cannot load CA bundle " + trust.ca_bundle_file;
  }
  if (!trust.pinned_pem.empty()) {
    std::unique_ptr<BIO, BioFree> bio(
        BIO_new_mem_buf(trust.pinned_pem.data(), static_cast<int>(trust.pinned_pem.size())));
    if (!bio) return "unknown_failure: out of memory";
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      // Adding a certificate already in the store is not an error worth failing on.
      X509_STORE_add_cert(store, cert);
      X509_free(cert);
      ++added;
    }
    if (added == 0) return "unknown_failure: no certificate in the pinned PEM";
  }
  ERR_clear_error();  // PEM_read_bio_X509 leaves "no start line" at the end
  return "";
}

std::string use_trust_anchors(const TlsTrust& trust, ::ssl_ctx_st* ctx) {
  using Key = std::tuple<bool, std::string, std::string>;
  static std::mutex mu;
  // Process lifetime (never destroyed, so still reachable at exit); a few
  // trust settings at most.
  static auto& stores = *new std::map<Key, X509_STORE*>();
  constexpr std::size_t kMaxStores = 32;
  const Key key{trust.system_store, trust.ca_bundle_file, trust.pinned_pem};
  std::lock_guard lock(mu);
  if (auto it = stores.find(key); it != stores.end()) {
    SSL_CTX_set1_cert_store(ctx, it->second);
    return "";
  }
  X509_STORE* store = X509_STORE_new();
  if (!store) return "unknown_failure: out of memory";
  std::string error = add_trust_anchors(trust, store);
  if (!error.empty()) {
    X509_STORE_free(store);
    return error;
  }
  SSL_CTX_set1_cert_store(ctx, store);
  if (stores.size() < kMaxStores) stores.emplace(key, store);  // keeps our reference
  else X509_STORE_free(store);                                 // the context keeps its own
  return "";
}

namespace {

// One client context per trust setting, shared by every handshake that uses
// it (SSL_new on a finished context is safe from any thread): a context of
// its own per handshake cost SSL_CTX_new's time and ~4 KB each. The session
// cache is off, so every handshake is a full one, as a measurement must be.
// Buffers are released while a connection waits on the network: of the
// ~100 KB a handshake holds, its 37 KB of record buffers are held only while
// a record is being read or written (most handshakes of a run wait at once).
// Returns an owned reference (nullptr with `error` set on failure).
SSL_CTX* client_context(const TlsTrust& trust, std::string& error) {
  using Key = std::tuple<bool, bool, std::string, std::string>;
  static std::mutex mu;
  // Process lifetime (never destroyed, so still reachable at exit); a few
  // trust settings at most.
  static auto& contexts = *new std::map<Key, SSL_CTX*>();
  constexpr std::size_t kMaxContexts = 32;
  Key key{trust.verify, trust.system_store, trust.ca_bundle_file, trust.pinned_pem};
  if (!trust.verify) key = Key{false, false, "", ""};  // nothing is loaded
  std::lock_guard lock(mu);
  if (auto it = contexts.find(key); it != contexts.end()) {
    SSL_CTX_up_ref(it->second);
    return it->second;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    error = "unknown_failure: SSL_CTX_new failed";
    return nullptr;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (trust.verify) {
    error = use_trust_anchors(trust, ctx);
    if (!error.empty()) {
      SSL_CTX_free(ctx);
      return nullptr;
    }
  }
  if (contexts.size() < kMaxContexts) {
    contexts.emplace(key, ctx);  // keeps this reference
    SSL_CTX_up_ref(ctx);
  }
  return ctx;
}

}  // namespace

format::TlsHandshakeObservation tls_handshake(Socket& socket, const std::string& address,
                                              const TlsOptions& options, const StepContext& ctx) {
  SigpipeBlock sigpipe_block;
  format::TlsHandshakeObservation obs;
  obs.address = address;
  obs.server_name = options.server_name;
  obs.alpn = options.alpn;
  obs.no_tls_verify = !options.trust.verify;
  obs.transaction_id = ctx.transaction_id;
  obs.t0 = ctx.clock ? ctx.clock->now() : 0;
  const auto deadline = Clock::now() + options.timeout;
  bool timed = false;  // `t` already taken (before the established callback)
  auto finish = [&](std::string failure) {
    if (!timed) obs.t = ctx.clock ? ctx.clock->now() : 0;
    if (!failure.empty()) obs.failure = std::move(failure);
    ERR_clear_error();  // leave no errors behind on this thread
    return std::move(obs);
  };

  if (!socket.valid()) return finish("unknown_failure: socket is not connected");
  std::string ctx_error;
  std::unique_ptr<SSL_CTX, SslCtxFree> ssl_ctx(client_context(options.trust, ctx_error));
  if (!ssl_ctx) return finish(ctx_error);

  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ssl_ctx.get()));
  if (!ssl) return finish("unknown_failure: SSL_new failed");
  const bool name_is_ip = is_ip_literal(options.server_name);
  // RFC 6066: SNI carries host names only, never IP literals.
  if (!options.server_name.empty() && !name_is_ip) {
    SSL_set_tlsext_host_name(ssl.get(), options.server_name.c_str());
  }
  if (options.trust.verify && !options.server_name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int ok = name_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, options.server_name.c_str())
                        : X509_VERIFY_PARAM_set1_host(param, options.server_name.c_str(), 0);
    if (ok != 1) return finish("unknown_failure: cannot verify name " + options.server_name);
  }
  if (std::string wire = alpn_wire(options.alpn); !wire.empty()) {
    SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }

  const int fd = socket.fd();
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return finish(failure_from_errno(errno));
  }
  if (SSL_set_fd(ssl.get(), fd) != 1) {
    ::fcntl(fd, F_SETFL, flags);
    return finish("unknown_failure: SSL_set_fd failed");
  }

  std::string failure = run_handshake(ssl.get(), fd, deadline);
  obs.peer_certificates = peer_chain(ssl.get());
  if (failure.empty()) {
    obs.tls_version = SSL_get_version(ssl.get());
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl.get())) {
      if (const char* name = SSL_CIPHER_standard_name(cipher)) obs.cipher_suite = name;
    }
    const unsigned char* selected = nullptr;
    unsigned selected_length = 0;
    SSL_get0_alpn_selected(ssl.get(), &selected, &selected_length);
    if (selected != nullptr) {
      obs.negotiated_protocol.assign(reinterpret_cast<const char*>(selected), selected_length);
    }
    if (options.trust.verify) failure = failure_from_verify_result(SSL_get_verify_result(ssl.get()));
    if (failure.empty() && options.established) {
      obs.t = ctx.clock ? ctx.clock->now() : 0;
      timed = true;
      options.established(ssl.get(), fd);
      ERR_clear_error();
    }
    // One close_notify, no wait for the peer's: the HTTP step connects anew.
    SSL_shutdown(ssl.get());
  }
  ssl.reset();
  ::fcntl(fd, F_SETFL, flags);
  return finish(failure);
}

}  // namespace vantage::net
