// Mapping of system, resolver, TLS and libcurl errors to OONI failure strings
// (df-007). Every primitive reports failures through these functions so the
// same condition is always spelled the same way. Never throws.
#pragma once

#include <string>

namespace vantage::net {

// errno from connect/read/write → "connection_refused", "connection_reset",
// "generic_timeout_error", "host_unreachable", "network_unreachable", ...;
// unknown values become "unknown_failure: <strerror>".
std::string failure_from_errno(int err);

// getaddrinfo's EAI_* code (and errno for EAI_SYSTEM) → "dns_nxdomain_error",
// "dns_temporary_failure", "dns_no_answer", "dns_non_recoverable_failure", ...
std::string failure_from_getaddrinfo(int eai, int err);

// DNS response code → "dns_nxdomain_error" (3), "dns_refused_error" (5),
// "dns_servfail_error" (2), ...; rcode 0 returns "".
std::string failure_from_rcode(int rcode);

}  // namespace vantage::net
