// Spool → collector. See uploader.h.
#include "probe/upload/uploader.h"

#include "reports/format/measurement.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <random>
#include <tuple>

namespace vantage::upload {

using nlohmann::json;

std::int64_t next_attempt_time(int attempts, std::int64_t now_seconds) {
  constexpr double kBase = 15 * 60;       // OONI: at least 15 minutes
  constexpr double kCap = 24 * 60 * 60;   // never more than a day apart
  const int doublings = std::clamp(attempts - 1, 0, 7);
  std::random_device rd;
  std::mt19937 gen(rd());
  std::exponential_distribution<double> jitter(1.0 / kBase);
  const double delay = std::min(kCap, kBase * (1 << doublings) + jitter(gen));
  return now_seconds + static_cast<std::int64_t>(delay);
}

namespace {

std::string field(const json& m, const char* key) {
  return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : "";
}

// One report per test run: the collector checks that every measurement
// matches its report's test_name, probe_cc and probe_asn.
using GroupKey = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, std::string>;
GroupKey group_of(const json& m) {
  return {field(m, "test_name"),        field(m, "probe_cc"),     field(m, "probe_asn"),
          field(m, "software_name"),    field(m, "software_version"), field(m, "test_version"),
          field(m, "test_start_time")};
}

}  // namespace

UploadSummary upload_pending(spool::Spool& spool, const ClientOptions& options, const UploadPolicy& policy,
                             const std::function<void(const EntryResult&)>& on_entry) {
  UploadSummary summary;
  auto pending = spool.pending(summary.error);
  if (!summary.error.empty()) return summary;
  const std::int64_t now = std::time(nullptr);

  auto record_failure = [&](const spool::Entry& e, const std::string& test_name, const std::string& failure,
                            const std::string& detail) {
    EntryResult r;
    r.id = e.id;
    r.test_name = test_name;
    r.outcome = "failed";
    r.failure = failure;
    r.error = detail;
    r.attempts = e.attempts + 1;
    r.next_attempt = next_attempt_time(r.attempts, now);
    const std::string text = detail.empty() ? failure : failure + " (" + detail + ")";
    if (auto err = spool.mark_failed(e.id, text, r.next_attempt); !err.empty()) r.error += "; spool: " + err;
    ++summary.failed;
    summary.entries.push_back(r);
    if (on_entry) on_entry(r);
  };

  std::map<GroupKey, std::vector<std::pair<spool::Entry, json>>> groups;
  for (const auto& e : pending) {
    if (policy.respect_backoff && e.state == spool::State::failed && e.next_attempt > now) {
      EntryResult r;
      r.id = e.id;
      r.outcome = "skipped";
      r.attempts = e.attempts;
      r.next_attempt = e.next_attempt;
      r.error = e.error;
      ++summary.skipped;
      summary.entries.push_back(r);
      if (on_entry) on_entry(r);
      continue;
    }
    std::string error;
    auto m = spool.load(e.id, error);
    if (!m) {
      record_failure(e, "", "unknown_failure: unreadable_spool_entry", error);
      continue;
    }
    if (!policy.scrub_addresses.empty()) format::scrub_addresses(*m, policy.scrub_addresses);
    groups[group_of(*m)].emplace_back(e, std::move(*m));
  }

  CollectorClient client(options);
  std::string unreachable;  // set after a connection error: the rest fail with it
  for (auto& [key, items] : groups) {
    const std::string test_name = std::get<0>(key);
    if (!unreachable.empty()) {
      for (const auto& [e, m] : items) record_failure(e, test_name, unreachable, "not tried: collector unreachable");
      continue;
    }
    Outcome opened = client.open_report(items.front().second);
    if (!opened.failure.empty()) {
      if (opened.connection_error && policy.stop_when_unreachable) unreachable = opened.failure;
      for (const auto& [e, m] : items) record_failure(e, test_name, opened.failure, "open report: " + opened.error);
      continue;
    }
    bool any_submitted = false;
    for (const auto& [e, m] : items) {
      if (!unreachable.empty()) {
        record_failure(e, test_name, unreachable, "not tried: collector unreachable");
        continue;
      }
      Outcome sent = client.submit(opened.report_id, m);
      if (!sent.failure.empty()) {
        if (sent.connection_error && policy.stop_when_unreachable) unreachable = sent.failure;
        record_failure(e, test_name, sent.failure, sent.error);
        continue;
      }
      any_submitted = true;
      EntryResult r;
      r.id = e.id;
      r.test_name = test_name;
      r.outcome = "uploaded";
      r.measurement_uid = sent.measurement_uid;
      // Acknowledged by the collector: record it. If this write fails (a
      // full disk) the entry stays pending and a later upload resubmits it,
      // which the collector answers with the same UID (idempotent), so
      // nothing is lost or duplicated -- but it is a failure of this run,
      // never reported as "uploaded".
      if (auto err = spool.mark_uploaded(e.id, sent.measurement_uid); !err.empty()) {
        r.outcome = "failed";
        r.failure = "spool_write_failed";
        r.error = "acknowledged as " + sent.measurement_uid + " but not recorded: " + err;
        ++summary.failed;
        summary.entries.push_back(r);
        if (on_entry) on_entry(r);
        continue;
      }
      ++summary.uploaded;
      summary.entries.push_back(r);
      if (on_entry) on_entry(r);
    }
    if (any_submitted && unreachable.empty()) client.close_report(opened.report_id);  // legacy; failure is harmless
  }
  return summary;
}

}  // namespace vantage::upload
