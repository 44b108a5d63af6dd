// Error → OONI failure string (df-007). See failure.h.
#include "probe/net/failure.h"

#include <netdb.h>

#include <cerrno>
#include <cstring>

namespace vantage::net {

std::string failure_from_errno(int err) {
  switch (err) {
    case ECONNREFUSED: return "connection_refused";
    case ECONNRESET: return "connection_reset";
    case ECONNABORTED: return "connection_aborted";
    case ETIMEDOUT: return "generic_timeout_error";
    case EHOSTUNREACH: return "host_unreachable";
    case ENETUNREACH: return "network_unreachable";
    case ENETDOWN: return "network_down";
    case ENETRESET: return "network_reset";
    case EPIPE: return "broken_pipe";
    case EADDRINUSE: return "address_in_use";
    case EADDRNOTAVAIL: return "address_not_available";
    case EACCES: return "permission_denied";
    case EPERM: return "operation_not_permitted";
    case EINTR: return "interrupted";
    case EPROTONOSUPPORT: return "protocol_not_supported";
    case ENOBUFS: return "no_buffer_space";
    case EMFILE: return "too_many_open_files";
    default: return std::string("unknown_failure: ") + std::strerror(err);
  }
}

std::string failure_from_getaddrinfo(int eai, int err) {
  switch (eai) {
    case 0: return "";
    case EAI_NONAME: return "dns_nxdomain_error";
#ifdef EAI_NODATA
    case EAI_NODATA: return "dns_no_answer";
#endif
    case EAI_AGAIN: return "dns_temporary_failure";
    case EAI_FAIL: return "dns_non_recoverable_failure";
    case EAI_MEMORY: return "unknown_failure: out of memory";
    case EAI_SYSTEM: return failure_from_errno(err);
    default: return std::string("unknown_failure: ") + gai_strerror(eai);
  }
}

std::string failure_from_rcode(int rcode) {
  switch (rcode) {
    case 0: return "";
    case 1: return "dns_server_misbehaving";  // FORMERR
    case 2: return "dns_servfail_error";
    case 3: return "dns_nxdomain_error";
    case 4: return "dns_server_misbehaving";  // NOTIMP
    case 5: return "dns_refused_error";
    default: return "dns_server_misbehaving";
  }
}

}  // namespace vantage::net
