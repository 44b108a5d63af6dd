// The verdict's rules, one per layer, run in order by judge_endpoint()
// (verdict.cpp). Each looks at its own layer of one endpoint's evidence and
// either adds evidence, decides the endpoint (Judgement::decided), or both.
// Internal to analysis/verdict; each file has its own tests
// (analysis/verdict/tests/rules_test.cpp).
#pragma once

#include "analysis/verdict/rules/judgement.h"

namespace vantage::analysis::rules {

// DNS (dns.cpp). What the name's lookups say: the system lookup failed
// (blocked, down, or the probe's own trouble), a DNS-only endpoint's answers
// (bogon, injected, outside the known networks), and for other endpoints
// evidence about the measured address (Judgement::suspect_answer). Decides
// on a lookup failure and for DNS-only endpoints.
void judge_dns(Judgement& j);
// A later step failed at an address the DNS should not have given: DNS is
// blamed for it. Decides when a step failed and the answer is suspect.
void judge_failure_at_suspect_address(Judgement& j, const ChainOutcome& chain);

// The rules after the DNS, in the order judge_endpoint() runs them: a failed
// step is DNS's (suspect address), TCP's, TLS's, an HTTP outage, a
// failed app exchange, a throttled body or an HTTP failure; with every step done, a wrong status or
// a slow sample.
//
// TCP (tcp.cpp): the connect failed. Decides when it did.
void judge_tcp(Judgement& j, const ChainOutcome& chain);

// TLS (tls.cpp): the handshake failed. Decides when it did.
void judge_tls(Judgement& j, const ChainOutcome& chain);

// Application protocol (app_protocol.cpp): the connect was accepted (on a
// tls or https endpoint, the TLS handshake completed too), then the app's
// opening bytes met a reset, a close or silence (x_app_exchanges).
// Decides when the exchange failed: down when the control cannot connect
// either (or, inside TLS, cannot complete the handshake), else blocked by
// "app_protocol" (the helper connects but cannot run the exchange, so the
// probe's own accepted connect and the canary decide).
void judge_app_protocol(Judgement& j, const ChainOutcome& chain);

// HTTP (http.cpp). The request failed from the control too (decides: down).
void judge_http_failure_down(Judgement& j, const ChainOutcome& chain);
// The request failed (decides: blocked by http).
void judge_http_failure(Judgement& j, const ChainOutcome& chain);
// The request succeeded with another status than the control's (decides).
void judge_http_status(Judgement& j, const ChainOutcome& chain);

// Throughput (throughput.cpp). A request that timed out while the body was
// still flowing, far below the canary (decides: throttling).
void judge_throughput_on_failure(Judgement& j, const ChainOutcome& chain);
// A successful request's throughput sample, far below the canary.
void judge_throughput(Judgement& j, const ChainOutcome& chain);

}  // namespace vantage::analysis::rules
