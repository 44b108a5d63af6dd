// The one function that turns a measurement's raw observations into
// Vantage's verdict (test_keys.x_verdict). The probe calls it for its
// summary; the analysis tools call it again on stored measurements, so it
// reads only what the measurement itself contains (observations plus the
// plan the probe recorded: x_endpoints, x_features, x_networks, x_canary,
// x_control) and gives the same answer on a measurement read back from disk.
// Never throws on malformed input: missing pieces make endpoints
// "inconclusive".
//
// Endpoint status: ok | blocked (with method dns, tcp_ip, tls, app_protocol, http,
// throttling) | down (the control vantage point fails the same way) |
// inconclusive (the probe's own network failed its canary, or the
// measurement was interrupted).
// An endpoint whose host is an IP literal is reached by address: it has no
// DNS step, so DNS evidence never decides it (the chain is judged from TCP).
// Feature rules: "any" (redundant endpoints: one working is enough) or
// "all" (every endpoint needed), applied per address family
// (x_endpoints[].family; endpoints without an address count in every
// family measured), the families then combined by combine_families(). Service status: accessible, blocked,
// partially_blocked, down or inconclusive, from the feature statuses by the
// one table in service_status() (documented in reports/README.md).
#pragma once

#include <nlohmann/json.hpp>

namespace vantage::analysis {

// Thresholds that decide throttling; exposed for tests and re-scoring.
struct VerdictPolicy {
  // A service flow slower than this fraction of the canary's throughput...
  double throttling_ratio = 0.25;
  // ...and slower than this absolute rate (kbit/s) is throttled. Policing
  // censors hold flows to a few hundred kbit/s (Russia 2021: ~140); a flow
  // on a lossy link can measure several times below the canary by chance
  // (seen in the lab: 1110 vs 6447 kbit/s at 3% loss), so the absolute bound
  // is what keeps a bad link from being called throttling.
  double throttling_max_kbps = 500;
  // Below this many body bytes a throughput figure is not judged.
  double throughput_min_bytes = 16 * 1024;
  // A request that timed out mid-body, or whose throughput sample ended,
  // was still flowing when its last byte came less than this long before
  // the end (a policer dropping packets leaves gaps of an RTO or two); its
  // partial rate is judged like a throughput sample. A longer silence is a
  // stall: the timeout stands.
  double flowing_max_stall_seconds = 2.0;
};

// How many judged features of a service ended in each status.
struct FeatureCounts {
  int accessible = 0, blocked = 0, down = 0, inconclusive = 0;
  int partially_blocked = 0;  // blocked over one address family, accessible over the other
};

// A feature's status from its statuses per address family (each judged by
// the feature's rule over that family's endpoints; "" = not measured):
//   the same in both                     -> that status
//   blocked and accessible               -> partially_blocked (an app on
//                                           this network works only over
//                                           the accessible family)
//   blocked and down or inconclusive     -> blocked
//   accessible and down or inconclusive  -> accessible (the apps fall back)
//   down and inconclusive                -> inconclusive
std::string combine_families(const std::string& a, const std::string& b);

// The service status from its features' statuses (canary_ok false: the
// probe's own network failed, so "inconclusive"). Only which statuses occur
// matters, not how often:
//   no judged feature                         -> inconclusive
//   any partially_blocked                     -> partially_blocked
//   only blocked                              -> blocked
//   blocked and anything else                 -> partially_blocked
//   no blocked, some inconclusive             -> inconclusive
//   no blocked or inconclusive, some down     -> down (working features
//                                                 beside down ones included:
//                                                 an outage that left DNS up)
//   only accessible                           -> accessible
std::string service_status(const FeatureCounts& counts, bool canary_ok = true);

// Computes x_verdict from test_keys (the measurement's "test_keys" object).
nlohmann::json compute_verdict(const nlohmann::json& test_keys, const VerdictPolicy& policy = {});

// Throughput in kbit/s of one httpt request entry, or a negative value when
// it cannot be judged (failure, too few bytes, no timing).
double request_throughput_kbps(const nlohmann::json& request, const VerdictPolicy& policy = {});

// Throughput in kbit/s of a request that ended before its body did (timed
// out, or its throughput sample ended) while the body was still flowing, or
// a negative value (complete body, too few bytes, stalled, no timing).
double partial_transfer_kbps(const nlohmann::json& request, const VerdictPolicy& policy = {});

}  // namespace vantage::analysis
