// What the verdict's rules share: one measurement's plan and evidence,
// parsed once into the typed model (reports/format/plan.h), the raw OONI
// observations looked up by transaction, and the judgement of one endpoint
// that the rules (rules.h) add evidence to and decide.
// Internal to analysis/verdict: verdict.h is the public contract.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/verdict/verdict.h"
#include "reports/format/plan.h"
#include "reports/format/vocabulary.h"

namespace vantage::analysis::rules {

// One measurement's test_keys: the plan typed, the observations raw (OONI's
// arrays, read by transaction id below).
struct Measurement {
  const nlohmann::json* keys = nullptr;  // an object (compute_verdict guarantees it)
  std::vector<format::PlannedEndpoint> endpoints;
  std::vector<format::Feature> features;
  format::Networks networks;
  std::optional<format::Canary> canary;
  std::optional<format::ControlRecord> control;
  bool canary_ok = true;     // no canary recorded counts as ok
  double canary_kbps = -1;   // -1: no figure

  // Parses the plan out of `test_keys` (which must outlive this).
  static Measurement parse(const nlohmann::json& test_keys);
};

// Observations of one transaction in `array` ("queries", "tcp_connect", ...).
// A negative id means "no transaction": it matches nothing.
std::vector<const nlohmann::json*> by_transaction(const nlohmann::json& keys, const char* array, int64_t tx);
// An observation's failure ("" = none): status.failure for tcp_connect.
std::string failure_of(const nlohmann::json& observation);
std::string str(const nlohmann::json& j, const char* key);

struct EndpointVerdict {
  std::string status = vocab::kInconclusive;
  std::string method;
  std::string failure;
  std::vector<std::string> evidence;
};

// One endpoint being judged. The rules note evidence and decide it; once
// decided, later rules are not run.
class Judgement {
 public:
  Judgement(const Measurement& m, const format::PlannedEndpoint& ep, const VerdictPolicy& policy);

  const Measurement& m;
  const format::PlannedEndpoint& ep;
  const VerdictPolicy& policy;
  // The control's answer for this endpoint; null when there is none or the
  // question failed (a failed question is no evidence at all).
  const format::ControlResponse* control = nullptr;
  std::string addr;  // "ip:port" / "[v6]:port" of the measured address
  EndpointVerdict v;
  bool decided = false;
  // Set by the DNS rule: the measured address should not have been given
  // (outside the known networks, or an injected answer).
  bool suspect_answer = false;

  void note(const std::string& why) { v.evidence.push_back(why); }
  // Blocked by `method`, unless the probe's own network failed its canary.
  void blame(const std::string& method, const std::string& failure, const std::string& why);
  // Fails from the control too: an outage.
  void down(const std::string& failure, const std::string& why);
  void ok();
  // Not judged any further: stays inconclusive.
  void undecided(const std::string& failure, const std::string& why);

  // The control's view (all "not measured" without an answer).
  std::vector<std::string> control_dns_addrs() const;
  bool control_dns_failed() const;
  int control_tcp() const;  // for addr: 1 connected, 0 failed, -1 not measured
  int control_tls() const;  // likewise
  bool control_http_failed() const;
  int64_t control_http_status() const;  // -1 none
};

// How the chain's final attempt ended.
struct ChainOutcome {
  std::string failed_step;  // "tcp" | "tls" | "app_exchange" | "http" | "" (none failed)
  std::string failure;
  const nlohmann::json* request = nullptr;  // its last HTTP request, if any
  const nlohmann::json* exchange = nullptr;  // the failed app exchange, if that failed
  bool complete = false;  // no failure and the last step is on record as a success
  int64_t attempts = 1;
  std::string retry_note() const;  // " (after N attempts)" or ""
};
ChainOutcome chain_outcome(const Judgement& j);

}  // namespace vantage::analysis::rules
