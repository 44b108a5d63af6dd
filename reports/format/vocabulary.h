// The words the probe, the verdict and the tools agree on: endpoint,
// feature and service statuses, blocking methods, and the failure strings
// that logic (not only display) depends on. One spelling each, so a typo is
// a compile error instead of a verdict that silently never matches.
// The strings are part of the stored format (reports/README.md): changing
// one changes every measurement already on disk.
#pragma once

namespace vantage::vocab {

// Endpoint statuses (x_verdict.endpoints[].status).
inline constexpr const char* kOk = "ok";
inline constexpr const char* kBlocked = "blocked";
inline constexpr const char* kDown = "down";
inline constexpr const char* kInconclusive = "inconclusive";
// Feature and service statuses besides blocked, down and inconclusive.
inline constexpr const char* kAccessible = "accessible";
inline constexpr const char* kPartiallyBlocked = "partially_blocked";
// The canary's status (x_canary.status) besides "ok".
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kAbsent = "absent";

// Blocking methods (x_verdict.methods, endpoint "method").
inline constexpr const char* kMethodDns = "dns";
inline constexpr const char* kMethodTcpIp = "tcp_ip";
inline constexpr const char* kMethodTls = "tls";
inline constexpr const char* kMethodHttp = "http";
inline constexpr const char* kMethodThrottling = "throttling";
// Accepted, then cut or starved once the app's own opening bytes were sent
// (an application-level exchange, x_app_exchanges).
inline constexpr const char* kMethodAppProtocol = "app_protocol";

// Feature rules (x_features.<name>.rule).
inline constexpr const char* kRuleAny = "any";
inline constexpr const char* kRuleAll = "all";

// Address families (x_endpoints[].family, x_verdict's "families").
inline constexpr const char* kFamilyIpv4 = "ipv4";
inline constexpr const char* kFamilyIpv6 = "ipv6";

// Chains (x_endpoints[].chain; the catalog's names).
inline constexpr const char* kChainDns = "dns";
inline constexpr const char* kChainTcp = "tcp";
inline constexpr const char* kChainTls = "tls";
inline constexpr const char* kChainHttp = "http";
inline constexpr const char* kChainHttps = "https";
// The step after the connect that sends the app's opening bytes (the
// verdict's failed-step name for it; not a chain of its own).
inline constexpr const char* kStepAppExchange = "app_exchange";

// Failure strings (OONI df-007 where OONI has one) that logic tests for.
inline constexpr const char* kInterrupted = "interrupted";  // not measured: Ctrl-C or the deadline
inline constexpr const char* kTimeout = "generic_timeout_error";
inline constexpr const char* kEof = "eof_error";  // closed before any byte came back
inline constexpr const char* kDnsBogon = "dns_bogon_error";
inline constexpr const char* kDnsNoAnswer = "dns_no_answer";
inline constexpr const char* kUnexpectedStatus = "http_unexpected_status_code";

// Observation tags.
inline constexpr const char* kTagRetry = "x_retry";      // a retry's observations
inline constexpr const char* kTagRetried = "x_retried";  // an attempt that was retried

}  // namespace vantage::vocab
