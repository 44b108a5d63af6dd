// The throughput layer's rules, and the throughput figures verdict.h
// exports. See rules.h.
#include <cstdint>

#include "analysis/verdict/rules/rules.h"
#include "reports/format/json_read.h"

namespace vantage::analysis {

using nlohmann::json;

double request_throughput_kbps(const json& request, const VerdictPolicy& policy) {
  if (!request.is_object() || !rules::str(request, "failure").empty() || !request.contains("response")) return -1;
  const auto& r = request["response"];
  if (!r.is_object()) return -1;
  double bytes = r.contains("x_body_bytes") && r["x_body_bytes"].is_number() ? r["x_body_bytes"].get<double>() : 0;
  double secs = r.contains("x_download_seconds") && r["x_download_seconds"].is_number()
                    ? r["x_download_seconds"].get<double>()
                    : 0;
  if (bytes < policy.throughput_min_bytes || secs <= 0) return -1;
  return bytes * 8 / secs / 1000;
}

double partial_transfer_kbps(const json& request, const VerdictPolicy& policy) {
  if (!request.is_object() || !request.contains("response") || !request["response"].is_object()) return -1;
  const auto& r = request["response"];
  const std::string failure = rules::str(request, "failure");
  // Ended early: timed out, or the sample ended with the body cut short.
  const bool timed_out = failure == vocab::kTimeout;
  const bool cut = failure.empty() && format::read_bool(r, "body_is_truncated", false) && rules::str(r, "x_download_stopped") == "window";
  if (!timed_out && !cut) return -1;
  auto number = [&](const char* key) { return r.contains(key) && r[key].is_number() ? r[key].get<double>() : -1.0; };
  const double bytes = number("x_body_bytes"), secs = number("x_download_seconds"), stall = number("x_body_stall_seconds");
  if (bytes < policy.throughput_min_bytes || secs <= 0 || stall < 0 || stall > policy.flowing_max_stall_seconds) return -1;
  return bytes * 8 / secs / 1000;
}

namespace rules {
namespace {

std::string canary_note(double canary_kbps) {
  return canary_kbps > 0 ? ", canary " + std::to_string(static_cast<int64_t>(canary_kbps)) + " kbit/s" : "";
}

bool far_below_canary(const Judgement& j, double kbps) {
  const double canary = j.m.canary_kbps;
  return canary > 0 && kbps < j.policy.throttling_ratio * canary && kbps < j.policy.throttling_max_kbps;
}

}  // namespace

void judge_throughput_on_failure(Judgement& j, const ChainOutcome& chain) {
  if (chain.failed_step != vocab::kChainHttp || !chain.request) return;
  // Timed out while the body was still coming, slowly: a policer holding
  // the flow down, judged on the bytes and time received so far.
  const double kbps = partial_transfer_kbps(*chain.request, j.policy);
  if (kbps < 0) return;
  j.note("body still flowing at " + std::to_string(static_cast<int64_t>(kbps)) + " kbit/s when the request timed out" +
         canary_note(j.m.canary_kbps));
  if (far_below_canary(j, kbps)) j.blame(vocab::kMethodThrottling, chain.failure, "throughput far below the probe's own link");
}

void judge_throughput(Judgement& j, const ChainOutcome& chain) {
  if (!chain.failed_step.empty() || !chain.request) return;
  // Throughput endpoints always give a sample; any other endpoint whose
  // body was cut by the time-bounded sample while still flowing does too.
  const bool sampled = j.ep.throughput;
  if (!sampled && partial_transfer_kbps(*chain.request, j.policy) < 0) return;
  const double kbps = sampled ? request_throughput_kbps(*chain.request, j.policy) : partial_transfer_kbps(*chain.request, j.policy);
  if (kbps < 0) return;
  j.note("throughput " + std::to_string(static_cast<int64_t>(kbps)) + " kbit/s" + canary_note(j.m.canary_kbps));
  if (far_below_canary(j, kbps)) j.blame(vocab::kMethodThrottling, "", "throughput far below the probe's own link");
}

}  // namespace rules
}  // namespace vantage::analysis
